"""The trainer's forward kernel equals the pure-Python canonical reference exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.simulate import simulate
from tests.reference.trainer_forward import run_reference
from tests.trainer.nets import random_network


def _check_equal(network, spikes):
    rec = simulate(network, spikes)
    raster = spikes.to_dense()
    for b in range(len(spikes)):
        ref = run_reference(network, raster[b])
        for name, arrays in ref.items():
            for key in ("spikes", "v", "u"):
                got = getattr(rec[name], key)[b].astype(np.float64)
                np.testing.assert_array_equal(got, arrays[key], err_msg=f"{name}.{key} sample {b}")
    return rec


@settings(deadline=None, max_examples=15)
@given(
    seed=st.integers(0, 2**31),
    max_delay=st.integers(0, 6),
    recurrent=st.booleans(),
    out_kind=st.sampled_from(["li", "lif"]),
)
def test_forward_equals_reference(seed, max_delay, recurrent, out_kind):
    rng = np.random.default_rng(seed)
    net = random_network(
        rng, n_in=5, sizes=[6, 4, 3], max_delay=max_delay, recurrent=recurrent, out_kind=out_kind
    )
    raster = rng.random((3, 30, 5)) < 0.25
    _check_equal(net, SpikeData.from_dense(raster))


def test_forward_has_activity_and_delays_matter():
    rng = np.random.default_rng(3)
    net = random_network(rng, n_in=5, sizes=[8, 3], max_delay=5, recurrent=True)
    spikes = SpikeData.from_dense(rng.random((2, 40, 5)) < 0.3)
    rec = _check_equal(net, spikes)
    assert rec["hidden0"].spikes.sum() > 0
    undelayed = net.__class__(
        dt_ms=1.0,
        populations=net.populations,
        projections=tuple(
            p.__class__(source=p.source, target=p.target, weights=p.weights)
            for p in net.projections
        ),
    )
    assert not np.array_equal(simulate(undelayed, spikes)["output"].v, rec["output"].v)


def test_spike_at_t_reaches_current_at_t_plus_one_plus_delay():
    from neurodeploy.network import Network, Population, Projection

    net = Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=1, kind="input"),
            Population(name="out", size=1, kind="li", decay_mem=1.0, decay_syn=0.0),
        ),
        projections=(
            Projection(
                source="input", target="out", weights=np.array([[0.5]]), delays=np.array([[2.6]])
            ),
        ),
    )
    spikes = SpikeData.from_events(
        [(np.array([4]), np.array([0]))], np.array([0]), n_channels=1, n_steps=12
    )
    u = simulate(net, spikes)["out"].u[0, :, 0]
    assert np.nonzero(u)[0].tolist() == [4 + 1 + 3]
