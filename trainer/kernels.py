"""Numba kernels of the EventProp trainer: forward pass, adjoint pass, gradient reduction.

Only ``@njit`` functions on plain arrays live here; :mod:`neurodeploy.trainer.model` packs a
network into these arrays. All populations share one global neuron index ``g`` (input neurons
included, in population order). Projection weights and delays are stored flat, per projection
transposed to ``[pre, post]`` so that a spike of ``pre`` touches one contiguous row.

Forward (canonical semantics, docs/ARCHITECTURE.md), per step ``t`` and non-input neuron::

    I[t] = decay_syn * I[t-1] + x[t]        x[t] = sum of w of spikes arriving at t
    V[t] = decay_mem * V[t-1] + I[t] + bias
    spike if V[t] > threshold (lif), then V[t] = 0

A spike emitted at step ``t`` over a synapse of delay ``d`` (integer steps) arrives at
``t + 1 + d``. Arrivals are summed into a ring buffer of ``max_delay + 1`` slots per target
population, in the order they are emitted: by emission step, then source population, then
presynaptic index, then projection. For each spike the tape keeps its step, neuron and the
denominator ``D = I[t] + bias - (1 - decay_mem) * threshold`` (the per-step rise of V at threshold,
``dt * dV/dt``, floored at the population's ``denom_min``).

Adjoint (reverse steps; ``gV[t] = dL/dVpre[t]``, ``gI[t] = dL/dI[t]``)::

    aV    = decay_mem * gV[t+1] + dl/dV[t]                       (loss drive of the readout)
    gV[t] = aV                                                   no spike at t
    gV[t] = aV * (1 + (1 - decay_mem) * threshold / D)
            + (sum_post w * (gI_post[ta] - gI_post[ta+1]) - dl/dt_spike) / D + reg     spike at t
    gI[t] = gV[t] + decay_syn * gI[t+1]
    dL/dw = sum gI_post[ta]              dL/dd = w * sum (gI_post[ta+1] - gI_post[ta])

for every spike at ``t`` reaching ``post`` at ``ta = t + 1 + d``. Between spikes this is the exact
transpose of the forward step; at a spike it is the EventProp transition of the continuous model
whose sampling the forward step is (``dl/dt_spike`` in units of loss per step). The adjoint ring
keeps ``gI`` of the last ``max_delay + 2`` steps per population.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "F_DECAY_MEM",
    "F_DECAY_SYN",
    "F_DENOM_MIN",
    "F_THRESHOLD",
    "K_INPUT",
    "K_LI",
    "K_LIF",
    "P_ARING_LEN",
    "P_ARING_OFFSET",
    "P_KIND",
    "P_OFFSET",
    "P_RING_LEN",
    "P_RING_OFFSET",
    "P_SIZE",
    "Q_LEARN_D",
    "Q_SRC",
    "Q_TGT",
    "Q_W_OFFSET",
    "S_ARGMAX",
    "S_COUNT",
    "S_EXP_SUM",
    "S_FIRST",
    "S_MAX",
    "S_SUM",
    "backward_batch",
    "forward_batch",
    "record_batch",
    "sum_over_batch",
]

# pops_i columns (int64[n_pops, 7]); the adjoint ring has ring_len + 1 slots
P_SIZE, P_OFFSET, P_KIND, P_RING_LEN, P_RING_OFFSET, P_ARING_LEN, P_ARING_OFFSET = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
)
# kinds
K_INPUT, K_LIF, K_LI = 0, 1, 2
# pops_f columns (float64[n_pops, 4])
F_DECAY_MEM, F_DECAY_SYN, F_THRESHOLD, F_DENOM_MIN = 0, 1, 2, 3
# projs_i columns (int64[n_projs, 4]); Q_LEARN_D = 0 skips the delay-gradient sums
Q_SRC, Q_TGT, Q_W_OFFSET, Q_LEARN_D = 0, 1, 2, 3
# out_stats columns (float64[batch, n_out, 6])
S_SUM, S_EXP_SUM, S_MAX, S_ARGMAX, S_FIRST, S_COUNT = 0, 1, 2, 3, 4, 5


# Hot loops over the targets of one spike. Unsigned indices spare numba's negative-index
# wraparound checks. Slots of steps >= n_steps are never read (forward) or never written
# (adjoint, so they read 0), so arrivals beyond the trial need no branch.


@njit(cache=True)
def _deliver(ring, w_t, d_t, row, n_post, base, slot0, rlen):
    """``ring[base + ((slot0 + d) mod rlen) * n_post + i] += w`` over one presynaptic row."""
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
def _sample_w(grad_w, aring, d_t, row, n_post, base, slot0, alen):
    """``grad_w += gI[ta]`` over one presynaptic row."""
    row = np.uint64(row)
    a = np.uint64(base) + np.uint64(slot0)
    stride = np.uint64(2 * alen)
    for i in range(np.uint64(n_post)):
        k = row + i
        grad_w[k] += aring[a + np.uint64(d_t[k])]
        a += stride


@njit(cache=True)
def _sample_wb(grad_w, grad_b, aring, d_t, row, n_post, base, slot0, alen):
    """``grad_w += gI[ta]``, ``grad_b += gI[ta + 1] - gI[ta]`` over one presynaptic row."""
    row = np.uint64(row)
    a = np.uint64(base) + np.uint64(slot0)
    stride = np.uint64(2 * alen)
    one = np.uint64(1)
    for i in range(np.uint64(n_post)):
        k = row + i
        sa = a + np.uint64(d_t[k])
        gi_a = aring[sa]
        grad_w[k] += gi_a
        grad_b[k] += aring[sa + one] - gi_a
        a += stride


@njit(cache=True)
def _sample_fb(grads, aring, w_t, d_t, row, n_post, base, slot0, alen):
    """As :func:`_sample_wb`, returning the feedback ``sum w * (gI[ta] - gI[ta + 1])``."""
    grad_w, grad_b = grads
    row = np.uint64(row)
    a = np.uint64(base) + np.uint64(slot0)
    stride = np.uint64(2 * alen)
    one = np.uint64(1)
    acc = 0.0
    for i in range(np.uint64(n_post)):
        k = row + i
        sa = a + np.uint64(d_t[k])
        gi_a = aring[sa]
        gi_b = aring[sa + one]
        grad_w[k] += gi_a
        grad_b[k] += gi_b - gi_a
        acc += w_t[k] * (gi_a - gi_b)
        a += stride
    return acc


@njit(cache=True)
def _neuron_pops(pops_i):
    """Population index of every global neuron."""
    n_all = pops_i[-1, P_OFFSET] + pops_i[-1, P_SIZE]
    out = np.empty(n_all, dtype=np.int64)
    for p in range(pops_i.shape[0]):
        off = pops_i[p, P_OFFSET]
        for i in range(pops_i[p, P_SIZE]):
            out[off + i] = p
    return out


@njit(cache=True)
def _ring_size(pops_i, len_col, off_col):
    total = 0
    for p in range(pops_i.shape[0]):
        end = pops_i[p, off_col] + pops_i[p, len_col] * pops_i[p, P_SIZE]
        if end > total:
            total = end
    return total


@njit(cache=True)
def _forward_sample(ev_steps, ev_units, n_steps, net, opts, tape, stats, rec):
    """Simulate one sample; fill tape/stats/rec (any may have zero length). The tape length
    written to ``tape[4][0]`` may exceed the capacity; then only the first entries are stored.

    (Kernels write only through helpers like this one: numba drops a direct ``a[b] = x`` inside
    ``prange`` when ``a`` was unpacked from a tuple argument.)"""
    pops_i, pops_f, projs_i, w_t, d_t, bias = net
    out_pop, exp_tau, rec_lo, rec_hi = opts
    tape_t, tape_n, tape_d, counts, tape_len = tape
    rec_s, rec_v, rec_u = rec
    n_pops = pops_i.shape[0]
    n_all = bias.shape[0]
    neuron_pop = _neuron_pops(pops_i)
    v = np.zeros(n_all)
    cur = np.zeros(n_all)
    ring = np.zeros(_ring_size(pops_i, P_RING_LEN, P_RING_OFFSET))
    fired = np.empty(n_all, dtype=np.int64)
    cap = tape_t.shape[0]
    do_stats = stats.shape[0] > 0
    do_rec = rec_s.shape[0] > 0
    counts[:] = 0
    out_size = pops_i[out_pop, P_SIZE]
    if do_stats:
        for k in range(out_size):
            stats[k, S_SUM] = 0.0
            stats[k, S_EXP_SUM] = 0.0
            stats[k, S_MAX] = -np.inf
            stats[k, S_ARGMAX] = -1.0
            stats[k, S_FIRST] = -1.0
            stats[k, S_COUNT] = 0.0
    n_tape = 0
    ptr = 0
    n_ev = ev_steps.shape[0]
    for t in range(n_steps):
        n_fired = 0
        while ptr < n_ev and ev_steps[ptr] == t:
            fired[n_fired] = ev_units[ptr]  # the input population comes first (offset 0)
            n_fired += 1
            ptr += 1
        ew = math.exp(-t / exp_tau)
        for p in range(n_pops):
            kind = pops_i[p, P_KIND]
            if kind == K_INPUT:
                continue
            size = pops_i[p, P_SIZE]
            off = pops_i[p, P_OFFSET]
            base = pops_i[p, P_RING_OFFSET] + (t % pops_i[p, P_RING_LEN]) * size
            dm = pops_f[p, F_DECAY_MEM]
            ds = pops_f[p, F_DECAY_SYN]
            th = pops_f[p, F_THRESHOLD]
            dmin = pops_f[p, F_DENOM_MIN]
            for i in range(size):
                g = off + i
                c = ds * cur[g] + ring[base + i]
                ring[base + i] = 0.0
                cur[g] = c
                vv = dm * v[g] + c + bias[g]
                spiked = kind == K_LIF and vv > th
                if spiked:
                    den = c + bias[g] - (1.0 - dm) * th
                    if den < dmin:
                        den = dmin
                    if n_tape < cap:
                        tape_t[n_tape] = t
                        tape_n[n_tape] = g
                        tape_d[n_tape] = den
                    n_tape += 1
                    if counts.shape[0] > 0:
                        counts[g] += 1
                    fired[n_fired] = g
                    n_fired += 1
                    vv = 0.0
                v[g] = vv
                if do_stats and p == out_pop:
                    k = i
                    stats[k, S_SUM] += vv
                    stats[k, S_EXP_SUM] += ew * vv
                    if vv > stats[k, S_MAX]:
                        stats[k, S_MAX] = vv
                        stats[k, S_ARGMAX] = t
                    if spiked:
                        if stats[k, S_FIRST] < 0:
                            stats[k, S_FIRST] = t
                        stats[k, S_COUNT] += 1.0
                if do_rec and g >= rec_lo and g < rec_hi:
                    rec_s[t, g - rec_lo] = 1 if spiked else 0
                    rec_v[t, g - rec_lo] = vv
                    rec_u[t, g - rec_lo] = c
        # deliver this step's spikes: source population order, then neuron, then projection
        for f in range(n_fired):
            g = fired[f]
            p = neuron_pop[g]
            j = g - pops_i[p, P_OFFSET]
            for q in range(projs_i.shape[0]):
                if projs_i[q, Q_SRC] != p:
                    continue
                tgt = projs_i[q, Q_TGT]
                n_post = pops_i[tgt, P_SIZE]
                rlen = pops_i[tgt, P_RING_LEN]
                roff = pops_i[tgt, P_RING_OFFSET]
                row = projs_i[q, Q_W_OFFSET] + j * n_post
                _deliver(ring, w_t, d_t, row, n_post, roff, (t + 1) % rlen, rlen)
    if do_stats:
        for k in range(out_size):
            if stats[k, S_MAX] == -np.inf:
                stats[k, S_MAX] = 0.0
    if tape_len.shape[0] > 0:
        tape_len[0] = n_tape


@njit(cache=True, parallel=True)
def forward_batch(events, sample_idx, n_steps, net, opts, tape, counts, stats):
    """Forward pass of a batch, recording what the adjoint pass needs.

    Parameters
    ----------
    events : tuple (steps int32[n_events], units int32[n_events], offsets int64[n_samples + 1])
        Input spikes of all samples (:class:`neurodeploy.spikes.SpikeData` arrays).
    sample_idx : int64[batch]
        Samples to run.
    n_steps : int
        Trial length in steps.
    net : tuple (pops_i, pops_f, projs_i, w_t, d_t int32, bias)
        Packed network (see :mod:`neurodeploy.trainer.model`).
    opts : tuple (out_pop, exp_tau_steps, 0, 0)
        Index of the readout population and the time constant of the exponential readout weight.
    tape : tuple (steps int32[batch, cap], neurons int32[batch, cap], denoms float64[batch, cap],
        lengths int64[batch])
        Spike tape, filled per sample; ``lengths[b] > cap`` means it overflowed.
    counts : int32[batch, n_all]
        Spike count of every neuron (filled).
    stats : float64[batch, n_out, 6]
        Readout summaries (columns ``S_*``).
    """
    ev_steps, ev_units, ev_offsets = events
    tape_t, tape_n, tape_d, lengths = tape
    no_u8 = np.zeros((0, 0), dtype=np.uint8)
    no_f = np.zeros((0, 0))
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
            (tape_t[b], tape_n[b], tape_d[b], counts[b], lengths[b : b + 1]),
            stats[b],
            (no_u8, no_f, no_f),
        )


@njit(cache=True, parallel=True)
def record_batch(events, sample_idx, n_steps, net, rec_range, rec_s, rec_v, rec_u):
    """Forward pass of a batch recording spikes, V and I of global neurons ``rec_range``.

    ``rec_s`` uint8, ``rec_v`` and ``rec_u`` float64, all of shape (batch, n_steps, n_rec); V is
    recorded after the reset.
    """
    ev_steps, ev_units, ev_offsets = events
    lo_g, hi_g = rec_range
    no_i32 = np.zeros(0, dtype=np.int32)
    no_i64 = np.zeros(0, dtype=np.int64)
    no_f1 = np.zeros(0)
    no_stats = np.zeros((0, 6))
    for b in prange(sample_idx.shape[0]):
        s = sample_idx[b]
        lo = ev_offsets[s]
        hi = ev_offsets[s + 1]
        _forward_sample(
            ev_steps[lo:hi],
            ev_units[lo:hi],
            n_steps,
            net,
            (0, 1.0, lo_g, hi_g),
            (no_i32, no_i32, no_f1, no_i32, no_i64),
            no_stats,
            (rec_s[b], rec_v[b], rec_u[b]),
        )


@njit(cache=True)
def _backward_sample(ev_steps, ev_units, n_steps, net, readout, drive, spike_terms, tape, grads):
    """Adjoint pass of one sample; fills ``grads = (grad_w, grad_b)`` (see backward_batch)."""
    pops_i, pops_f, projs_i, w_t, d_t, bias = net
    out_pop, exp_tau = readout
    tape_t, tape_n, tape_d, n_tape = tape
    grad_w, grad_b = grads
    grad_w[:] = 0.0
    grad_b[:] = 0.0
    first_dl, reg = spike_terms
    n_pops = pops_i.shape[0]
    n_all = bias.shape[0]
    neuron_pop = _neuron_pops(pops_i)
    gv = np.zeros(n_all)
    gi = np.zeros(n_all)
    fb = np.zeros(n_all)
    spk_at = np.full(n_all, -1, dtype=np.int64)
    spk_den = np.zeros(n_all)
    # adjoint ring, post-major and mirrored: gI of neuron i at step t is kept at slots
    # t mod alen and t mod alen + alen of row i (2 * alen slots, at 2 * P_ARING_OFFSET + i * 2 *
    # alen), so both gI[ta] and gI[ta + 1] lie at (t + 1) mod alen + d (+ 1), side by side
    aring = np.zeros(2 * _ring_size(pops_i, P_ARING_LEN, P_ARING_OFFSET))
    out_off = pops_i[out_pop, P_OFFSET]
    first_step = np.full(pops_i[out_pop, P_SIZE], -1, dtype=np.int64)
    # first spike of every readout neuron, from the tape
    for e in range(n_tape):
        g = tape_n[e]
        if g >= out_off and g < out_off + first_step.shape[0] and first_step[g - out_off] < 0:
            first_step[g - out_off] = tape_t[e]
    ptr_in = ev_steps.shape[0] - 1
    ptr = n_tape - 1
    for t in range(n_steps - 1, -1, -1):
        # 1. every spike emitted at t samples the adjoints of its targets at arrival
        while True:
            if ptr_in >= 0 and ev_steps[ptr_in] == t:
                g = np.int64(ev_units[ptr_in])
                ptr_in -= 1
            elif ptr >= 0 and tape_t[ptr] == t:
                g = np.int64(tape_n[ptr])
                spk_at[g] = t
                spk_den[g] = tape_d[ptr]
                ptr -= 1
            else:
                break
            p = neuron_pop[g]
            j = g - pops_i[p, P_OFFSET]
            acc = 0.0
            for q in range(projs_i.shape[0]):
                if projs_i[q, Q_SRC] != p:
                    continue
                tgt = projs_i[q, Q_TGT]
                n_post = pops_i[tgt, P_SIZE]
                alen = pops_i[tgt, P_ARING_LEN]
                aoff = 2 * pops_i[tgt, P_ARING_OFFSET]
                row = projs_i[q, Q_W_OFFSET] + j * n_post
                slot0 = (t + 1) % alen
                if p == 0 and projs_i[q, Q_LEARN_D] == 0:
                    _sample_w(grad_w, aring, d_t, row, n_post, aoff, slot0, alen)
                elif p == 0:
                    _sample_wb(grad_w, grad_b, aring, d_t, row, n_post, aoff, slot0, alen)
                else:
                    acc += _sample_fb(grads, aring, w_t, d_t, row, n_post, aoff, slot0, alen)
            fb[g] += acc
        # 2. adjoint step of every non-input neuron
        ew = math.exp(-t / exp_tau)
        for p in range(n_pops):
            if pops_i[p, P_KIND] == K_INPUT:
                continue
            size = pops_i[p, P_SIZE]
            off = pops_i[p, P_OFFSET]
            dm = pops_f[p, F_DECAY_MEM]
            ds = pops_f[p, F_DECAY_SYN]
            th = pops_f[p, F_THRESHOLD]
            alen = pops_i[p, P_ARING_LEN]
            abase = 2 * pops_i[p, P_ARING_OFFSET] + t % alen
            for i in range(size):
                g = off + i
                av = dm * gv[g]
                if p == out_pop:
                    av += drive[i, 0] + drive[i, 1] * ew
                    if drive[i, 3] == t:
                        av += drive[i, 2]
                if spk_at[g] == t:
                    den = spk_den[g]
                    num = fb[g]
                    if p == out_pop and first_step[i] == t:
                        num -= first_dl[i]
                    av = av * (1.0 + (1.0 - dm) * th / den) + num / den + reg[g]
                    fb[g] = 0.0
                gv[g] = av
                gi[g] = av + ds * gi[g]
                a = abase + 2 * alen * i
                aring[a] = gi[g]
                aring[a + alen] = gi[g]


@njit(cache=True, parallel=True)
def backward_batch(events, sample_idx, n_steps, net, readout, drives, spike_terms, tape, grads):
    """Adjoint pass of a batch after :func:`forward_batch`; per-sample gradients.

    Parameters
    ----------
    readout : tuple (out_pop, exp_tau_steps)
        Readout population index and time constant of the exponential readout weight.
    drives : float64[batch, n_out, 4]
        Loss drive on the readout V: ``dl/dV[t] = c0 + c1 * exp(-t / tau) (+ c2 if t == step)``,
        columns (c0, c1, c2, step).
    spike_terms : tuple (first_dl float64[batch, n_out], reg float64[batch, n_all])
        ``dl/dt`` of each readout neuron's first spike (loss per step) and the regularisation
        drive added to ``gV`` of a neuron at each of its spikes.
    tape : tuple from :func:`forward_batch`.
    grads : tuple (grad_w float32[batch, n_w], grad_b float32[batch, n_w])
        Zeroed and filled per sample, in the packed ``[pre, post]`` layout: ``grad_w`` sums
        ``gI_post[ta]`` (the weight gradient), ``grad_b`` sums ``gI_post[ta + 1] - gI_post[ta]``
        (the delay gradient is ``w * grad_b``; left 0 for projections whose ``Q_LEARN_D`` is 0
        and whose source is the input). Each term is computed in float64 and accumulated per
        sample in float32, which halves the memory traffic of the hottest loop; the batch sum
        (:func:`sum_over_batch`) is float64.
    """
    ev_steps, ev_units, ev_offsets = events
    tape_t, tape_n, tape_d, lengths = tape
    grad_w, grad_b = grads
    first_dl, reg = spike_terms
    for b in prange(sample_idx.shape[0]):
        s = sample_idx[b]
        lo = ev_offsets[s]
        hi = ev_offsets[s + 1]
        _backward_sample(
            ev_steps[lo:hi],
            ev_units[lo:hi],
            n_steps,
            net,
            readout,
            drives[b],
            (first_dl[b], reg[b]),
            (tape_t[b], tape_n[b], tape_d[b], lengths[b]),
            (grad_w[b], grad_b[b]),
        )


@njit(cache=True, parallel=True)
def sum_over_batch(per_sample, out):
    """``out[k] = sum_b per_sample[b, k]``, summed in batch order (thread-count independent)."""
    n_b = per_sample.shape[0]
    for k in prange(per_sample.shape[1]):
        acc = 0.0
        for b in range(n_b):
            acc += per_sample[b, k]
        out[k] = acc
