"""Numba kernels of the EventProp adjoint pass and the gradient reduction.

The forward pass is the core's (:mod:`neurodeploy.emulator.canonical_kernels`): it records the
spike tape (step, neuron, denominator ``D``) that this pass replays backwards, on the same
:class:`~neurodeploy.emulator.canonical_kernels.KernelNet`.

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

from neurodeploy.emulator.canonical_kernels import K_INPUT, neuron_populations, ring_size

__all__ = ["backward_batch", "sum_over_batch"]


# Hot loops over the targets of one spike. Unsigned indices spare numba's negative-index
# wraparound checks. Slots of steps >= n_steps are never read (forward) or never written
# (adjoint, so they read 0), so arrivals beyond the trial need no branch.


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
def _backward_sample(ev_steps, ev_units, n_steps, net, readout, drive, spike_terms, tape, grads):
    """Adjoint pass of one sample; fills ``grads = (grad_w, grad_b)`` (see backward_batch)."""
    w_t, d_t, bias = net.w_t, net.d_t, net.bias
    out_pop, exp_tau = readout
    tape_t, tape_n, tape_d, n_tape = tape
    grad_w, grad_b = grads
    grad_w[:] = 0.0
    grad_b[:] = 0.0
    first_dl, reg = spike_terms
    n_pops = net.pop_size.shape[0]
    n_projs = net.proj_source.shape[0]
    n_all = bias.shape[0]
    neuron_pop = neuron_populations(net)
    gv = np.zeros(n_all)
    gi = np.zeros(n_all)
    fb = np.zeros(n_all)
    spk_at = np.full(n_all, -1, dtype=np.int64)
    spk_den = np.zeros(n_all)
    # adjoint ring, post-major and mirrored: gI of neuron i at step t is kept at slots
    # t mod alen and t mod alen + alen of row i (2 * alen slots, at 2 * aring_offset + i * 2 *
    # alen), so both gI[ta] and gI[ta + 1] lie at (t + 1) mod alen + d (+ 1), side by side
    aring = np.zeros(2 * ring_size(net.pop_size, net.aring_len, net.aring_offset))
    out_off = net.pop_offset[out_pop]
    first_step = np.full(net.pop_size[out_pop], -1, dtype=np.int64)
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
            j = g - net.pop_offset[p]
            acc = 0.0
            from_input = net.pop_kind[p] == K_INPUT
            for q in range(n_projs):
                if net.proj_source[q] != p:
                    continue
                tgt = net.proj_target[q]
                n_post = net.pop_size[tgt]
                alen = net.aring_len[tgt]
                aoff = 2 * net.aring_offset[tgt]
                row = net.proj_w_offset[q] + j * n_post
                slot0 = (t + 1) % alen
                if from_input and net.proj_learn_delays[q] == 0:
                    _sample_w(grad_w, aring, d_t, row, n_post, aoff, slot0, alen)
                elif from_input:
                    _sample_wb(grad_w, grad_b, aring, d_t, row, n_post, aoff, slot0, alen)
                else:
                    acc += _sample_fb(grads, aring, w_t, d_t, row, n_post, aoff, slot0, alen)
            fb[g] += acc
        # 2. adjoint step of every non-input neuron
        ew = math.exp(-t / exp_tau)
        for p in range(n_pops):
            if net.pop_kind[p] == K_INPUT:
                continue
            size = net.pop_size[p]
            off = net.pop_offset[p]
            dm = net.decay_mem[p]
            ds = net.decay_syn[p]
            th = net.threshold[p]
            alen = net.aring_len[p]
            abase = 2 * net.aring_offset[p] + t % alen
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
        (the delay gradient is ``w * grad_b``; left 0 for projections whose ``learn_delays`` is 0
        and whose source is an input). Each term is computed in float64 and accumulated per
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
