"""Numba kernels of backpropagation through time (BPTT) with a pseudo-derivative at the threshold.

The second gradient engine of the trainer (:mod:`neurodeploy.trainer.bptt` orchestrates it). The
forward pass is the canonical discrete model of
:mod:`neurodeploy.emulator.canonical_kernels`, step for step and in the same floating-point order
(``tests/trainer/test_bptt.py`` checks its stats and counts bit for bit against
:func:`~neurodeploy.emulator.canonical_kernels.forward_batch`); besides the readout stats it keeps,
for every non-input neuron and step, whether it spiked (``uint8``) and the pseudo-derivative
``sigma'(Vpre[t])`` (``float32``): ``5 * n_steps * n_neurons`` bytes per sample, so memory grows
linearly with the trial length (EventProp's tape grows with the number of spikes only).

Forward, per step ``t`` and non-input neuron (``Vpre`` before the reset)::

    I[t] = decay_syn * I[t-1] + sum w * s_pre[t - 1 - d]
    Vpre[t] = decay_mem * V[t-1] + I[t] + bias
    s[t] = H(Vpre[t] - threshold)          (lif; li never spikes)
    V[t] = Vpre[t] * (1 - s[t])            (reset to 0)

Backward (reverse steps; ``gV`` = dL/dV after the reset, ``gP`` = dL/dVpre, ``gI`` = dL/dI)::

    gV[t] = dl/dV[t] + decay_mem * gP[t+1]
    gS[t] = sum_post w * gI_post[t + 1 + d]                       (dL/ds[t])
    gP[t] = gV[t] * (1 - s[t]) + sigma'(Vpre[t]) * (gS[t] + reg)  - [first spike] dl/dt / D
    gI[t] = gP[t] + decay_syn * gI[t+1]
    dL/dw = sum over presynaptic spikes at t of gI_post[t + 1 + d]

The reset is not differentiated through (the ``-Vpre * sigma'`` term of ``d V / d Vpre`` is
dropped, as is common, e.g. Zenke & Vogels 2021). ``reg`` is the spike-count regulariser's drive
(``dL/dn``, per neuron): ``dn/dVpre[t] = sigma'``. The first-spike loss (``first_spike`` readout)
takes ``dt_first/dVpre = -1/D`` at the first spike, the crossing-time derivative EventProp uses,
with the same denominator ``D``. Where no neuron is near threshold and the pseudo-derivative has
compact support, the pass is the exact transpose of the forward step: the gradient then equals
EventProp's and finite differences.

Pseudo-derivatives (``x = Vpre - threshold``, ``theta = threshold``, ``w`` = width in units of
the threshold), each at most ``1 / theta``:

``SG_FAST_SIGMOID``     ``1 / (theta * (1 + |x| / (w theta))**2)``  (SuperSpike's fast sigmoid)
``SG_STRAIGHT_THROUGH`` ``1 / theta`` if ``|x| < w theta`` else 0    (windowed straight-through)
``SG_LEE``              ``1 / theta`` everywhere: the membrane potential is the differentiable
                        signal and the spike discontinuity is treated as noise (Lee, Delbruck &
                        Pfeiffer 2016); ``w`` is not used
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from neurodeploy.emulator.canonical_kernels import (
    K_INPUT,
    K_LIF,
    S_ARGMAX,
    S_COUNT,
    S_EXP_SUM,
    S_FIRST,
    S_MAX,
    S_SUM,
    neuron_populations,
    ring_size,
)

__all__ = [
    "SG_FAST_SIGMOID",
    "SG_LEE",
    "SG_STRAIGHT_THROUGH",
    "bptt_backward_batch",
    "bptt_forward_batch",
    "pseudo_derivative",
]

SG_FAST_SIGMOID, SG_STRAIGHT_THROUGH, SG_LEE = 0, 1, 2


@njit(cache=True)
def pseudo_derivative(kind, width, vpre, theta):
    """``sigma'(Vpre)`` of pseudo-derivative ``kind`` (``SG_*``) for threshold ``theta``."""
    x = vpre - theta
    if kind == SG_FAST_SIGMOID:
        a = 1.0 + abs(x) / (width * theta)
        return 1.0 / (theta * a * a)
    if kind == SG_STRAIGHT_THROUGH:
        return 1.0 / theta if abs(x) < width * theta else 0.0
    return 1.0 / theta


@njit(cache=True)
def _deliver(ring, w_t, d_t, row, n_post, base, slot0, rlen):
    row = np.uint64(row)
    n = np.uint64(n_post)
    base = np.uint64(base)
    s0 = np.uint64(slot0)
    rl = np.uint64(rlen)
    for i in range(n):
        k = row + i
        slot = s0 + np.uint64(d_t[k])
        if slot >= rl:
            slot -= rl
        ring[base + slot * n + i] += w_t[k]


@njit(cache=True)
def _forward_sample(ev_steps, ev_units, n_steps, net, opts, surr, out):
    """One sample of the canonical forward pass, keeping spikes and pseudo-derivatives."""
    w_t, d_t, bias = net.w_t, net.d_t, net.bias
    out_pop, exp_tau, n_in = opts
    sg_kind, sg_width = surr
    counts, stats, spk, sg, first_den = out
    n_pops = net.pop_size.shape[0]
    n_projs = net.proj_source.shape[0]
    n_all = bias.shape[0]
    neuron_pop = neuron_populations(net)
    v = np.zeros(n_all)
    cur = np.zeros(n_all)
    ring = np.zeros(ring_size(net.pop_size, net.ring_len, net.ring_offset))
    fired = np.empty(n_all, dtype=np.int64)
    counts[:] = 0
    out_size = net.pop_size[out_pop]
    out_off = net.pop_offset[out_pop]
    for k in range(out_size):
        stats[k, S_SUM] = 0.0
        stats[k, S_EXP_SUM] = 0.0
        stats[k, S_MAX] = -np.inf
        stats[k, S_ARGMAX] = -1.0
        stats[k, S_FIRST] = -1.0
        stats[k, S_COUNT] = 0.0
        first_den[k] = 1.0
    ptr = 0
    n_ev = ev_steps.shape[0]
    for t in range(n_steps):
        n_fired = 0
        while ptr < n_ev and ev_steps[ptr] == t:
            fired[n_fired] = ev_units[ptr]
            n_fired += 1
            ptr += 1
        ew = math.exp(-t / exp_tau)
        for p in range(n_pops):
            kind = net.pop_kind[p]
            if kind == K_INPUT:
                continue
            size = net.pop_size[p]
            off = net.pop_offset[p]
            base = net.ring_offset[p] + (t % net.ring_len[p]) * size
            dm = net.decay_mem[p]
            ds = net.decay_syn[p]
            th = net.threshold[p]
            dmin = net.denom_min[p]
            is_lif = kind == K_LIF
            for i in range(size):
                g = off + i
                h = g - n_in
                c = ds * cur[g] + ring[base + i]
                ring[base + i] = 0.0
                cur[g] = c
                vv = dm * v[g] + c + bias[g]
                spiked = is_lif and vv > th
                if is_lif:
                    sg[t, h] = pseudo_derivative(sg_kind, sg_width, vv, th)
                else:
                    sg[t, h] = 0.0
                if spiked:
                    spk[t, h] = 1
                    counts[g] += 1
                    fired[n_fired] = g
                    n_fired += 1
                    if p == out_pop and stats[i, S_FIRST] < 0:
                        den = c + bias[g] - (1.0 - dm) * th
                        if den < dmin:
                            den = dmin
                        first_den[g - out_off] = den
                    vv = 0.0
                else:
                    spk[t, h] = 0
                v[g] = vv
                if p == out_pop:
                    stats[i, S_SUM] += vv
                    stats[i, S_EXP_SUM] += ew * vv
                    if vv > stats[i, S_MAX]:
                        stats[i, S_MAX] = vv
                        stats[i, S_ARGMAX] = t
                    if spiked:
                        if stats[i, S_FIRST] < 0:
                            stats[i, S_FIRST] = t
                        stats[i, S_COUNT] += 1.0
        for f in range(n_fired):
            g = fired[f]
            p = neuron_pop[g]
            j = g - net.pop_offset[p]
            for q in range(n_projs):
                if net.proj_source[q] != p:
                    continue
                tgt = net.proj_target[q]
                n_post = net.pop_size[tgt]
                rlen = net.ring_len[tgt]
                roff = net.ring_offset[tgt]
                row = net.proj_w_offset[q] + j * n_post
                _deliver(ring, w_t, d_t, row, n_post, roff, (t + 1) % rlen, rlen)
    for k in range(out_size):
        if stats[k, S_MAX] == -np.inf:
            stats[k, S_MAX] = 0.0


@njit(cache=True, parallel=True)
def bptt_forward_batch(events, sample_idx, n_steps, net, opts, surr, counts, stats, spk, sg, fden):
    """Forward pass of a batch, keeping what the BPTT backward pass needs.

    Parameters
    ----------
    events : tuple (steps int32[n_events], units int32[n_events], offsets int64[n_samples + 1])
    sample_idx : int64[batch]
    n_steps : int
    net : KernelNet (ring from ``PackedNetwork.with_ring``)
    opts : tuple (out_pop, exp_tau_steps, n_inputs)
        Readout population, time constant (steps) of the exponential readout weight, number of
        input channels (the first global index of a non-input neuron).
    surr : tuple (kind, width)
        Pseudo-derivative ``SG_*`` and its width in units of the threshold.
    counts : int32[batch, n_all]            spikes per neuron (filled)
    stats : float64[batch, n_out, 6]        readout summaries (``S_*`` columns, filled)
    spk : uint8[batch, n_steps, n_all - n_inputs]     1 where a neuron spiked (filled)
    sg : float32[batch, n_steps, n_all - n_inputs]    ``sigma'(Vpre)`` per neuron, 1/V (filled)
    fden : float64[batch, n_out]             denominator ``D`` at each readout neuron's first spike
    """
    ev_steps, ev_units, ev_offsets = events
    for b in prange(sample_idx.shape[0]):
        s = sample_idx[b]
        lo = ev_offsets[s]
        hi = ev_offsets[s + 1]
        _forward_sample(
            ev_steps[lo:hi],
            ev_units[lo:hi],
            n_steps,
            net,
            opts,
            surr,
            (counts[b], stats[b], spk[b], sg[b], fden[b]),
        )


@njit(cache=True)
def _sample_w(grad_w, hist, d_t, row, n_post, col, slot0, n_all):
    """``grad_w += gI_post[ta]`` over one presynaptic row (slot-major mirrored history)."""
    row = np.uint64(row)
    n = np.uint64(n_all)
    a = np.uint64(slot0) * n + np.uint64(col)
    for i in range(np.uint64(n_post)):
        k = row + i
        grad_w[k] += hist[a + np.uint64(d_t[k]) * n + i]


@njit(cache=True)
def _feedback(hist, w_t, d_t, row, n_post, col, slot0, n_all):
    """``sum_post w * gI_post[ta]`` over one presynaptic row."""
    row = np.uint64(row)
    n = np.uint64(n_all)
    a = np.uint64(slot0) * n + np.uint64(col)
    acc = 0.0
    for i in range(np.uint64(n_post)):
        k = row + i
        acc += w_t[k] * hist[a + np.uint64(d_t[k]) * n + i]
    return acc


@njit(cache=True)
def _backward_sample(ev_steps, ev_units, n_steps, net, opts, drive, terms, fwd, grad_w):
    """BPTT backward pass of one sample; fills ``grad_w`` (packed ``[pre, post]`` layout)."""
    w_t, d_t, bias = net.w_t, net.d_t, net.bias
    out_pop, exp_tau, n_in = opts
    first_dl, reg = terms
    spk, sg, fden, first = fwd
    grad_w[:] = 0.0
    n_pops = net.pop_size.shape[0]
    n_projs = net.proj_source.shape[0]
    n_all = bias.shape[0]
    gp = np.zeros(n_all)  # dL/dVpre[t + 1], then [t]
    gi = np.zeros(n_all)
    # gI of the last L = max delay + 2 steps, slot-major and mirrored: gI of neuron g at step t
    # sits in slots t mod L and t mod L + L (row of n_all), so gI[t + 1 + d] of the targets of one
    # presynaptic row is read at slot (t + 1) mod L + d, contiguous in the post index
    n_slots = net.aring_len.max()
    hist = np.zeros(2 * n_slots * n_all)
    flat_q = np.zeros(n_projs, dtype=np.bool_)
    n_w = w_t.shape[0]
    for q in range(n_projs):
        end = net.proj_w_offset[q + 1] if q + 1 < n_projs else n_w
        flat_q[q] = end == net.proj_w_offset[q] or d_t[net.proj_w_offset[q] : end].max() == 0
    ptr_in = ev_steps.shape[0] - 1
    for t in range(n_steps - 1, -1, -1):
        slot1 = (t + 1) % n_slots
        # 1. adjoint step of every non-input neuron (reads gI of steps > t from the history)
        ew = math.exp(-t / exp_tau)
        for p in range(n_pops):
            if net.pop_kind[p] == K_INPUT:
                continue
            size = net.pop_size[p]
            off = net.pop_offset[p]
            dm = net.decay_mem[p]
            ds = net.decay_syn[p]
            for i in range(size):
                g = off + i
                h = g - n_in
                gv = dm * gp[g]
                if p == out_pop:
                    gv += drive[i, 0] + drive[i, 1] * ew
                    if drive[i, 3] == t:
                        gv += drive[i, 2]
                s = spk[t, h]
                d = np.float64(sg[t, h])
                a = 0.0 if s else gv
                if d != 0.0:
                    gs = reg[g]
                    for q in range(n_projs):
                        if net.proj_source[q] != p:
                            continue
                        tgt = net.proj_target[q]
                        n_post = net.pop_size[tgt]
                        row = net.proj_w_offset[q] + i * n_post
                        if flat_q[q]:  # no delays: a contiguous dot product (BLAS)
                            a0 = slot1 * n_all + net.pop_offset[tgt]
                            gs += np.dot(w_t[row : row + n_post], hist[a0 : a0 + n_post])
                        else:
                            gs += _feedback(
                                hist, w_t, d_t, row, n_post, net.pop_offset[tgt], slot1, n_all
                            )
                    a += d * gs
                if p == out_pop and first[i] == t:
                    a -= first_dl[i] / fden[i]
                gp[g] = a
                gi[g] = a + ds * gi[g]
        for p in range(n_pops):
            if net.pop_kind[p] == K_INPUT:
                continue
            size = net.pop_size[p]
            off = net.pop_offset[p]
            lo_w = (t % n_slots) * n_all + off
            hi_w = lo_w + n_slots * n_all
            for i in range(size):
                hist[lo_w + i] = gi[off + i]
                hist[hi_w + i] = gi[off + i]
        # 2. every spike emitted at t samples gI of its targets at arrival t + 1 + d
        lo = ptr_in
        while ptr_in >= 0 and ev_steps[ptr_in] == t:
            ptr_in -= 1
        for src in range(2):
            n_src = lo - ptr_in if src == 0 else n_all - n_in
            for e in range(n_src):
                if src == 0:
                    g = np.int64(ev_units[lo - e])
                else:
                    if spk[t, e] == 0:
                        continue
                    g = n_in + e
                p = -1
                for pp in range(n_pops):
                    if g >= net.pop_offset[pp] and g < net.pop_offset[pp] + net.pop_size[pp]:
                        p = pp
                j = g - net.pop_offset[p]
                for q in range(n_projs):
                    if net.proj_source[q] != p:
                        continue
                    tgt = net.proj_target[q]
                    n_post = net.pop_size[tgt]
                    row = net.proj_w_offset[q] + j * n_post
                    _sample_w(grad_w, hist, d_t, row, n_post, net.pop_offset[tgt], slot1, n_all)


@njit(cache=True, parallel=True)
def bptt_backward_batch(events, sample_idx, n_steps, net, opts, drives, terms, fwd, grad_w):
    """BPTT backward pass of a batch after :func:`bptt_forward_batch`; per-sample gradients.

    Parameters
    ----------
    opts : tuple (out_pop, exp_tau_steps, n_inputs) as for the forward pass.
    drives : float64[batch, n_out, 4]
        Loss drive on the readout V (:func:`neurodeploy.trainer.losses.compute_loss`).
    terms : tuple (first_dl float64[batch, n_out], reg float64[batch, n_all])
        ``dl/dt`` of each readout neuron's first spike (loss per step) and the spike-count
        regulariser's ``dL/dn`` per neuron.
    fwd : tuple (spk, sg, fden, first int64[batch, n_out]) from the forward pass; ``first`` is
        the step of each readout neuron's first spike (-1: none).
    grad_w : float32[batch, n_w]
        Zeroed and filled per sample: ``dL/dw`` in the packed ``[pre, post]`` layout (each term
        computed in float64, accumulated per sample in float32 as the EventProp kernel does).
    """
    ev_steps, ev_units, ev_offsets = events
    first_dl, reg = terms
    spk, sg, fden, first = fwd
    for b in prange(sample_idx.shape[0]):
        s = sample_idx[b]
        lo = ev_offsets[s]
        hi = ev_offsets[s + 1]
        _backward_sample(
            ev_steps[lo:hi],
            ev_units[lo:hi],
            n_steps,
            net,
            opts,
            drives[b],
            (first_dl[b], reg[b]),
            (spk[b], sg[b], fden[b], first[b]),
            grad_w[b],
        )
