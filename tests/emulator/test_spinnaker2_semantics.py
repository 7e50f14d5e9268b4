"""Hand-checked behaviour of the SpiNNaker2 emulator and the ``spinnaker2`` profile: tick timing,
float32 rounding, reset modes, options, subnormals and the profile's limits."""

import numpy as np
import pytest

from neurodeploy.emulator import run
from neurodeploy.errors import ConfigError, ProfileLimitError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.spinnaker2.emulator import run_spinnaker2
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2

F = np.float32


def _net(weights, delays=None, *, kind="lif", options=None, **pop):
    weights = np.atleast_2d(np.asarray(weights, np.int64))
    params = dict(decay_mem=1.0, decay_syn=0.0, threshold=1000.0) | pop
    return Network(
        dt_ms=1.0,
        profile="spinnaker2",
        populations=(
            Population(name="in", size=weights.shape[1], kind="input"),
            Population(name="n", size=weights.shape[0], kind=kind, **params),
        ),
        projections=(
            Projection(
                source="in",
                target="n",
                weights=weights,
                delays=np.zeros_like(weights) if delays is None else np.atleast_2d(delays),
            ),
        ),
        profile_options=options or {},
    )


def _inputs(n_steps, *events, n_channels=1):
    """events: (tick, channel) pairs of one sample."""
    steps = [e[0] for e in events]
    units = [e[1] for e in events]
    return SpikeData.from_events([(steps, units)], [0], n_channels=n_channels, n_steps=n_steps)


@pytest.mark.parametrize("delay", range(8))
def test_spike_at_tick_zero_arrives_at_one_plus_delay(delay):
    rec = run(_net([[5]], [[delay]]), _inputs(12, (0, 0)), record_u=True)["n"]
    u = rec.u[0, :, 0]
    assert (u[: delay + 1] == 0).all()
    assert u[delay + 1] == 5
    assert (u[delay + 2 :] == 0).all()  # decay_syn = 0: the current lasts one tick


def test_delay_seven_and_delay_zero_share_a_slot_without_collision():
    # channel 0 (delay 7) at tick 0 and channel 1 (delay 0) at tick 7 both land at tick 8.
    rec = run(_net([[3, 4]], [[7, 0]]), _inputs(10, (0, 0), (7, 1), n_channels=2), record_u=True)
    assert rec["n"].u[0, 8, 0] == 7
    assert (np.delete(rec["n"].u[0, :, 0], 8) == 0).all()


def test_inhibitory_weights_feed_the_inhibitory_current():
    rec = run(_net([[-6, 2]]), _inputs(4, (0, 0), (0, 1), n_channels=2), record_u=True)["n"]
    assert rec.u[0, 1, 0] == F(2) - F(6)
    assert rec.v[0, 1, 0] == -4


def test_voltage_follows_float32_not_float64():
    alpha, syn = F(0.9), F(0.8)
    net = _net([[7]], decay_mem=float(alpha), decay_syn=float(syn), bias=[float(F(0.1))])
    v = run(net, _inputs(30, (0, 0)))["n"].v[0, :, 0]
    v32 = i32 = F(0)
    v64 = i64 = 0.0
    for t in range(30):
        i32 = syn * i32 + (F(7) if t == 1 else F(0))
        v32 = (alpha * v32 + i32) + F(0.1)
        i64 = float(syn) * i64 + (7.0 if t == 1 else 0.0)
        v64 = float(alpha) * v64 + i64 + float(F(0.1))
    assert v.dtype == np.float32
    assert v[-1] == v32
    assert float(v[-1]) != v64


def test_reset_modes():
    weights = [[10]]
    to_zero = run(_net(weights, threshold=4.0), _inputs(3, (0, 0)))["n"]
    assert to_zero.spikes[0, 1, 0] == 1 and to_zero.v[0, 1, 0] == 0
    subtract = run(
        _net(weights, threshold=4.0, options={"reset": "reset_by_subtraction"}), _inputs(3, (0, 0))
    )["n"]
    assert subtract.spikes[0, 1, 0] == 1 and subtract.v[0, 1, 0] == 6
    # v = 6 stays above the threshold: it fires again at tick 2 and drops to 2.
    assert subtract.spikes[0, 2, 0] == 1 and subtract.v[0, 2, 0] == 2


def test_threshold_comparison_option():
    strict = run(_net([[4]], threshold=4.0), _inputs(3, (0, 0)))["n"]
    assert strict.spikes.sum() == 0 and strict.v[0, 1, 0] == 4
    ge = run(_net([[4]], threshold=4.0, options={"threshold_op": ">="}), _inputs(3, (0, 0)))["n"]
    assert ge.spikes[0, 1, 0] == 1


def test_voltage_first_sees_input_one_tick_later():
    net = _net([[5]])
    assert run(net, _inputs(4, (0, 0)))["n"].v[0, 1:3, 0].tolist() == [5, 5]
    late = run_spinnaker2(net, _inputs(4, (0, 0)), options={"update_order": "voltage_first"})["n"]
    assert late.v[0, 1:4, 0].tolist() == [0, 5, 5]


def test_i_offset_before_decay_is_decayed():
    after = run(_net([[0]], decay_mem=0.5, bias=[2.0]), _inputs(2))["n"].v[0, :, 0]
    before = run_spinnaker2(
        _net([[0]], decay_mem=0.5, bias=[2.0]), _inputs(2), options={"i_offset": "before_decay"}
    )
    assert after.tolist() == [2.0, 3.0]  # 0.5*0 + 2, 0.5*2 + 2
    assert before["n"].v[0, :, 0].tolist() == [1.0, 1.5]  # 0.5*(0 + 2), 0.5*(1 + 2)


def test_li_population_never_fires():
    rec = run(
        _net([[15]], kind="li", threshold=1.0, decay_mem=1.0),
        _inputs(20, *[(t, 0) for t in range(19)]),
    )
    assert rec["n"].spikes.sum() == 0
    assert rec["n"].v[0, -1, 0] == 15 * 19


def test_subnormal_voltages_are_not_flushed():
    # v = 1 at tick 1, then halves every tick: 2^-126 is the smallest normal float32; the kernel
    # (in a worker thread) must keep going through the subnormals down to 2^-149.
    rec = run(_net([[1]], decay_mem=0.5), _inputs(160, (0, 0)))["n"].v[0, :, 0]
    ticks = np.arange(1, 151)
    np.testing.assert_array_equal(rec[ticks], np.exp2(-(ticks - 1.0)).astype(np.float32))
    assert rec[140] > 0 and rec[140] < np.finfo(np.float32).tiny
    assert rec[151] == 0  # 2^-150 rounds to 0 (tie to even)


def test_options_from_metadata_and_argument():
    net = _net([[4]], threshold=4.0, options={"threshold_op": ">="})
    assert SPINNAKER2.resolve_options(net)["threshold_op"] == ">="
    assert run(net, _inputs(3, (0, 0)))["n"].spikes.sum() == 1
    assert (
        run_spinnaker2(net, _inputs(3, (0, 0)), options={"threshold_op": ">"})["n"].spikes.sum()
        == 0
    )
    with pytest.raises(ConfigError, match="options/fma must be one of False, True, got 'yes'"):
        run_spinnaker2(net, _inputs(3), options={"fma": "yes"})
    with pytest.raises(ProfileLimitError, match="profile_options/update is not an option"):
        check_network(_net([[1]], options={"update": "x"}))


def test_profile_rejects_non_float32_parameters_and_out_of_range_synapses():
    with pytest.raises(ProfileLimitError) as err:
        check_network(_net([[16]], [[8]], decay_mem=0.9, bias=[0.1]))
    lines = str(err.value).splitlines()
    assert any("populations/n/decay_mem must be a finite float32 value" in x for x in lines)
    assert any("populations/n/bias must be a finite float32 value" in x for x in lines)
    assert any("weights must be in [-15, 15], got 16" in x for x in lines)
    assert any("delays must be in [0, 7], got 8" in x for x in lines)
    check_network(_net([[15]], [[7]], decay_mem=float(F(0.9)), bias=[float(F(0.1))]))


def test_profile_rejects_hw_params_and_huge_float32_values():
    pops = (
        Population(name="in", size=1, kind="input"),
        Population(name="n", size=1, kind="lif", threshold=1e39, hw_params={"vth": [3]}),
    )
    net = Network(dt_ms=1.0, profile="spinnaker2", populations=pops)
    with pytest.raises(ProfileLimitError) as err:
        check_network(net)
    assert "populations/n/threshold must be a finite float32 value" in str(err.value)
    assert "populations/n/hw_params/vth is not a SpiNNaker2 parameter" in str(err.value)
