"""Calibration and the quantization report run the calibration samples in batches: the results
equal those of one run of every sample (exactly for counts and ranges, to rounding for means)."""

import numpy as np
import pytest

from neurodeploy.emulator.canonical import simulate
from neurodeploy.network import Network, Population, Projection
from neurodeploy.quantize import quantize
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.decisions import Decisions
from neurodeploy.quantize.report import build_report
from neurodeploy.spikes import SpikeData


def _model_and_samples(seed: int = 0, n_samples: int = 23) -> tuple[Network, SpikeData]:
    rng = np.random.default_rng(seed)
    net = Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=12, kind="input"),
            Population(
                name="hidden", size=9, kind="lif", decay_mem=0.95, decay_syn=0.8, threshold=1.0
            ),
            Population(name="output", size=3, kind="li", decay_mem=0.95, decay_syn=0.8),
        ),
        projections=(
            Projection(
                source="input",
                target="hidden",
                weights=rng.normal(0.3, 0.4, (9, 12)),
                delays=rng.integers(0, 6, (9, 12)).astype(float),
            ),
            Projection(source="hidden", target="hidden", weights=rng.normal(0, 0.2, (9, 9))),
            Projection(source="hidden", target="output", weights=rng.normal(0, 0.5, (3, 9))),
        ),
        readout="sum_voltage",
    )
    spikes = SpikeData.from_dense(
        (rng.random((n_samples, 50, 12)) < 0.1).astype(np.uint8),
        labels=rng.integers(0, 3, n_samples),
    )
    return net, spikes


@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_streamed_calibration_equals_one_run_of_every_sample(batch_size):
    net, spikes = _model_and_samples()
    expected = Calibration.from_recording(net, spikes, simulate(net, spikes))
    got = Calibration.from_data(net, spikes, batch_size=batch_size)
    assert got.n_samples == expected.n_samples == len(spikes)
    assert list(got.spike_counts) == list(expected.spike_counts)
    for name, counts in expected.spike_counts.items():
        assert got.spike_counts[name].dtype == counts.dtype
        np.testing.assert_array_equal(got.spike_counts[name], counts)
    assert got.i_max == expected.i_max and got.v_max == expected.v_max
    assert expected.spike_counts["hidden"].sum() > 0 and expected.v_max["output"] > 0


def _assert_close(a, b, where="report"):
    """Equal structure; ints, strings and None equal; floats within 1e-12."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            _assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=where)
    elif isinstance(a, float):
        assert isinstance(b, float) and abs(a - b) <= 1e-12, (where, a, b)
    else:
        assert a == b and type(a) is type(b), (where, a, b)


@pytest.mark.parametrize("target", ["loihi2", "spinnaker2"])
def test_report_in_batches_equals_report_of_one_batch(target):
    net, spikes = _model_and_samples(seed=1)
    result = quantize(net, target, calibration=spikes, on_overflow="clamp", sensitivity_draws=0)
    layers = result.report["layers"]
    decisions = Decisions(
        populations={name: layer["population"] for name, layer in layers.items()},
        projections={p: d for layer in layers.values() for p, d in layer["incoming"].items()},
    )
    reports = [
        build_report(
            net, result.hardware, decisions, spikes, sensitivity_draws=2, batch_size=batch_size
        )
        for batch_size in (1, 5, len(spikes))
    ]
    one_batch = reports[-1]
    # The comparison has something to compare: spikes differ somewhere, v differs everywhere.
    hidden = one_batch["layers"]["hidden"]["divergence"]
    assert hidden["samples_with_spike_mismatch"] > 0
    assert np.asarray(hidden["v_error_rel"]).any()
    assert "float_noise" in one_batch["summary"]
    for report in reports[:-1]:
        _assert_close(report, one_batch)
    _assert_close(result.report["layers"], one_batch["layers"])
