"""The SpiNNaker2 kernel equals the slow float32 reference (tests/reference/spinnaker2.py) bit for
bit: spikes, and v and u compared as float32 bit patterns, for every profile option."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeploy.emulator import run
from neurodeploy.targets.spinnaker2.kernels import _fma32
from neurodeploy.targets.spinnaker2.random_networks import (
    SPINNAKER2_REGIMES,
    random_spinnaker2_network,
)
from neurodeploy.verification import random_inputs
from tests.reference.spinnaker2 import fma_reference, run_reference

OPTIONS = st.fixed_dictionaries(
    {
        "update_order": st.sampled_from(["currents_first", "voltage_first"]),
        "threshold_op": st.sampled_from([">", ">="]),
        "reset": st.sampled_from(["reset_to_v_reset", "reset_by_subtraction"]),
        "i_offset": st.sampled_from(["after_decay", "before_decay"]),
        "current_sum": st.sampled_from(["difference_first", "left_to_right"]),
        "fma": st.booleans(),
    }
)


def _bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def assert_matches_reference(network, inputs, options=None):
    rec = run(network, inputs, record_v=True, record_u=True)
    raster = inputs.to_dense()
    for b in range(len(inputs)):
        ref = run_reference(network, raster[b], options)
        assert set(ref) == set(rec)
        for name, (spikes, v, u) in ref.items():
            np.testing.assert_array_equal(rec[name].spikes[b], spikes, err_msg=f"{name} spikes")
            assert rec[name].v.dtype == np.float32
            np.testing.assert_array_equal(_bits(rec[name].v[b]), _bits(v), err_msg=f"{name} v bits")
            np.testing.assert_array_equal(_bits(rec[name].u[b]), _bits(u), err_msg=f"{name} u bits")
    return rec


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_layers=st.integers(1, 3),
    recurrent=st.booleans(),
    max_delay=st.sampled_from([0, 1, 7]),
    regime=st.sampled_from(SPINNAKER2_REGIMES),
    options=OPTIONS,
)
def test_kernel_equals_reference_on_random_networks(
    seed, n_layers, recurrent, max_delay, regime, options
):
    rng = np.random.default_rng(seed)
    network = random_spinnaker2_network(
        rng,
        n_layers=n_layers,
        recurrent=recurrent,
        max_delay=max_delay,
        regime=regime,
        max_size=6,
        options=options,
    )
    inputs = random_inputs(rng, network, n_samples=2, n_steps=40)
    assert_matches_reference(network, inputs)


def test_random_networks_spike_and_hit_the_threshold_exactly():
    """The generator reaches the cases the options distinguish: spikes in every regime, and in
    the integer regime v equal to the threshold (where > and >= differ)."""
    spikes = dict.fromkeys(SPINNAKER2_REGIMES, 0)
    ties = 0
    for seed in range(24):
        regime = SPINNAKER2_REGIMES[seed % len(SPINNAKER2_REGIMES)]
        network = random_spinnaker2_network(np.random.default_rng(seed), regime=regime, max_size=8)
        inputs = random_inputs(np.random.default_rng(seed + 1000), network, n_samples=2, n_steps=60)
        rec = assert_matches_reference(network, inputs)
        spikes[regime] += sum(int(r.spikes.sum()) for r in rec.values())
        if regime == "integer":
            # The same draws with ">=": the network differs only in its pinned option.
            ge_net = random_spinnaker2_network(
                np.random.default_rng(seed),
                regime=regime,
                max_size=8,
                options={"threshold_op": ">="},
            )
            ge = assert_matches_reference(ge_net, inputs)
            ties += sum(int((ge[n].spikes != rec[n].spikes).sum()) for n in rec)
    assert all(count > 0 for count in spikes.values()), spikes
    assert ties > 0


@settings(max_examples=300, deadline=None)
@given(
    a=st.floats(width=32, allow_nan=False, allow_infinity=False),
    b=st.floats(width=32, allow_nan=False, allow_infinity=False),
    c=st.floats(width=32, allow_nan=False, allow_infinity=False),
)
def test_fused_multiply_add_is_rounded_once(a, b, c):
    a, b, c = np.float32(a), np.float32(b), np.float32(c)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = fma_reference(a, b, c)
    got = np.float32(_fma32(a, b, c))
    assert _bits(got) == _bits(expected) or (np.isnan(got) and np.isnan(expected))


def test_fused_multiply_add_avoids_double_rounding():
    # a*b = 64 - 2^-40 exactly; a*b + c is just below the float32 midpoint 2^30 + 192, but its
    # float64 sum is that midpoint, which a second rounding would send to 2^30 + 256.
    a, b, c = np.float32(1 + 2**-23), np.float32(64 - 2**-17), np.float32(2**30 + 128)
    naive = np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    assert naive == np.float32(2**30 + 256)
    assert np.float32(_fma32(a, b, c)) == np.float32(2**30 + 128)
    assert fma_reference(a, b, c) == np.float32(2**30 + 128)
