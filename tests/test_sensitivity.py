"""Float decisions under tiny weight noise: the perturbation, the band and the borderline samples."""

import numpy as np
import pytest

from neurodeploy.errors import ConfigError
from neurodeploy.evaluation import evaluate
from neurodeploy.network import Network, Population, Projection
from neurodeploy.quantize import quantize
from neurodeploy.sensitivity import perturbed, sensitivity
from neurodeploy.spikes import SpikeData


def _model_and_samples(seed: int = 0) -> tuple[Network, SpikeData]:
    rng = np.random.default_rng(seed)
    net = Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=40, kind="input"),
            Population(
                name="hidden", size=30, kind="lif", decay_mem=0.95, decay_syn=0.8, threshold=1.0
            ),
            Population(name="output", size=4, kind="li", decay_mem=0.95, decay_syn=0.8),
        ),
        projections=(
            Projection(source="input", target="hidden", weights=rng.normal(0.1, 0.15, (30, 40))),
            Projection(source="hidden", target="hidden", weights=rng.normal(0, 0.1, (30, 30))),
            Projection(source="hidden", target="output", weights=rng.normal(0, 0.3, (4, 30))),
        ),
        readout="sum_voltage",
    )
    spikes = SpikeData.from_dense(
        (rng.random((40, 60, 40)) < 0.05).astype(np.uint8), labels=rng.integers(0, 4, 40)
    )
    return net, spikes


def test_perturbation_is_multiplicative_with_the_given_spread_and_seeded():
    net, _ = _model_and_samples()
    a = perturbed(net, 1e-3, np.random.default_rng(5))
    b = perturbed(net, 1e-3, np.random.default_rng(5))
    for p, q, r in zip(net.projections, a.projections, b.projections, strict=True):
        ratio = q.weights / p.weights - 1.0
        assert 0.8e-3 < ratio.std() < 1.2e-3 and abs(ratio.mean()) < 3e-4
        np.testing.assert_array_equal(q.weights, r.weights)
        np.testing.assert_array_equal(q.delays, p.delays)
    assert a.populations == net.populations


def test_band_and_borderline_samples_grow_with_the_noise():
    net, spikes = _model_and_samples()
    reference = evaluate(net, spikes).predicted
    tiny = sensitivity(net, spikes, relative_noise=1e-12, draws=3)
    np.testing.assert_array_equal(tiny.reference, reference)
    assert not tiny.borderline.any()
    assert tiny.to_json()["accuracy_under_noise"]["min"] == tiny.to_json()["accuracy"]
    large = sensitivity(net, spikes, relative_noise=0.5, draws=3)
    assert large.borderline.any()
    expected = (large.predicted != reference[None, :]).any(axis=0)
    np.testing.assert_array_equal(large.borderline, expected)
    assert large.to_json()["borderline_samples"] == int(expected.sum())
    again = sensitivity(net, spikes, relative_noise=0.5, draws=3, reference=reference)
    np.testing.assert_array_equal(again.predicted, large.predicted)
    np.testing.assert_array_equal(again.borderline, large.borderline)


def test_hardware_model_and_bad_arguments_are_refused():
    net, spikes = _model_and_samples()
    hardware = quantize(net, "loihi2", sensitivity_draws=0).hardware
    with pytest.raises(ConfigError, match="float model"):
        sensitivity(hardware, spikes)
    with pytest.raises(ConfigError, match="draws"):
        sensitivity(net, spikes, draws=0)


def test_quantization_report_marks_borderline_flips():
    net, spikes = _model_and_samples()
    summary = quantize(net, "loihi2", calibration=spikes).report["summary"]
    assert summary["float_noise"]["draws"] == 8
    assert 0 <= summary["flips_on_borderline_samples"] <= summary["prediction_flips"]
    agreement = 1.0 - summary["prediction_flips"] / len(spikes)
    assert summary["prediction_agreement"] == pytest.approx(agreement)
    skipped = quantize(net, "loihi2", calibration=spikes, sensitivity_draws=0).report["summary"]
    assert "float_noise" not in skipped and "prediction_flips" in skipped
