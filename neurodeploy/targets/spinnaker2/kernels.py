"""Numba kernels of the SpiNNaker2 emulator: py-spinnaker2 ``lif_curr_exp`` in float32.

Only ``@njit`` functions on plain arrays live here; :mod:`neurodeploy.targets.spinnaker2.emulator` packs a
hardware model into these arrays. Every arithmetic operation is on ``float32`` values (numba keeps
``float32 op float32`` in float32; constants are ``np.float32``), each rounded once, as the
Cortex-M4F FPU does without contraction. No fastmath: LLVM then neither fuses multiply-adds nor
flushes subnormals. The optional fused multiply-add (:func:`_fma32`) is emulated exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["spinnaker2_run"]

# Columns of neuron_params (see neurodeploy.targets.spinnaker2.emulator._pack).
(
    NEURON_ALPHA,
    NEURON_EXC_DECAY,
    NEURON_INH_DECAY,
    NEURON_THRESHOLD,
    NEURON_I_OFFSET,
    NEURON_V_RESET,
) = (
    0,
    1,
    2,
    3,
    4,
    5,
)
# Columns of syn_data.
SYN_POST, SYN_WEIGHT, SYN_DELAY = 0, 1, 2
# Entries of the options array (0 = the profile's default choice).
(
    OPT_VOLTAGE_FIRST,
    OPT_THRESHOLD_GE,
    OPT_RESET_SUBTRACT,
    OPT_OFFSET_BEFORE,
    OPT_LEFT_TO_RIGHT,
    OPT_FMA,
) = (
    0,
    1,
    2,
    3,
    4,
    5,
)
N_OPTIONS = 6
# Slots of the synaptic ring buffer: delays 0..7 land in slot (t + 1 + d) & 7.
RING_SLOTS = 8


@njit(cache=True)
def _fma32(a, b, c):
    """``a*b + c`` rounded once to float32 (round to nearest, ties to even).

    The float64 product of two float32 values is exact; the float64 sum ``s`` has an exact error
    ``e`` (TwoSum). Rounding ``s`` to float32 equals rounding the exact value unless ``s`` is a
    float32 tie while ``e != 0``; then the neighbour on ``e``'s side is the right one.
    """
    p = np.float64(a) * np.float64(b)
    cc = np.float64(c)
    s = p + cc
    bb = s - p
    e = (p - (s - bb)) + (cc - bb)
    r = np.float32(s)
    if e != 0.0 and np.float64(r) != s and np.isfinite(s):
        if np.float64(r) < s:
            lo = r
            hi = np.nextafter(r, np.float32(np.inf))
        else:
            hi = r
            lo = np.nextafter(r, np.float32(-np.inf))
        if s - np.float64(lo) == np.float64(hi) - s:
            r = hi if e > 0.0 else lo
    return r


@njit(cache=True, inline="always")
def _mul_add(a, b, c, fused):
    """float32 ``a*b + c``: two roundings, or one if ``fused``."""
    if fused:
        return _fma32(a, b, c)
    return a * b + c


@njit(cache=True, inline="always")
def _voltage(v, i_exc, i_inh, alpha, i_offset, options):
    """New v (float32) before the threshold, in the order the options select."""
    fused = options[OPT_FMA] != 0
    x = v
    if options[OPT_OFFSET_BEFORE] != 0:
        x = v + i_offset
    if options[OPT_LEFT_TO_RIGHT] != 0:
        y = _mul_add(alpha, x, i_exc, fused) - i_inh
    else:
        y = _mul_add(alpha, x, i_exc - i_inh, fused)
    if options[OPT_OFFSET_BEFORE] == 0:
        y = y + i_offset
    return y


@njit(cache=True, parallel=True)
def spinnaker2_run(
    in_events, in_offsets, neuron_params, syn_ptr, syn_data, options, out_spikes, out_v, out_u
):
    """Run every sample of a batch through a SpiNNaker2 hardware model.

    Parameters
    ----------
    in_events : int64 array, shape (n_events, 2)
        ``(tick, source)`` of every input spike, sorted by tick within each sample; sources
        ``0 … n_inputs-1`` are input neurons.
    in_offsets : int64 array, shape (n_samples + 1,)
        Sample ``b`` owns ``in_events[in_offsets[b]:in_offsets[b+1]]``.
    neuron_params : float32 array, shape (n_neurons, 6)
        Per non-input neuron: alpha_decay, exc_decay, inh_decay, threshold (+inf never fires),
        i_offset, v_reset.
    syn_ptr : int64 array, shape (n_inputs + n_neurons + 1,)
        Synapses of source ``s`` (inputs first, then neurons) are ``syn_data[syn_ptr[s]:syn_ptr[s+1]]``.
    syn_data : int64 array, shape (n_syn, 3)
        Per synapse: post neuron (global index), signed integer weight (> 0 excitatory, < 0
        inhibitory), delay field 0..7.
    options : int64 array, shape (6,)
        Non-zero selects: voltage before currents, ``>=`` threshold, reset by subtraction,
        i_offset before the decay, left-to-right current sum, fused multiply-add.
    out_spikes : uint8 array, shape (n_samples, n_steps, n_neurons)
        Filled with the spikes.
    out_v, out_u : float32 arrays, shape (n_samples, n_steps, n_neurons) or (n_samples, 0, 0)
        Filled with v (after reset) and ``I_exc - I_inh`` when they have steps.
    """
    n_samples, n_steps, n_neurons = out_spikes.shape
    n_inputs = syn_ptr.shape[0] - 1 - n_neurons
    record_v = out_v.shape[1] > 0
    record_u = out_u.shape[1] > 0
    voltage_first = options[OPT_VOLTAGE_FIRST] != 0
    threshold_ge = options[OPT_THRESHOLD_GE] != 0
    reset_subtract = options[OPT_RESET_SUBTRACT] != 0
    fused = options[OPT_FMA] != 0

    for b in prange(n_samples):
        v = np.zeros(n_neurons, np.float32)
        i_exc = np.zeros(n_neurons, np.float32)
        i_inh = np.zeros(n_neurons, np.float32)
        # Integer weight sums per (slot, neuron, synapse type 0 = exc, 1 = inh).
        ring = np.zeros((RING_SLOTS, n_neurons, 2), np.int64)
        sources = np.empty(n_inputs + n_neurons, np.int64)
        ev = in_offsets[b]
        ev_end = in_offsets[b + 1]
        for t in range(n_steps):
            slot = t & (RING_SLOTS - 1)
            n_src = 0
            for i in range(n_neurons):
                # Move this tick's slot into the neuron's input, then clear the slot.
                in_exc = np.float32(ring[slot, i, 0])
                in_inh = np.float32(ring[slot, i, 1])
                ring[slot, i, 0] = 0
                ring[slot, i, 1] = 0
                alpha = neuron_params[i, NEURON_ALPHA]
                exc_decay = neuron_params[i, NEURON_EXC_DECAY]
                inh_decay = neuron_params[i, NEURON_INH_DECAY]
                threshold = neuron_params[i, NEURON_THRESHOLD]
                i_offset = neuron_params[i, NEURON_I_OFFSET]
                if voltage_first:
                    x = _voltage(v[i], i_exc[i], i_inh[i], alpha, i_offset, options)
                    i_exc[i] = _mul_add(exc_decay, i_exc[i], in_exc, fused)
                    i_inh[i] = _mul_add(inh_decay, i_inh[i], in_inh, fused)
                else:
                    i_exc[i] = _mul_add(exc_decay, i_exc[i], in_exc, fused)
                    i_inh[i] = _mul_add(inh_decay, i_inh[i], in_inh, fused)
                    x = _voltage(v[i], i_exc[i], i_inh[i], alpha, i_offset, options)
                spiked = x >= threshold if threshold_ge else x > threshold
                if spiked:
                    out_spikes[b, t, i] = 1
                    if reset_subtract:
                        x = x - threshold
                    else:
                        x = neuron_params[i, NEURON_V_RESET]
                    sources[n_src] = n_inputs + i
                    n_src += 1
                v[i] = x
                if record_v:
                    out_v[b, t, i] = x
                if record_u:
                    out_u[b, t, i] = i_exc[i] - i_inh[i]
            # Input spikes of this tick.
            while ev < ev_end and in_events[ev, 0] == t:
                sources[n_src] = in_events[ev, 1]
                n_src += 1
                ev += 1
            # Route this tick's spikes: processed next tick into slot (t + 1 + delay) & 7.
            for k in range(n_src):
                s = sources[k]
                for q in range(syn_ptr[s], syn_ptr[s + 1]):
                    w = syn_data[q, SYN_WEIGHT]
                    target_slot = (t + 1 + syn_data[q, SYN_DELAY]) & (RING_SLOTS - 1)
                    if w > 0:
                        ring[target_slot, syn_data[q, SYN_POST], 0] += w
                    else:
                        ring[target_slot, syn_data[q, SYN_POST], 1] -= w
