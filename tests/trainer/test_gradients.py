"""EventProp gradients (weights and delays) against finite differences.

Method. The forward pass is discrete: a spike time moves in whole steps, so the loss of a network
with hidden spiking neurons is a staircase in its parameters. The check therefore runs in the
regime where the staircase is fine: dt = 0.00025 ms on a 40 ms trial (160,000 steps; tau_mem = 10
ms, tau_syn = 5 ms), a tiny recurrent network with delays of 0.25 to 3.25 ms (1,000 to 13,000 steps). Along a
random direction ``u`` in parameter space the loss is evaluated at 41 points ``p + e u``,
``|e| <= 2 %`` of the parameter scale (delays: +-0.05 ms = 200 steps), a quadratic is fitted and
its slope compared with the adjoint's ``grad . u``. The same spike counts at every point are
asserted, so no spike appears or vanishes. Measured relative errors: weights 0.3-0.7 %, delays
0.5-1.3 % (max-voltage delays 3.4 %, where the maximum sits near an arrival); the tolerance is
5 % of the larger of the two slopes.

Where no hidden neuron spikes (input -> LI readout) the adjoint is the exact transpose of the
discrete forward pass, so there the check is a plain central difference at dt = 1 ms with a
relative tolerance of 1e-6 (measured: <= 5e-7, the rounding of the per-sample float32
gradient accumulators).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurodeploy.network import Network, Population, Projection
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.engine import Engine
from neurodeploy.trainer.losses import LossParams
from tests.trainer.nets import tiny_inputs, tiny_network

DT = 0.00025
N_POINTS = 41
TOL = 0.05


def _engine(net, margin=1):
    return Engine(net, [int(np.ceil(p.delays.max())) + margin for p in net.projections])


def _loss(eng, w, d, spikes, lp):
    r = eng.run(w, d, spikes, np.arange(len(spikes)), lp, dt_ms=spikes_dt(spikes), grad=False)
    return float(r.loss.mean()), r.counts.sum(axis=0)


def spikes_dt(spikes):
    return DT if spikes.n_steps > 10_000 else 1.0


def _fit_slope(f, span):
    es = np.linspace(-span, span, N_POINTS)
    values, counts = zip(*(f(e) for e in es), strict=True)
    assert all(np.array_equal(c, counts[0]) for c in counts), "a spike appeared or vanished"
    return np.polyfit(es, values, 2)[1]


@pytest.fixture(scope="module")
def fine_inputs():
    return tiny_inputs(DT)


@pytest.mark.parametrize(
    ("readout", "out_kind", "span"),
    [
        ("exp_sum_voltage", "li", 0.02),
        ("sum_voltage", "li", 0.02),
        ("max_voltage", "li", 0.02),
        ("first_spike", "lif", 0.005),
    ],
)
def test_eventprop_gradients_match_finite_differences(readout, out_kind, span, fine_inputs):
    net = tiny_network(DT, out_kind=out_kind)
    eng = _engine(net, margin=4000)  # delays stay clear of the clamps 0 and max_delay
    lp = LossParams(readout=readout, tau0_ms=2.0, tau1_ms=20.0, alpha=0.01)
    w0 = [p.weights.copy() for p in net.projections]
    d0 = [np.rint(p.delays) + 1000 for p in net.projections]
    res = eng.run(w0, d0, fine_inputs, np.arange(2), lp, dt_ms=DT)
    assert res.counts.sum() > 5
    rng = np.random.default_rng(7)
    for _ in range(2):
        u = [rng.normal(size=w.shape) * np.abs(w).mean() for w in w0]
        adj = sum(float((g * x).sum()) for g, x in zip(res.grad_w, u, strict=True))
        fd = _fit_slope(
            lambda e, u=u: _loss(
                eng, [w + e * x for w, x in zip(w0, u, strict=True)], d0, fine_inputs, lp
            ),
            span,
        )
        assert abs(adj - fd) <= TOL * max(abs(adj), abs(fd)), (readout, "weights", adj, fd)
        v = [rng.normal(size=d.shape) for d in d0]
        adj_d = sum(float((g * x).sum()) for g, x in zip(res.grad_d, v, strict=True))
        fd_d = _fit_slope(
            lambda e, v=v: _loss(
                eng, w0, [d + e * x for d, x in zip(d0, v, strict=True)], fine_inputs, lp
            ),
            0.05 / DT,
        )
        assert abs(adj_d - fd_d) <= TOL * max(abs(adj_d), abs(fd_d)), (
            readout,
            "delays",
            adj_d,
            fd_d,
        )


@pytest.mark.parametrize("readout", ["exp_sum_voltage", "sum_voltage", "max_voltage"])
def test_readout_only_gradient_is_exact(readout):
    rng = np.random.default_rng(1)
    net = Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=4, kind="input"),
            Population(name="output", size=3, kind="li", decay_mem=0.9, decay_syn=0.8),
        ),
        projections=(
            Projection(
                source="input",
                target="output",
                weights=rng.normal(0, 0.5, (3, 4)),
                delays=rng.integers(0, 4, (3, 4)).astype(float),
            ),
        ),
    )
    spikes = SpikeData.from_dense(rng.random((3, 30, 4)) < 0.2, labels=np.array([0, 1, 2]))
    eng = _engine(net)
    lp = LossParams(readout=readout)
    d0 = [net.projections[0].delays]
    w0 = net.projections[0].weights
    res = eng.run([w0], d0, spikes, np.arange(3), lp, dt_ms=1.0)
    eps = 1e-6
    for idx in np.ndindex(w0.shape):
        wp, wm = w0.copy(), w0.copy()
        wp[idx] += eps
        wm[idx] -= eps
        fd = (_loss(eng, [wp], d0, spikes, lp)[0] - _loss(eng, [wm], d0, spikes, lp)[0]) / (2 * eps)
        assert abs(res.grad_w[0][idx] - fd) <= 1e-6 * max(1.0, abs(fd)) + 1e-9


def test_gradients_do_not_depend_on_batch_composition(fine_inputs):
    net = tiny_network(1.0, max_delay_ms=3.0)
    spikes = tiny_inputs(1.0)
    eng = _engine(net)
    lp = LossParams(readout="exp_sum_voltage")
    w0 = [p.weights for p in net.projections]
    d0 = [p.delays for p in net.projections]
    both = eng.run(w0, d0, spikes, np.arange(2), lp, dt_ms=1.0)
    one = eng.run(w0, d0, spikes, np.array([0]), lp, dt_ms=1.0)
    two = eng.run(w0, d0, spikes, np.array([1]), lp, dt_ms=1.0)
    for g, a, b in zip(both.grad_w, one.grad_w, two.grad_w, strict=True):
        np.testing.assert_allclose(g, (a + b) / 2, rtol=1e-12, atol=1e-15)
