"""Numba kernels of the Loihi 2 emulator: Lava's fixed-point LIF and (Delay)Dense arithmetic.

Only ``@njit`` functions on plain arrays live here; :mod:`neurodeploy.targets.loihi2.emulator` packs a
hardware model into these arrays. Integer widths are explicit: state is int32 with Lava's wraps,
products are int64, decays truncate toward zero.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["loihi2_run"]

# Columns of the packed arrays (see neurodeploy.targets.loihi2.emulator._pack).
NEURON_MULT_U, NEURON_MULT_V, NEURON_VTH, NEURON_BIAS = 0, 1, 2, 3
PROJ_POST_OFFSET, PROJ_N_POST, PROJ_N_SLOTS, PROJ_BUF_OFFSET, PROJ_WEIGHT_EXP = 0, 1, 2, 3, 4
BLOCK_PROJ, BLOCK_START, BLOCK_END = 0, 1, 2
SYN_POST, SYN_WEIGHT, SYN_DELAY = 0, 1, 2

_MAX_UV = 1 << 23
_V_LIMIT = _MAX_UV - 1


@njit(cache=True, inline="always")
def _wrap32(x):
    """Two's-complement wrap of an int64 to the int32 range (numpy's int32 overflow)."""
    return ((x + 2147483648) & 4294967295) - 2147483648


@njit(cache=True, inline="always")
def _decay(x, mult):
    """``sign(x*mult) * (|x*mult| >> 12)``: Lava's decay, truncating toward zero."""
    p = x * mult
    if p >= 0:
        return p >> 12
    return -((-p) >> 12)


@njit(cache=True, inline="always")
def _shift(acc, weight_exp):
    """Dense's weight exponent on an accumulated sum: ``<<`` for positive, floor ``>>`` otherwise."""
    if weight_exp > 0:
        return acc << weight_exp
    return acc >> -weight_exp


@njit(cache=True, parallel=True)
def loihi2_run(
    in_events,
    in_offsets,
    neuron_params,
    proj_info,
    src_ptr,
    blocks,
    syn_data,
    out_spikes,
    out_v,
    out_u,
):
    """Run every sample of a batch through a Loihi 2 hardware model.

    Parameters
    ----------
    in_events : int64 array, shape (n_events, 2)
        ``(step, source)`` of every input spike, sorted by step within each sample; sources
        ``0 … n_inputs-1`` are input neurons.
    in_offsets : int64 array, shape (n_samples + 1,)
        Sample ``b`` owns ``in_events[in_offsets[b]:in_offsets[b+1]]``.
    neuron_params : int64 array, shape (n_neurons, 4)
        Per non-input neuron: current multiplier ``4095 - du``, voltage multiplier ``4096 - dv``,
        ``vth << 6``, ``bias_mant << bias_exp``.
    proj_info : int64 array, shape (n_proj, 5)
        Per projection: first post neuron, n_post, delay slots (max delay + 1), offset in the flat
        delay buffer, weight_exp.
    src_ptr : int64 array, shape (n_inputs + n_neurons + 1,)
        The synapse blocks of source ``s`` (inputs first, then neurons) are
        ``blocks[src_ptr[s]:src_ptr[s + 1]]``.
    blocks : int64 array, shape (n_blocks, 3)
        One row per (source, projection): projection, first synapse, end.
    syn_data : int32 array, shape (n_syn, 3)
        Per synapse: post index within the projection, effective weight (already shifted left by
        weight_exp when that is >= 0), delay.
    out_spikes : uint8 array, shape (n_samples, n_steps, n_neurons)
        Filled with the spikes.
    out_v, out_u : int32 arrays, shape (n_samples, n_steps, n_neurons) or (n_samples, 0, 0)
        Filled with v (after reset) and u when they have steps; left alone otherwise.
    """
    n_samples, n_steps, n_neurons = out_spikes.shape
    n_inputs = src_ptr.shape[0] - 1 - n_neurons
    n_proj = proj_info.shape[0]
    buf_size = 0
    for p in range(n_proj):
        buf_size += proj_info[p, PROJ_N_SLOTS] * proj_info[p, PROJ_N_POST]
    record_v = out_v.shape[1] > 0
    record_u = out_u.shape[1] > 0

    for b in prange(n_samples):
        u = np.zeros(n_neurons, np.int64)
        v = np.zeros(n_neurons, np.int64)
        a_in = np.zeros(n_neurons, np.int64)
        # Ring of delay slots per projection. Slots hold exact int64 sums; int32 wrapping is
        # modular, so wrapping once when a slot is sent equals Lava's wrap on every add.
        buf = np.zeros(buf_size, np.int64)
        acc = np.zeros(buf_size, np.int64)  # this step's weight sums, same layout as buf
        touched = np.empty(buf_size, np.int64)
        touched_proj = np.empty(buf_size, np.int64)
        is_touched = np.zeros(buf_size, np.bool_)
        head = np.zeros(n_proj, np.int64)
        sources = np.empty(n_inputs + n_neurons, np.int64)
        ev = in_offsets[b]
        ev_end = in_offsets[b + 1]
        for t in range(n_steps):
            # 1. Every (Delay)Dense sends its slot 0; an InPort sums its channels in int32.
            a_in[:] = 0
            for p in range(n_proj):
                post0 = proj_info[p, PROJ_POST_OFFSET]
                n_post = proj_info[p, PROJ_N_POST]
                base = proj_info[p, PROJ_BUF_OFFSET] + head[p] * n_post
                for i in range(n_post):
                    a_in[post0 + i] = _wrap32(a_in[post0 + i] + buf[base + i])
                    buf[base + i] = 0
                head[p] = (head[p] + 1) % proj_info[p, PROJ_N_SLOTS]
            # 2. LIF update, spike, reset.
            n_src = 0
            for i in range(n_neurons):
                x = _decay(u[i], neuron_params[i, NEURON_MULT_U])
                x = _wrap32(x + _wrap32(a_in[i] << 6))
                if x > _MAX_UV:
                    x -= 2 * _MAX_UV
                elif x <= -_MAX_UV:
                    x += 2 * _MAX_UV
                u[i] = x
                y = _decay(v[i], neuron_params[i, NEURON_MULT_V])
                y = _wrap32(_wrap32(y + x) + neuron_params[i, NEURON_BIAS])
                y = min(max(y, -_V_LIMIT), _V_LIMIT)
                if y > neuron_params[i, NEURON_VTH]:
                    out_spikes[b, t, i] = 1
                    y = 0
                    sources[n_src] = n_inputs + i
                    n_src += 1
                v[i] = y
                if record_v:
                    out_v[b, t, i] = y
                if record_u:
                    out_u[b, t, i] = x
            # 3. Input spikes of this step.
            while ev < ev_end and in_events[ev, 0] == t:
                sources[n_src] = in_events[ev, 1]
                n_src += 1
                ev += 1
            # 4. Dense receives this step's spikes: sum weights per (delay slot, post neuron),
            #    apply weight_exp to each sum, add into the ring (arrives at t + 1 + delay).
            n_touched = 0
            for k in range(n_src):
                src = sources[k]
                for blk in range(src_ptr[src], src_ptr[src + 1]):
                    p = blocks[blk, BLOCK_PROJ]
                    n_post = proj_info[p, PROJ_N_POST]
                    n_slots = proj_info[p, PROJ_N_SLOTS]
                    base = proj_info[p, PROJ_BUF_OFFSET]
                    h = head[p]
                    shift_sums = proj_info[p, PROJ_WEIGHT_EXP] < 0
                    for q in range(blocks[blk, BLOCK_START], blocks[blk, BLOCK_END]):
                        slot = h + syn_data[q, SYN_DELAY]
                        if slot >= n_slots:
                            slot -= n_slots
                        idx = base + slot * n_post + syn_data[q, SYN_POST]
                        if not shift_sums:
                            # A left shift distributes over the sum: weights come pre-shifted.
                            buf[idx] += syn_data[q, SYN_WEIGHT]
                            continue
                        if not is_touched[idx]:
                            is_touched[idx] = True
                            touched[n_touched] = idx
                            touched_proj[n_touched] = p
                            n_touched += 1
                        acc[idx] += syn_data[q, SYN_WEIGHT]
            # A negative weight_exp floors each (slot, post) sum of this step separately.
            for k in range(n_touched):
                idx = touched[k]
                buf[idx] += _shift(acc[idx], proj_info[touched_proj[k], PROJ_WEIGHT_EXP])
                acc[idx] = 0
                is_touched[idx] = False
