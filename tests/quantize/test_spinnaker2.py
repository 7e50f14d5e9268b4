"""Float → SpiNNaker2 mapping: one shared unit per population, 4-bit weights, float32 parameters,
3-bit delays."""

import numpy as np
import pytest

from neurodeploy.emulator import run as emulate
from neurodeploy.emulator.canonical import simulate
from neurodeploy.errors import ProfileLimitError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network
from neurodeploy.quantize import quantize
from neurodeploy.spikes import SpikeData


def _net(rng, *, delays_max=7.0):
    return Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=8, kind="input"),
            Population(
                name="hidden",
                size=10,
                kind="lif",
                decay_mem=np.exp(-1 / 20),
                decay_syn=np.exp(-1 / 5),
                threshold=1.0,
                bias=rng.normal(0, 0.01, 10),
            ),
            Population(
                name="output",
                size=3,
                kind="li",
                decay_mem=np.exp(-1 / 20),
                decay_syn=np.exp(-1 / 5),
            ),
        ),
        projections=(
            Projection(
                source="input",
                target="hidden",
                weights=rng.normal(0.3, 0.2, (10, 8)),
                delays=rng.uniform(0, delays_max, (10, 8)),
            ),
            Projection(source="hidden", target="hidden", weights=rng.normal(0, 0.1, (10, 10))),
            Projection(source="hidden", target="output", weights=rng.normal(0, 0.5, (3, 10))),
        ),
        readout="sum_voltage",
    )


def test_mapping_fits_the_profile_and_shares_one_unit_per_population():
    rng = np.random.default_rng(1)
    net = _net(rng)
    hw = quantize(net, "spinnaker2").hardware
    check_network(hw)  # float32-exact parameters, weights in [-15, 15], delays in [0, 7]
    into_hidden = [p for p in hw.projections if p.target == "hidden"]
    assert len({p.weight_scale for p in into_hidden}) == 1
    assert into_hidden[0].weight_scale == hw.population("hidden").v_scale
    assert np.abs(hw.projections[0].weights).max() <= 15
    scale = hw.population("hidden").v_scale
    assert abs(hw.population("hidden").threshold * scale - 1.0) < 1e-6
    assert hw.population("hidden").decay_mem == float(np.float32(np.exp(-1 / 20)))


def test_long_delays_need_clamp_or_fail_with_a_hint():
    net = _net(np.random.default_rng(2), delays_max=12.0)
    with pytest.raises(ProfileLimitError, match=r"spinnaker2 limit of 7 steps.*--finetune"):
        quantize(net, "spinnaker2")
    hw = quantize(net, "spinnaker2", on_overflow="clamp").hardware
    assert hw.projections[0].delays.max() == 7


def test_emulated_spinnaker2_tracks_the_float_model():
    rng = np.random.default_rng(4)
    net = _net(rng)
    x = SpikeData.from_dense(
        (rng.random((30, 60, 8)) < 0.1).astype(np.uint8), labels=rng.integers(0, 3, 30)
    )
    result = quantize(net, "spinnaker2", calibration=x)
    f = simulate(net, x)["hidden"].spikes.sum()
    e = emulate(result.hardware, x)["hidden"].spikes.sum()
    assert f > 0 and abs(int(e) - int(f)) <= 0.25 * f
    assert result.report["summary"]["prediction_agreement"] >= 0.7
