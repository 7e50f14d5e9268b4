"""The trainer's forward kernel equals the pure-Python canonical reference exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeploy.emulator.canonical import simulate
from neurodeploy.spikes import SpikeData
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


def _two_input_network(rng):
    """Two input populations (listed after a hidden one, so packing must reorder) feeding a
    recurrent hidden layer and the readout directly."""
    from neurodeploy.network import Network, Population, Projection

    pops = (
        Population(name="audio", size=4, kind="input"),
        Population(name="hidden", size=6, kind="lif", decay_mem=0.9, decay_syn=0.7, threshold=1.0),
        Population(name="touch", size=3, kind="input"),
        Population(name="out", size=2, kind="li", decay_mem=0.95, decay_syn=0.8),
    )

    def proj(src, tgt, n_post, n_pre, scale):
        return Projection(
            source=src,
            target=tgt,
            weights=rng.normal(0.4, 0.5, (n_post, n_pre)) * scale,
            delays=rng.integers(0, 4, (n_post, n_pre)).astype(float),
        )

    projs = (
        proj("audio", "hidden", 6, 4, 1.5),
        proj("touch", "hidden", 6, 3, 1.5),
        proj("hidden", "hidden", 6, 6, 0.3),
        proj("hidden", "out", 2, 6, 1.0),
        proj("touch", "out", 2, 3, 1.0),
    )
    return Network(dt_ms=1.0, populations=pops, projections=projs, readout="max_voltage")


def test_several_input_populations_run_on_the_float_model_and_the_trainer():
    from neurodeploy.evaluation import evaluate
    from neurodeploy.trainer.engine import Engine
    from neurodeploy.trainer.losses import LossParams

    rng = np.random.default_rng(7)
    net = _two_input_network(rng)
    spikes = SpikeData.from_dense(rng.random((3, 40, 7)) < 0.3, labels=np.array([0, 1, 0]))
    rec = _check_equal(net, spikes)  # channels 0-3 are audio, 4-6 touch
    assert rec["hidden"].spikes.sum() > 0
    assert evaluate(net, spikes, backend="float").n == 3
    engine = Engine(net, [3] * len(net.projections))
    result = engine.run(
        [p.weights for p in net.projections],
        [p.delays for p in net.projections],
        spikes,
        np.arange(3),
        LossParams(readout="max_voltage"),
        dt_ms=1.0,
    )
    # both inputs reach the loss: every projection from either input gets a weight gradient
    for proj, grad in zip(net.projections, result.grad_w, strict=True):
        assert np.isfinite(grad).all()
        if proj.source in ("audio", "touch"):
            assert np.abs(grad).sum() > 0, proj.name
