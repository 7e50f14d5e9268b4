"""Numba kernels of the canonical float model: the forward pass every float run uses.

Only ``@njit`` functions on plain arrays and the named tuples that group them live here;
:mod:`neurodeploy.emulator.canonical_layout` packs a network into them, and the EventProp adjoint
(:mod:`neurodeploy.trainer.kernels`) replays the tape :func:`forward_batch` records. All
populations share one global neuron index ``g`` (the input populations first, in network order,
so an input channel is its global index). Projection weights and delays are stored flat, per
projection transposed to ``[pre, post]`` so that a spike of ``pre`` touches one contiguous row.

Canonical semantics (docs/ARCHITECTURE.md), per step ``t`` and non-input neuron::

    I[t] = decay_syn * I[t-1] + x[t]        x[t] = sum of w of spikes arriving at t
    V[t] = decay_mem * V[t-1] + I[t] + bias
    spike if V[t] > threshold (lif), then V[t] = 0

A spike emitted at step ``t`` over a synapse of delay ``d`` (integer steps) arrives at
``t + 1 + d``. Arrivals are summed into a ring buffer of ``max_delay + 1`` slots per target
population, in the order they are emitted: by emission step, then source population, then
presynaptic index, then projection. For each spike the tape keeps its step, neuron and the
denominator ``D = I[t] + bias - (1 - decay_mem) * threshold`` (the per-step rise of V at threshold,
``dt * dV/dt``, floored at the population's ``denom_min``), which the adjoint needs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

__all__ = [
    "K_INPUT",
    "K_LI",
    "K_LIF",
    "S_ARGMAX",
    "S_COUNT",
    "S_EXP_SUM",
    "S_FIRST",
    "S_MAX",
    "S_SUM",
    "KernelNet",
    "forward_batch",
    "neuron_populations",
    "record_batch",
    "ring_size",
]

# population kinds
K_INPUT, K_LIF, K_LI = 0, 1, 2
# columns of the readout stats the forward pass fills (float64[batch, n_out, 6]); an output
# array, read by :func:`neurodeploy.trainer.losses.summary_from_stats` only
S_SUM, S_EXP_SUM, S_MAX, S_ARGMAX, S_FIRST, S_COUNT = 0, 1, 2, 3, 4, 5


class KernelNet(NamedTuple):
    """A packed network with one set of weights and integer delays: what every kernel takes.

    One flat record (numba's parallel loops cannot take nested tuples of arrays). ``pop_*`` and
    the ring fields have one entry per packed population ``p``, ``proj_*`` one per projection
    ``q`` in network order.
    """

    pop_size: NDArray[np.int64]
    pop_offset: NDArray[np.int64]  # global index of the population's first neuron
    pop_kind: NDArray[np.int64]  # K_INPUT, K_LIF or K_LI
    ring_len: NDArray[np.int64]  # forward ring slots: largest incoming delay + 1
    ring_offset: NDArray[np.int64]
    aring_len: NDArray[np.int64]  # adjoint ring slots: largest incoming delay + 2
    aring_offset: NDArray[np.int64]
    decay_mem: NDArray[np.float64]
    decay_syn: NDArray[np.float64]
    threshold: NDArray[np.float64]
    denom_min: NDArray[np.float64]  # floor of the spike denominator D
    proj_source: NDArray[np.int64]  # packed population index
    proj_target: NDArray[np.int64]
    proj_w_offset: NDArray[np.int64]  # start of its rows in the flat [pre, post] weights
    proj_learn_delays: NDArray[np.int64]  # 0 skips the delay-gradient sums of input sources
    w_t: NDArray[np.float64]  # flat [pre, post] weights of every projection
    d_t: NDArray[np.int32]  # flat [pre, post] integer delays
    bias: NDArray[np.float64]  # per global neuron


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
def neuron_populations(net):
    """Population index of every global neuron."""
    n_all = net.pop_offset[-1] + net.pop_size[-1]
    out = np.empty(n_all, dtype=np.int64)
    for p in range(net.pop_size.shape[0]):
        off = net.pop_offset[p]
        for i in range(net.pop_size[p]):
            out[off + i] = p
    return out


@njit(cache=True)
def ring_size(sizes, ring_lens, ring_offsets):
    """Length of a ring buffer laid out per population at ``ring_offsets``."""
    total = 0
    for p in range(sizes.shape[0]):
        end = ring_offsets[p] + ring_lens[p] * sizes[p]
        if end > total:
            total = end
    return total


@njit(cache=True)
def _forward_sample(ev_steps, ev_units, n_steps, net, opts, tape, stats, rec):
    """Simulate one sample; fill tape/stats/rec (any may have zero length). The tape length
    written to ``tape[4][0]`` may exceed the capacity; then only the first entries are stored.

    (Kernels write only through helpers like this one: numba drops a direct ``a[b] = x`` inside
    ``prange`` when ``a`` was unpacked from a tuple argument.)"""
    w_t, d_t, bias = net.w_t, net.d_t, net.bias
    out_pop, exp_tau, rec_lo, rec_hi = opts
    tape_t, tape_n, tape_d, counts, tape_len = tape
    rec_s, rec_v, rec_u = rec
    n_pops = net.pop_size.shape[0]
    n_projs = net.proj_source.shape[0]
    n_all = bias.shape[0]
    neuron_pop = neuron_populations(net)
    v = np.zeros(n_all)
    cur = np.zeros(n_all)
    ring = np.zeros(ring_size(net.pop_size, net.ring_len, net.ring_offset))
    fired = np.empty(n_all, dtype=np.int64)
    cap = tape_t.shape[0]
    do_stats = stats.shape[0] > 0
    do_rec = rec_s.shape[0] > 0
    counts[:] = 0
    out_size = net.pop_size[out_pop]
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
            fired[n_fired] = ev_units[ptr]  # input channel = global index
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
    net : KernelNet
        Packed network (:mod:`neurodeploy.emulator.canonical_layout`).
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
