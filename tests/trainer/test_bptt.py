"""BPTT, the trainer's second gradient engine (``train.method = "bptt"``).

1. Its forward pass is the canonical one (stats and counts bit for bit).
2. Without threshold crossings (a compact pseudo-derivative that is zero everywhere the network
   goes, or no spiking neuron) the BPTT weight gradient is the exact transpose of the discrete
   forward pass: it equals EventProp's and central finite differences (relative 1e-6, the float32
   per-sample accumulators).
3. With spikes it equals :func:`reference_bptt`, a plain numpy implementation (dense arrays over
   time, no autograd) of the same pseudo-derivative and the same rules (reset not differentiated,
   first-spike derivative ``-1/D``, regulariser through ``sigma'``), for every pseudo-derivative,
   readout, recurrence and delays.
4. The config: ``learn_delays = true`` with bptt is refused with one line naming the field.
5. It learns Yin-Yang and sequence detection (fixed delays) through the ordinary loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurodeploy.emulator.canonical_kernels import forward_batch
from neurodeploy.errors import ConfigError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.bptt import BpttEngine
from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.engine import Engine, RegParams
from neurodeploy.trainer.loop import train
from neurodeploy.trainer.losses import LossParams, compute_loss
from tests.trainer.nets import random_network, tiny_inputs, tiny_network

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# --------------------------------------------------------------------------- numpy reference


def _sigma(kind: str, width: float, vpre: float, theta: float) -> float:
    x = vpre - theta
    if kind == "fast_sigmoid":
        return 1.0 / (theta * (1.0 + abs(x) / (width * theta)) ** 2)
    if kind == "straight_through":
        return 1.0 / theta if abs(x) < width * theta else 0.0
    return 1.0 / theta  # lee


def _layout(net: Network):
    order = [p for p in net.populations if p.kind == "input"] + [
        p for p in net.populations if p.kind != "input"
    ]
    off, pos = {}, 0
    for p in order:
        off[p.name] = pos
        pos += p.size
    return order, off, pos


def _ref_forward(net, d_int, dense_in):
    """Dense forward of one sample: Vpre, V, s per step and neuron (global index)."""
    order, off, n_all = _layout(net)
    n_t = dense_in.shape[0]
    max_d = max(int(d.max(initial=0)) for d in d_int)
    arrive = np.zeros((n_t + max_d + 2, n_all))
    vpre = np.zeros((n_t, n_all))
    i_rec = np.zeros((n_t, n_all))
    v_rec = np.zeros((n_t, n_all))
    s = np.zeros((n_t, n_all))
    cur = np.zeros(n_all)
    v = np.zeros(n_all)
    n_in = sum(p.size for p in order if p.kind == "input")
    for t in range(n_t):
        s[t, :n_in] = dense_in[t]
        for p in order:
            if p.kind == "input":
                continue
            a = off[p.name]
            for i in range(p.size):
                g = a + i
                cur[g] = p.decay_syn * cur[g] + arrive[t, g]
                i_rec[t, g] = cur[g]
                vp = p.decay_mem * v[g] + cur[g] + p.bias[i]
                vpre[t, g] = vp
                if p.kind == "lif" and vp > p.threshold:
                    s[t, g] = 1.0
                    vp = 0.0
                v[g] = vp
                v_rec[t, g] = vp
        for q, proj in enumerate(net.projections):
            a_s, a_t = off[proj.source], off[proj.target]
            n_post, n_pre = proj.weights.shape
            for j in range(n_pre):
                if s[t, a_s + j]:
                    for i in range(n_post):
                        arrive[t + 1 + d_int[q][i, j], a_t + i] += proj.weights[i, j]
    return vpre, v_rec, s, i_rec


def _ref_stats(net, v_rec, s, n_steps):
    order, off, _ = _layout(net)
    out = order[-1]
    a = off[out.name]
    vo = v_rec[:, a : a + out.size]
    so = s[:, a : a + out.size]
    stats = np.zeros((out.size, 6))
    stats[:, 0] = vo.sum(axis=0)
    stats[:, 1] = (np.exp(-np.arange(n_steps) / n_steps)[:, None] * vo).sum(axis=0)
    stats[:, 2] = vo.max(axis=0)
    stats[:, 3] = vo.argmax(axis=0)
    first = np.array([np.argmax(so[:, k]) if so[:, k].any() else -1 for k in range(out.size)])
    stats[:, 4] = first
    stats[:, 5] = so.sum(axis=0)
    return stats


def reference_bptt(
    net: Network,
    d_int: list[np.ndarray],
    dense: np.ndarray,
    labels: np.ndarray,
    lp: LossParams,
    surrogate: str,
    width: float,
    reg: RegParams | None = None,
    denom_guard: float = 0.1,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Losses and ``d(mean loss)/dw`` per projection by BPTT on dense per-step arrays.

    ``dense``: float[B, T, n_in] input spikes; ``d_int``: integer delays (post, pre)."""
    order, off, n_all = _layout(net)
    n_b, n_t, _ = dense.shape
    runs = [_ref_forward(net, d_int, dense[b]) for b in range(n_b)]
    stats = np.stack([_ref_stats(net, r[1], r[2], n_t) for r in runs])
    res = compute_loss(stats, labels, lp, n_steps=n_t, dt_ms=1.0)
    counts = np.stack([r[2].sum(axis=0) for r in runs])
    regd = np.zeros(n_all)
    out = order[-1]
    if reg is not None:
        excess = counts.mean(axis=0) - reg.target
        drive = np.where(excess > 0, reg.upper * excess, reg.lower * excess) / n_b
        for p in order:
            if p.kind == "lif" and p is not out:
                regd[off[p.name] : off[p.name] + p.size] = drive[off[p.name] : off[p.name] + p.size]
    grads = [np.zeros_like(p.weights) for p in net.projections]
    max_d = max(int(d.max(initial=0)) for d in d_int)
    for b, (vpre, _v, s, i_hist) in enumerate(runs):
        gi_hist = np.zeros((n_t + max_d + 2, n_all))
        gp = np.zeros(n_all)
        gi = np.zeros(n_all)
        drives = res.drives[b]
        first = stats[b, :, 4].astype(int)
        for t in range(n_t - 1, -1, -1):
            for p in order:
                if p.kind == "input":
                    continue
                a = off[p.name]
                for i in range(p.size):
                    g = a + i
                    gv = p.decay_mem * gp[g]
                    if p is out:
                        gv += drives[i, 0] + drives[i, 1] * np.exp(-t / n_t)
                        if drives[i, 3] == t:
                            gv += drives[i, 2]
                    new = 0.0 if s[t, g] else gv
                    if p.kind == "lif":
                        gs = regd[g]
                        for q, proj in enumerate(net.projections):
                            if proj.source != p.name:
                                continue
                            at = off[proj.target]
                            for k in range(proj.weights.shape[0]):
                                gs += proj.weights[k, i] * gi_hist[t + 1 + d_int[q][k, i], at + k]
                        new += _sigma(surrogate, width, vpre[t, g], p.threshold) * gs
                    if p is out and first[i] == t:
                        den = i_hist[t, g] + p.bias[i] - (1 - p.decay_mem) * p.threshold
                        den = max(den, denom_guard * (1 - p.decay_mem) * p.threshold, 1e-9)
                        new -= res.first_dl[b, i] / den
                    gp[g] = new
                    gi[g] = new + p.decay_syn * gi[g]
                    gi_hist[t, g] = gi[g]
            for q, proj in enumerate(net.projections):
                a_s, a_t = off[proj.source], off[proj.target]
                n_post, n_pre = proj.weights.shape
                for j in range(n_pre):
                    if s[t, a_s + j]:
                        for i in range(n_post):
                            grads[q][i, j] += gi_hist[t + 1 + d_int[q][i, j], a_t + i]
    return res.loss, grads


# --------------------------------------------------------------------------- helpers


def _max_delays(net, margin=1):
    return [int(np.ceil(p.delays.max())) + margin for p in net.projections]


def _int_delays(net, max_delays):
    return [
        np.minimum(np.rint(p.delays), m).astype(int)
        for p, m in zip(net.projections, max_delays, strict=True)
    ]


def _dense(spikes: SpikeData) -> np.ndarray:
    out = np.zeros((len(spikes), spikes.n_steps, spikes.n_channels))
    for b in range(len(spikes)):
        lo, hi = spikes.offsets[b], spikes.offsets[b + 1]
        out[b, spikes.steps[lo:hi], spikes.units[lo:hi]] = 1.0
    return out


# --------------------------------------------------------------------------- tests


def test_forward_is_the_canonical_forward_bit_for_bit():
    rng = np.random.default_rng(3)
    net = random_network(rng, n_in=5, sizes=[7, 6, 3], max_delay=4, recurrent=True)
    spikes = SpikeData.from_dense(rng.random((4, 60, 5)) < 0.15, labels=np.array([0, 1, 2, 0]))
    md = _max_delays(net)
    w = [p.weights for p in net.projections]
    d = [p.delays for p in net.projections]
    bp = BpttEngine(net, md)
    r = bp.run(w, d, spikes, np.arange(4), LossParams(), dt_ms=1.0, grad=False)
    ep = Engine(net, md)
    net_k = ep.net_arrays(w, d)
    counts = np.zeros((4, ep.packed.n_all), dtype=np.int32)
    stats = np.zeros((4, 3, 6))
    tape = (
        np.zeros((4, 4096), np.int32),
        np.zeros((4, 4096), np.int32),
        np.zeros((4, 4096)),
        np.zeros(4, np.int64),
    )
    forward_batch(
        (spikes.steps, spikes.units, spikes.offsets),
        np.arange(4, dtype=np.int64),
        60,
        net_k,
        (ep.packed.out_pop, 60.0, 0, 0),
        tape,
        counts,
        stats,
    )
    assert counts.sum() > 20
    np.testing.assert_array_equal(r.counts, counts)
    ref = ep.run(w, d, spikes, np.arange(4), LossParams(), dt_ms=1.0, grad=False)
    np.testing.assert_array_equal(r.loss, ref.loss)
    np.testing.assert_array_equal(r.predicted, ref.predicted)


def _below_threshold_network(rng, out_kind="li"):
    """input(4) -> hidden(3 lif, far below threshold) -> output(3), and input -> output."""
    kw = dict(decay_mem=0.9, decay_syn=0.8)
    return Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=4, kind="input"),
            Population(name="hidden", size=3, kind="lif", threshold=1.0, **kw),
            Population(name="output", size=3, kind=out_kind, threshold=1.0, **kw),
        ),
        projections=(
            Projection(
                source="input",
                target="hidden",
                weights=rng.normal(0, 0.002, (3, 4)),
                delays=rng.integers(0, 3, (3, 4)).astype(float),
            ),
            Projection(
                source="hidden",
                target="output",
                weights=rng.normal(0, 0.5, (3, 3)),
                delays=rng.integers(0, 3, (3, 3)).astype(float),
            ),
            Projection(
                source="input",
                target="output",
                weights=rng.normal(0, 0.5, (3, 4)),
                delays=rng.integers(0, 4, (3, 4)).astype(float),
            ),
        ),
    )


def _mean_loss(eng, w, d, spikes, lp):
    r = eng.run(w, d, spikes, np.arange(len(spikes)), lp, dt_ms=1.0, grad=False)
    return float(r.loss.mean())


@pytest.mark.parametrize("readout", ["exp_sum_voltage", "sum_voltage", "max_voltage"])
def test_without_crossings_bptt_equals_eventprop_and_finite_differences(readout):
    rng = np.random.default_rng(11)
    net = _below_threshold_network(rng)
    spikes = SpikeData.from_dense(rng.random((3, 30, 4)) < 0.2, labels=np.array([0, 1, 2]))
    md = _max_delays(net)
    lp = LossParams(readout=readout)
    w0 = [p.weights for p in net.projections]
    d0 = [p.delays for p in net.projections]
    bp = BpttEngine(net, md, surrogate="straight_through", width=0.5)
    ep = Engine(net, md)
    rb = bp.run(w0, d0, spikes, np.arange(3), lp, dt_ms=1.0)
    re = ep.run(w0, d0, spikes, np.arange(3), lp, dt_ms=1.0)
    assert rb.counts.sum() == 0
    # every hidden Vpre stays below 0.5 * threshold, where straight_through's sigma' is 0
    hidden_in = np.abs(w0[0]).sum(axis=1).max() / (1 - 0.8) / (1 - 0.9)
    assert hidden_in < 0.5
    for gb, ge in zip(rb.grad_w, re.grad_w, strict=True):
        np.testing.assert_allclose(gb, ge, rtol=1e-6, atol=1e-12)
    assert np.abs(rb.grad_w[2]).max() > 1e-3
    eps = 1e-6
    for q, w in enumerate(w0):
        for idx in np.ndindex(w.shape):
            wp = [x.copy() for x in w0]
            wm = [x.copy() for x in w0]
            wp[q][idx] += eps
            wm[q][idx] -= eps
            fd = (_mean_loss(bp, wp, d0, spikes, lp) - _mean_loss(bp, wm, d0, spikes, lp)) / (
                2 * eps
            )
            assert abs(rb.grad_w[q][idx] - fd) <= 1e-6 * max(1.0, abs(fd)) + 1e-9, (q, idx)


@pytest.mark.parametrize("surrogate", ["fast_sigmoid", "lee"])
def test_readout_only_gradient_is_exact_for_every_pseudo_derivative(surrogate):
    rng = np.random.default_rng(2)
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
    md = _max_delays(net)
    lp = LossParams(readout="exp_sum_voltage")
    w0 = [net.projections[0].weights]
    d0 = [net.projections[0].delays]
    rb = BpttEngine(net, md, surrogate=surrogate).run(w0, d0, spikes, np.arange(3), lp, dt_ms=1.0)
    re = Engine(net, md).run(w0, d0, spikes, np.arange(3), lp, dt_ms=1.0)
    np.testing.assert_allclose(rb.grad_w[0], re.grad_w[0], rtol=1e-6, atol=1e-12)


_CASES = [
    ("fast_sigmoid", "exp_sum_voltage", "li"),
    ("fast_sigmoid", "max_voltage", "li"),
    ("fast_sigmoid", "first_spike", "lif"),
    ("straight_through", "sum_voltage", "li"),
    ("straight_through", "first_spike", "lif"),
    ("lee", "exp_sum_voltage", "li"),
]


@pytest.mark.parametrize(("surrogate", "readout", "out_kind"), _CASES)
def test_with_spikes_bptt_equals_the_numpy_reference(surrogate, readout, out_kind):
    net = tiny_network(1.0, out_kind=out_kind, max_delay_ms=3.0)
    spikes = tiny_inputs(1.0)
    md = _max_delays(net)
    d_int = _int_delays(net, md)
    lp = LossParams(readout=readout, tau0_ms=2.0, tau1_ms=20.0, alpha=0.01)
    reg = RegParams(upper=0.01, lower=0.002, target=1.0)
    w0 = [p.weights for p in net.projections]
    d0 = [p.delays for p in net.projections]
    width = 0.4
    eng = BpttEngine(net, md, surrogate=surrogate, width=width)
    r = eng.run(w0, d0, spikes, np.arange(len(spikes)), lp, dt_ms=1.0, reg=reg)
    assert r.counts.sum() > 5
    dense = _dense(spikes)
    loss, grads = reference_bptt(net, d_int, dense, spikes.labels, lp, surrogate, width, reg)
    np.testing.assert_allclose(r.loss, loss, rtol=1e-12)
    scale = max(np.abs(g).max() for g in grads)
    assert scale > 1e-4
    for q, (g, ref) in enumerate(zip(r.grad_w, grads, strict=True)):
        np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-6 * scale, err_msg=f"projection {q}")
    assert all(not d.any() for d in r.grad_d)


def test_without_delays_the_dot_product_path_equals_the_reference():
    net = tiny_network(1.0, max_delay_ms=0.0)
    spikes = tiny_inputs(1.0)
    md = [0] * len(net.projections)
    lp = LossParams(readout="exp_sum_voltage")
    w0 = [p.weights for p in net.projections]
    d0 = [p.delays for p in net.projections]
    r = BpttEngine(net, md, width=0.4).run(w0, d0, spikes, np.arange(2), lp, dt_ms=1.0)
    assert r.counts.sum() > 5
    d_int = [np.zeros(p.weights.shape, dtype=int) for p in net.projections]
    _, grads = reference_bptt(net, d_int, _dense(spikes), spikes.labels, lp, "fast_sigmoid", 0.4)
    scale = max(np.abs(g).max() for g in grads)
    for g, ref in zip(r.grad_w, grads, strict=True):
        np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-6 * scale)


def test_random_recurrent_networks_equal_the_reference():
    rng = np.random.default_rng(5)
    for trial in range(2):
        net = random_network(rng, n_in=4, sizes=[5, 4, 3], max_delay=3, recurrent=True)
        spikes = SpikeData.from_dense(rng.random((2, 35, 4)) < 0.2, labels=np.array([0, 2]))
        md = _max_delays(net)
        d_int = _int_delays(net, md)
        lp = LossParams(readout="exp_sum_voltage")
        w0 = [p.weights for p in net.projections]
        d0 = [p.delays for p in net.projections]
        r = BpttEngine(net, md, surrogate="fast_sigmoid", width=0.3).run(
            w0, d0, spikes, np.arange(2), lp, dt_ms=1.0
        )
        assert r.counts.sum() > 5, trial
        _, grads = reference_bptt(
            net, d_int, _dense(spikes), spikes.labels, lp, "fast_sigmoid", 0.3
        )
        scale = max(np.abs(g).max() for g in grads)
        for g, ref in zip(r.grad_w, grads, strict=True):
            np.testing.assert_allclose(g, ref, rtol=1e-5, atol=1e-6 * scale)


def test_config_refuses_learned_delays_with_bptt_in_one_line():
    with pytest.raises(ConfigError) as err:
        load_config(EXAMPLES / "seqdetect.toml", ["train.method=bptt"])
    lines = [x for x in str(err.value).splitlines() if "learn_delays" in x]
    assert len(lines) == 1 and "train.learn_delays" in lines[0]
    with pytest.raises(ConfigError, match=r"train\.surrogate"):
        load_config(EXAMPLES / "yinyang.toml", ["train.method=bptt", "train.surrogate=nope"])
    with pytest.raises(ConfigError, match=r"train\.method"):
        load_config(EXAMPLES / "yinyang.toml", ["train.method=adjoint"])


def test_bptt_learns_yinyang_quickly(tmp_path):
    cfg = load_config(
        EXAMPLES / "yinyang.toml",
        [
            "train.method=bptt",
            "train.epochs=3",
            "data.max_train_samples=1500",
            "model.hidden=[60]",
            "data.dt_ms=0.5",
        ],
    )
    net = train(cfg, tmp_path / "yy", progress=False)
    m = net.metadata["metrics"]
    assert "BPTT" in net.metadata["trainer"]
    assert m["test_accuracy"] >= 0.6, m


def test_bptt_learns_sequence_detection_with_fixed_delays(tmp_path):
    cfg = load_config(
        EXAMPLES / "seqdetect.toml",
        [
            "train.method=bptt",
            "train.learn_delays=false",
            "train.epochs=20",
            "data.options={n_channels = 2, onset_max_ms = 5.0, n_samples = 128}",
            "model.delay_init_steps=[0.0, 20.0]",
        ],
    )
    m = train(cfg, tmp_path / "sd", progress=False).metadata["metrics"]
    assert m["test_accuracy"] >= 0.9, m


@pytest.mark.slow
def test_bptt_yinyang_shipped_config_reaches_95_percent(tmp_path):
    cfg = load_config(EXAMPLES / "yinyang.toml", ["train.method=bptt"])
    m = train(cfg, tmp_path / "yy", progress=False).metadata["metrics"]
    assert m["test_accuracy"] >= 0.95, m


def test_weight_noise_and_resume_work_with_bptt(tmp_path):
    over = [
        "train.method=bptt",
        "train.epochs=2",
        "data.max_train_samples=200",
        "model.hidden=[20]",
        "data.dt_ms=1.0",
        "train.weight_noise=0.01",
    ]
    cfg = load_config(EXAMPLES / "yinyang.toml", over)
    full = train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False, stop_after=1)
    resumed = train(cfg, tmp_path / "b", progress=False)
    for p, q in zip(full.projections, resumed.projections, strict=True):
        np.testing.assert_array_equal(p.weights, q.weights)
