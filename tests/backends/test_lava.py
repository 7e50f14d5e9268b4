"""The Lava backend against traces worked out by hand (see tests/backends/nets.py for the rules)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from neurodeploy.backends.lava import LavaBackend, auto_samples_per_network, hardware_available
from neurodeploy.errors import BackendUnavailableError, ConfigError, NetworkError
from neurodeploy.network import Population
from neurodeploy.records import first_mismatch
from neurodeploy.spikes import SpikeData
from tests.backends.nets import lif, network, proj, random_network, spikes

pytestmark = pytest.mark.lava

SIM = LavaBackend(samples_per_network=1)


def _v(rec, name):
    return rec[name].v[0, :, 0].tolist()


def _s(rec, name):
    return np.flatnonzero(rec[name].spikes[0, :, 0]).tolist()


def test_input_spike_reaches_v_after_one_plus_delay_steps():
    pops = [Population(name="input", size=1, kind="input")]
    projs = []
    for d in (0, 2, 5):
        pops += [lif(f"quiet{d}"), lif(f"spike{d}", vth=9)]  # 10 << 6 = 640 > 9 << 6 = 576
        projs += [proj("input", f"quiet{d}", [[10]], d), proj("input", f"spike{d}", [[10]], d)]
    rec = SIM.run(network(pops, projs), spikes(12, 1, [(3, 0)]))
    for d in (0, 2, 5):
        arrive = 3 + 1 + d
        assert _v(rec, f"quiet{d}") == [0] * arrive + [640] * (12 - arrive)
        assert _s(rec, f"quiet{d}") == []
        assert _s(rec, f"spike{d}") == [arrive]
        assert _v(rec, f"spike{d}") == [0] * 12  # recorded after the reset
        assert rec[f"spike{d}"].spikes.dtype == np.uint8
        assert rec[f"quiet{d}"].v.dtype == np.int32


def test_recurrent_projection_fires_every_one_plus_delay_steps():
    pops = [Population(name="input", size=1, kind="input")]
    projs = []
    for d in (0, 2):
        pops.append(lif(f"r{d}", dv=4096, vth=50))  # 100 << 6 = 6400 > 3200
        projs += [proj("input", f"r{d}", [[100]]), proj(f"r{d}", f"r{d}", [[100]], d)]
    rec = SIM.run(network(pops, projs), spikes(12, 1, [(0, 0)]))
    assert _s(rec, "r0") == list(range(1, 12))
    assert _s(rec, "r2") == [1, 4, 7, 10]


def test_weights_follow_sign_mode_bits_and_exponent_rules():
    pops = [Population(name="input", size=4, kind="input")]
    cases = {
        # name: (weights over 4 channels, projection options)
        "mixed": ([3, -3, 0, 0], {}),  # inferred mixed, 8 bits: LSB dropped by floor -> 2, -4
        "mixed_top": ([255, -1, 0, 0], {}),  # 255 -> 254, -1 -> -2
        "exc_forced": ([3, -3, 0, 0], {"sign_mode": 2}),  # clip to [0, 255] -> 3, 0
        "inh_forced": ([3, -3, 0, 0], {"sign_mode": 3}),  # clip to [-255, 0] -> 0, -3
        "exc_6bits": ([7, 0, 0, 0], {"num_weight_bits": 6}),  # drop 2 bits -> 4
        "exp_up": ([5, 0, 0, 0], {"weight_exp": 2}),  # 5 << 2 = 20
        "exp_down": ([0, 3, 3, 3], {"weight_exp": -1}),  # floor on the sum, not per synapse
    }
    projs = []
    for name, (w, options) in cases.items():
        pops.append(lif(name))
        projs.append(proj("input", name, [w], **options))
    # channel 0 at step 0, channel 1 at step 4, channels 2 and 3 together at step 8
    rec = SIM.run(network(pops, projs), spikes(11, 4, [(0, 0), (4, 1), (8, 2), (8, 3)]))

    def trace(step1, step5, step9):
        return [0] + [step1 * 64] * 4 + [step5 * 64] * 4 + [step9 * 64] * 2

    assert _v(rec, "mixed") == trace(2, -2, -2)
    assert _v(rec, "mixed_top") == trace(254, 252, 252)
    assert _v(rec, "exc_forced") == trace(3, 3, 3)
    assert _v(rec, "inh_forced") == trace(0, -3, -3)
    assert _v(rec, "exc_6bits") == trace(4, 4, 4)
    assert _v(rec, "exp_up") == trace(20, 20, 20)
    # step 5: 3 >> 1 = 1; step 9: (3 + 3) >> 1 = 3 (per synapse it would be 1 + 1 = 2)
    assert _v(rec, "exp_down") == trace(0, 1, 4)


def test_bias_decay_and_current_rules():
    pops = [
        Population(name="input", size=1, kind="input"),
        lif("biased", du=0, vth=1, bias_mant=3, bias_exp=2),  # +12 per step, spikes above 64
        lif("readout", kind="li", bias_mant=-5, bias_exp=3),  # -40 per step, never spikes
        lif("leaky", dv=2048, bias_mant=-1, bias_exp=6),  # v = trunc(v / 2) - 64
        lif("no_decay", du=-1, dv=4096),  # u never decays, v = u
        lif("du0", du=0, dv=4096),  # u multiplier 4095 - du = 4095: leaks even at du = 0
    ]
    projs = [proj("input", "no_decay", [[1]]), proj("input", "du0", [[1]])]
    rec = SIM.run(network(pops, projs), spikes(9, 1, [(0, 0)]))
    assert _s(rec, "biased") == [5]
    assert _v(rec, "biased") == [12, 24, 36, 48, 60, 0, 12, 24, 36]
    assert _v(rec, "readout") == [-40 * (t + 1) for t in range(9)]
    assert rec["readout"].spikes.sum() == 0
    # -127 / 2 truncates toward zero to -63 (a floor would give -64 and then -128)
    assert _v(rec, "leaky") == [-64, -96, -112, -120, -124, -126, -127, -127, -127]
    assert _v(rec, "no_decay") == [0] + [64] * 8
    assert _v(rec, "du0") == [0, 64, 63, 62, 61, 60, 59, 58, 57]


def test_two_inputs_into_one_population_are_summed_in_channel_order():
    pops = [
        Population(name="a", size=1, kind="input"),
        Population(name="b", size=1, kind="input"),
        lif("sum"),
    ]
    projs = [proj("a", "sum", [[10]]), proj("b", "sum", [[20]])]
    rec = SIM.run(network(pops, projs), spikes(8, 2, [(2, 1), (5, 0), (5, 1)]))
    assert _v(rec, "sum") == [0, 0, 0] + [1280] * 3 + [1280 + 1920] * 2


@pytest.fixture(scope="module")
def random_case():
    rng = np.random.default_rng(10)
    net = random_network(rng)
    raster = (rng.random((3, 40, 5)) < 0.3).astype(np.uint8)
    return net, SpikeData.from_dense(raster)


@pytest.fixture(scope="module")
def unbatched(random_case):
    net, inputs = random_case
    return LavaBackend(samples_per_network=1).run(net, inputs)


def test_block_diagonal_batch_equals_one_network_per_sample(random_case, unbatched):
    net, inputs = random_case
    batched = LavaBackend(samples_per_network=3).run(net, inputs)
    assert unbatched["p0"].spikes.sum() > 0  # the case exercises spikes and recurrence
    assert first_mismatch(unbatched, batched) is None
    assert batched["p0"].v.shape == (3, 40, 6)


def test_recorder_reads_what_lava_monitors_read(random_case):
    net, inputs = random_case
    sub = inputs.subset(np.array([0, 1]))
    recorder = LavaBackend(samples_per_network=2).run(net, sub)
    monitor = LavaBackend(samples_per_network=2, probe="monitor").run(net, sub)
    assert first_mismatch(monitor, recorder) is None
    assert np.abs(monitor["p1"].v).sum() > 0


def test_lava_agrees_with_the_emulator(random_case, unbatched):
    from neurodeploy.emulator import run as emulate

    net, inputs = random_case
    assert first_mismatch(emulate(net, inputs), unbatched) is None


def test_record_v_false_returns_spikes_only(random_case, unbatched):
    net, inputs = random_case
    rec = LavaBackend().run(net, inputs.subset(np.array([2])), record_v=False)
    assert rec["p0"].v is None
    np.testing.assert_array_equal(rec["p0"].spikes[0], unbatched["p0"].spikes[2])


def test_auto_batch_fits_the_neuron_budget(random_case):
    net, _ = random_case
    assert auto_samples_per_network(net, 1000) == 64
    assert auto_samples_per_network(net, 5) == 5


def test_run_rejects_bad_models_and_inputs():
    pops = [Population(name="input", size=2, kind="input"), lif("p", 2)]
    net = network(pops, [proj("input", "p", [[1, 2], [3, 4]])])
    with pytest.raises(NetworkError, match="inputs have 3 channels"):
        SIM.run(net, spikes(4, 3, []))
    with pytest.raises(ConfigError, match="runs loihi2 hardware models, this is a float model"):
        SIM.run(replace(net, profile=None), spikes(4, 2, []))
    uneven = lif("p", 2)
    uneven = Population(
        name="p", size=2, kind="lif", hw_params={**uneven.hw_params, "du": np.array([1, 2])}
    )
    with pytest.raises(NetworkError, match="du must be one value"):
        SIM.run(
            network([pops[0], uneven], [proj("input", "p", [[1, 2], [3, 4]])]), spikes(4, 2, [])
        )


def test_loihi2_hardware_is_reported_unavailable_here():
    ok, reason = hardware_available()
    assert not ok
    assert "lava-loihi" in reason
    chip = LavaBackend(name="lava-loihi2", on_chip=True)
    assert not chip.is_available()
    net = network(
        [Population(name="input", size=1, kind="input"), lif("p")], [proj("input", "p", [[1]])]
    )
    with pytest.raises(BackendUnavailableError, match="lava-loihi"):
        chip.run(net, spikes(3, 1, []))
