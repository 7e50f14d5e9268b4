"""The Loihi 2 kernel equals the slow numpy reference (tests/reference/loihi2.py) bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeploy.emulator import run
from neurodeploy.network import Network, Population, Projection
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.loihi2.emulator import effective_weights
from neurodeploy.targets.loihi2.random_networks import LOIHI2_REGIMES as REGIMES
from neurodeploy.targets.loihi2.random_networks import random_loihi2_network
from neurodeploy.verification import random_inputs
from tests.reference.loihi2 import run_reference


def _assert_matches_reference(network, inputs):
    rec = run(network, inputs, record_v=True, record_u=True)
    raster = inputs.to_dense()
    for b in range(len(inputs)):
        ref = run_reference(network, raster[b])
        for name, (spikes, v, u) in ref.items():
            np.testing.assert_array_equal(rec[name].spikes[b], spikes, err_msg=f"{name} spikes")
            np.testing.assert_array_equal(rec[name].v[b], v, err_msg=f"{name} v")
            np.testing.assert_array_equal(rec[name].u[b], u, err_msg=f"{name} u")


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_layers=st.integers(1, 4),
    recurrent=st.booleans(),
    max_delay=st.sampled_from([0, 1, 5, 62]),
    regime=st.sampled_from(REGIMES),
)
def test_kernel_equals_reference_on_random_networks(seed, n_layers, recurrent, max_delay, regime):
    rng = np.random.default_rng(seed)
    network = random_loihi2_network(
        rng, n_layers=n_layers, recurrent=recurrent, max_delay=max_delay, regime=regime, max_size=6
    )
    inputs = random_inputs(rng, network, n_samples=2, n_steps=40)
    _assert_matches_reference(network, inputs)


def test_stress_regime_reaches_wrap_and_saturation():
    """The stress regime really drives u past ±2^23 (wrap) and v past ±(2^23-1) (saturation),
    and the kernel still equals the reference there."""
    stats: dict = {}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        network = random_loihi2_network(rng, regime="stress", max_size=8)
        inputs = random_inputs(rng, network, n_samples=1, n_steps=60)
        _assert_matches_reference(network, inputs)
        run_reference(network, inputs.to_dense()[0], stats)
    assert stats["u_wraps"] > 0
    assert stats["v_saturations"] > 0


def _single(
    weight, *, delay=0, du=4095, dv=4096, vth=1000, weight_exp=0, nwb=8, sign_mode=0, n_steps=8
):
    net = Network(
        dt_ms=1.0,
        profile="loihi2",
        populations=(
            Population(name="in", size=1, kind="input"),
            Population(
                name="n",
                size=1,
                kind="lif",
                hw_params=dict(du=[du], dv=[dv], vth=[vth], bias_mant=[0], bias_exp=[0]),
            ),
        ),
        projections=(
            Projection(
                source="in",
                target="n",
                weights=[[weight]],
                delays=[[delay]],
                hw_params=dict(weight_exp=weight_exp, num_weight_bits=nwb, sign_mode=sign_mode),
            ),
        ),
    )
    raster = np.zeros((1, n_steps, 1), np.uint8)
    raster[0, 0, 0] = 1
    return run(net, SpikeData.from_dense(raster), record_u=True)["n"]


@pytest.mark.parametrize("delay", [0, 1, 7, 62])
def test_spike_at_step_zero_arrives_at_one_plus_delay(delay):
    rec = _single(10, delay=delay, n_steps=delay + 4)
    u = rec.u[0, :, 0]
    assert (u[: delay + 1] == 0).all()
    assert u[delay + 1] == 10 << 6


def test_mixed_weights_lose_their_lowest_bit_with_floor():
    # +3 -> 2 and -3 -> -4 in mixed mode with 8 bits (Lava's truncate on the even grid)
    assert effective_weights(np.array([[3, -3]]), 8).tolist() == [[2, -4]]
    assert effective_weights(np.array([[3, 5]]), 8).tolist() == [[3, 5]]
    assert effective_weights(np.array([[-3, -5]]), 7).tolist() == [[-2, -4]]


def test_explicit_sign_mode_clips_weights_of_the_other_sign():
    assert effective_weights(np.array([[-50, 40]]), 8, sign_mode=2).tolist() == [[0, 40]]
    assert effective_weights(np.array([[-50, 40]]), 8, sign_mode=3).tolist() == [[-50, 0]]


def test_negative_weight_exp_floors_the_sum():
    rec = _single(-3, weight_exp=-1, sign_mode=1)  # mixed: -3 -> -4, then -4 >> 1 = -2
    assert rec.u[0, 1, 0] == -2 << 6


def test_current_decay_truncates_toward_zero():
    rec = _single(-1, du=2048, sign_mode=1)  # -2 (even grid) -> u = -128, then -128*2047/4096
    u = rec.u[0, :, 0]
    assert u[1] == -128
    assert u[2] == -(128 * 2047 >> 12)
