"""Float → Loihi 2 mapping: grid property, parameter mapping, delays, and exactness where the float
model is representable."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurodeploy.emulator import run as emulate
from neurodeploy.emulator.canonical import simulate
from neurodeploy.errors import ProfileLimitError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.quantize import quantize
from neurodeploy.quantize.grid import best_step, fit_grid
from neurodeploy.quantize.loihi2 import truncation_deficit
from neurodeploy.spikes import SpikeData
from neurodeploy.targets import dequantize


@settings(max_examples=80, deadline=None)
@given(
    weights=hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(-3, 3)),
    mixed=st.booleans(),
)
def test_dequantized_weight_is_within_half_a_step_or_clipped_and_counted(weights, mixed):
    low, high, multiple = (-256, 254, 2) if mixed else (-255, 255, 1)
    step = best_step(weights, low, high, multiple=multiple)
    fit = fit_grid(weights, step, low, high, multiple)
    err = np.abs(weights - fit.ints * fit.step)
    inside = (weights >= low * step - 1e-12) & (weights <= high * step + 1e-12)
    assert (err[inside] <= multiple * step / 2 + 1e-9).all()
    assert (
        fit.clipped
        == int(
            (np.abs(np.rint(weights / (step * multiple))) * multiple > np.maximum(-low, high)).sum()
        )
        or fit.clipped >= (~inside).sum()
    )
    assert fit.ints.min() >= low and fit.ints.max() <= high and (fit.ints % multiple == 0).all()


def _net(weights_in, *, delays=None, decay_mem=1.0, decay_syn=0.0, threshold=1.0, kind="lif"):
    n_post, n_pre = weights_in.shape
    return Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=n_pre, kind="input"),
            Population(
                name="hidden",
                size=n_post,
                kind=kind,
                decay_mem=decay_mem,
                decay_syn=decay_syn,
                threshold=threshold,
            ),
        ),
        projections=(
            Projection(source="input", target="hidden", weights=weights_in, delays=delays),
        ),
        readout="max_voltage",
    )


def test_representable_network_is_emulated_exactly():
    """No leak, no synaptic memory, weights on a power-of-two grid: integer and float arithmetic
    agree exactly, so spikes and v * v_scale equal the float run at every step."""
    rng = np.random.default_rng(3)
    weights = rng.integers(-100, 128, (6, 10)) / 256.0
    weights[0, :2] = 127 / 256, -128 / 256  # the grid that fits all weights is then 2^-9 exactly
    net = _net(weights, delays=rng.integers(0, 8, (6, 10)).astype(float))
    raster = (rng.random((4, 60, 10)) < 0.2).astype(np.uint8)
    x = SpikeData.from_dense(raster, labels=np.zeros(4, int))
    result = quantize(net, "loihi2", calibration=x)
    hw = result.hardware
    divergence = result.report["layers"]["hidden"]["divergence"]
    assert divergence["samples_with_spike_mismatch"] == 0
    assert divergence["first_spike_mismatch_ms"] is None
    assert not np.any(divergence["spikes_unmatched"]) and not np.any(divergence["v_error_rel"])
    assert (
        hw.population("hidden").hw_params["dv"][0] == 0
        and hw.population("hidden").hw_params["du"][0] == 4095
    )
    f = simulate(net, x)["hidden"]
    e = emulate(hw, x)["hidden"]
    assert f.spikes.sum() > 0
    np.testing.assert_array_equal(f.spikes, e.spikes)
    np.testing.assert_array_equal(f.v, e.v * hw.population("hidden").v_scale)


def test_decays_and_threshold_map_to_lava_parameters():
    net = _net(
        np.full((2, 2), 0.3), decay_mem=np.exp(-1 / 20), decay_syn=np.exp(-1 / 5), threshold=1.0
    )
    hw = quantize(net, "loihi2").hardware.population("hidden")
    assert hw.hw_params["dv"][0] == round(4096 * (1 - np.exp(-1 / 20)))
    assert hw.hw_params["du"][0] == 4095 - round(4096 * np.exp(-1 / 5))
    # the netx grid lowers vth by the expected round-toward-zero loss of v (truncation_deficit)
    offset = truncation_deficit(int(hw.hw_params["du"][0]), int(hw.hw_params["dv"][0])) / 64
    assert abs(64 * (hw.hw_params["vth"][0] + offset) * hw.v_scale - 1.0) < 1e-3
    no_decay = quantize(_net(np.full((2, 2), 0.3), decay_syn=1.0), "loihi2").hardware.population(
        "hidden"
    )
    assert no_decay.hw_params["du"][0] == -1


def test_delays_are_rounded_not_floored():
    delays = np.array([[0.4, 0.6, 1.5, 2.49]])
    hw = quantize(_net(np.full((1, 4), 0.2), delays=delays), "loihi2").hardware
    assert hw.projections[0].delays.tolist() == [[0, 1, 2, 2]]


def test_delays_beyond_62_are_refused_or_clamped_on_request():
    net = _net(np.full((1, 3), 0.2), delays=np.array([[10.0, 62.4, 70.0]]))
    with pytest.raises(ProfileLimitError, match=r"1 delays exceed the loihi2 limit of 62 steps"):
        quantize(net, "loihi2")
    result = quantize(net, "loihi2", on_overflow="clamp")
    assert result.hardware.projections[0].delays.tolist() == [[10, 62, 62]]
    assert result.report["summary"]["delays_clamped"] == 1


def test_report_counts_clipped_weights_and_compares_activity():
    rng = np.random.default_rng(0)
    weights = rng.normal(0.0, 0.05, (100, 300))
    weights[0, 0] = 0.3  # a 6-sigma outlier: the activity-weighted error prefers to clip it
    net = _net(weights, decay_mem=0.95, decay_syn=0.8)
    x = SpikeData.from_dense(
        (rng.random((20, 50, 300)) < 0.02).astype(np.uint8), labels=rng.integers(0, 8, 20)
    )
    result = quantize(net, "loihi2", calibration=x)
    proj = result.report["layers"]["hidden"]["incoming"]["input->hidden"]
    scale = result.hardware.projections[0].weight_scale
    assert proj.weights_clipped == int(((weights > 254 * scale) | (weights < -256 * scale)).sum())
    assert proj.weights_clipped >= 1
    assert result.report["layers"]["hidden"]["spikes_per_sample"]["float"] > 0
    assert 0.0 <= result.report["summary"]["emulated_accuracy"] <= 1.0
    # Rounding moves some spikes: the report says when the first one differs, and how many.
    divergence = result.report["layers"]["hidden"]["divergence"]
    rec_f, rec_e = simulate(net, x)["hidden"], emulate(result.hardware, x)["hidden"]
    differs = ((rec_f.spikes != 0) != (rec_e.spikes != 0)).any(axis=2)
    assert divergence["samples_with_spike_mismatch"] == int(differs.any(axis=1).sum()) > 0
    assert divergence["first_spike_mismatch_ms"] == np.median(
        differs[differs.any(axis=1)].argmax(axis=1)
    )
    assert len(divergence["spikes_unmatched"]) == 50 and max(divergence["spikes_unmatched"]) <= 1


def test_dequantized_model_reproduces_the_representable_network():
    rng = np.random.default_rng(5)
    weights = rng.integers(-100, 128, (6, 10)) / 256.0
    weights[0, :2] = 127 / 256, -128 / 256
    net = _net(weights, delays=rng.integers(0, 8, (6, 10)).astype(float))
    back = dequantize(quantize(net, "loihi2").hardware)
    np.testing.assert_allclose(back.projections[0].weights, weights, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(back.projections[0].delays, net.projections[0].delays)
    hidden = back.population("hidden")
    assert (hidden.decay_mem, hidden.decay_syn) == (1.0, 0.0) and abs(hidden.threshold - 1.0) < 1e-9
