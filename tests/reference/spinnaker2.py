"""Slow, obvious SpiNNaker2 reference, written from docs/ARCHITECTURE.md ("SpiNNaker2 arithmetic")
and hardware.md B.4 / C.2, not from the kernel.

One Python loop per tick and neuron on numpy float32 scalars (each operation rounds once to
float32). Pending input is kept per arrival tick in a dict rather than in a ring of 8 slots, and a
fused multiply-add is rounded from the exact rational value with ``fractions.Fraction``.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np

from neurodeploy.network import Network

DEFAULT_OPTIONS = {
    "update_order": "currents_first",
    "threshold_op": ">",
    "reset": "reset_to_v_reset",
    "i_offset": "after_decay",
    "current_sum": "difference_first",
    "fma": False,
}

f32 = np.float32


def fma_reference(a: np.float32, b: np.float32, c: np.float32) -> np.float32:
    """``a*b + c`` rounded once to float32: the float32 nearest the exact rational value, ties to
    the even bit pattern."""
    if not (np.isfinite(a) and np.isfinite(b) and np.isfinite(c)):
        return f32(np.float64(a) * np.float64(b) + np.float64(c))
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if exact == 0:  # the sign of an exact zero follows IEEE addition of a*b (exact) and c
        return f32(np.float64(a) * np.float64(b) + np.float64(c))
    guess = f32(float(exact))
    if not np.isfinite(guess):
        return guess
    candidates = [np.nextafter(guess, f32(-np.inf)), guess, np.nextafter(guess, f32(np.inf))]
    candidates = [x for x in candidates if np.isfinite(x)]
    best = min(abs(Fraction(float(x)) - exact) for x in candidates)
    nearest = [x for x in candidates if abs(Fraction(float(x)) - exact) == best]
    if len(nearest) == 1:
        return nearest[0]
    return next(x for x in nearest if int(np.array(x, np.float32).view(np.uint32)) % 2 == 0)


def _mul_add(a, b, c, fused):
    if fused:
        return fma_reference(f32(a), f32(b), f32(c))
    product = f32(a) * f32(b)
    return f32(product + f32(c))


def run_reference(network: Network, raster: np.ndarray, options: dict | None = None):
    """raster[tick, n_inputs] (one sample) -> {pop: (spikes[tick, n], v[tick, n], u[tick, n])}."""
    opts = dict(DEFAULT_OPTIONS)
    opts.update(network.profile_options)
    opts.update(options or {})
    fused = opts["fma"]
    n_ticks = raster.shape[0]

    in_cols, col = {}, 0
    neurons = {}
    for pop in network.populations:
        if pop.kind == "input":
            in_cols[pop.name] = (col, pop.size)
            col += pop.size
            continue
        neurons[pop.name] = dict(
            pop=pop,
            alpha=f32(pop.decay_mem),
            syn=f32(pop.decay_syn),
            threshold=f32(pop.threshold) if pop.kind == "lif" else f32(np.inf),
            i_offset=[f32(b) for b in pop.bias],
            v=[f32(0.0)] * pop.size,
            i_exc=[f32(0.0)] * pop.size,
            i_inh=[f32(0.0)] * pop.size,
            rec=([], [], []),
        )
    # pending[tick][(population, neuron)] = [exc sum, inh sum] (exact integers)
    pending: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))

    def voltage(v, i_exc, i_inh, alpha, i_offset):
        x = f32(v + i_offset) if opts["i_offset"] == "before_decay" else v
        if opts["current_sum"] == "left_to_right":
            y = f32(_mul_add(alpha, x, i_exc, fused) - i_inh)
        else:
            y = _mul_add(alpha, x, f32(i_exc - i_inh), fused)
        if opts["i_offset"] == "after_decay":
            y = f32(y + i_offset)
        return y

    for t in range(n_ticks):
        arriving = pending.pop(t, {})
        fired = {}
        for name, n in neurons.items():
            spikes = np.zeros(n["pop"].size, np.uint8)
            for i in range(n["pop"].size):
                exc_sum, inh_sum = arriving.get((name, i), (0, 0))
                in_exc, in_inh = f32(exc_sum), f32(inh_sum)
                if opts["update_order"] == "voltage_first":
                    v = voltage(
                        n["v"][i], n["i_exc"][i], n["i_inh"][i], n["alpha"], n["i_offset"][i]
                    )
                    n["i_exc"][i] = _mul_add(n["syn"], n["i_exc"][i], in_exc, fused)
                    n["i_inh"][i] = _mul_add(n["syn"], n["i_inh"][i], in_inh, fused)
                else:
                    n["i_exc"][i] = _mul_add(n["syn"], n["i_exc"][i], in_exc, fused)
                    n["i_inh"][i] = _mul_add(n["syn"], n["i_inh"][i], in_inh, fused)
                    v = voltage(
                        n["v"][i], n["i_exc"][i], n["i_inh"][i], n["alpha"], n["i_offset"][i]
                    )
                th = n["threshold"]
                if (v >= th) if opts["threshold_op"] == ">=" else (v > th):
                    spikes[i] = 1
                    v = f32(v - th) if opts["reset"] == "reset_by_subtraction" else f32(0.0)
                n["v"][i] = v
            fired[name] = spikes
            n["rec"][0].append(spikes)
            n["rec"][1].append(np.array(n["v"], np.float32))
            n["rec"][2].append(
                np.array(
                    [f32(e - h) for e, h in zip(n["i_exc"], n["i_inh"], strict=True)], np.float32
                )
            )
        for name, (start, size) in in_cols.items():
            fired[name] = raster[t, start : start + size].astype(np.uint8)
        # Every spike of tick t reaches its target at tick t + 1 + delay.
        for proj in network.projections:
            s = fired[proj.source]
            w = np.rint(proj.weights).astype(np.int64)
            d = np.rint(proj.delays).astype(np.int64)
            for j in np.flatnonzero(s):
                for i in np.flatnonzero(w[:, j]):
                    entry = pending[t + 1 + int(d[i, j])][(proj.target, int(i))]
                    if w[i, j] > 0:
                        entry[0] += int(w[i, j])
                    else:
                        entry[1] += int(-w[i, j])
    return {name: tuple(np.array(r) for r in n["rec"]) for name, n in neurons.items()}
