"""Slow, obvious float reference of the canonical time-step semantics (docs/ARCHITECTURE.md),
written from the semantics, not from the trainer's kernel::

    I[t] = decay_syn * I[t-1] + sum_j w_ij * s_j[t - 1 - d_ij]
    V[t] = decay_mem * V[t-1] + I[t] + bias
    spike if V[t] > threshold (lif), then V[t] = 0

Delays are ``rint(d)`` clamped at 0. The input reaching a neuron at step ``t`` is summed in one
fixed order (the order the trainer documents): by the step the spike was emitted, then source
population (input populations first, then the rest, each in network order), then presynaptic
index, then projection order.
"""

from __future__ import annotations

import numpy as np

from neurodeploy.network import Network


def run_reference(network: Network, raster: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Simulate one sample. ``raster[step, channel]``: the input populations' neurons
    concatenated in network order.

    Returns ``{population: {"spikes", "v", "u"}}`` with arrays ``[step, neuron]``.
    """
    n_steps = raster.shape[0]
    inputs = [p for p in network.populations if p.kind == "input"]
    order = inputs + [p for p in network.populations if p.kind != "input"]
    v = {p.name: np.zeros(p.size) for p in order}
    u = {p.name: np.zeros(p.size) for p in order}
    out = {
        p.name: {k: np.zeros((n_steps, p.size)) for k in ("spikes", "v", "u")}
        for p in order
        if p.kind != "input"
    }
    # pending[(target, arrival_step)] -> input summed so far, in emission order
    pending: dict[tuple[str, int], np.ndarray] = {}
    delays = [np.maximum(np.rint(proj.delays), 0).astype(int) for proj in network.projections]
    for t in range(n_steps):
        fired: dict[str, np.ndarray] = {}
        start = 0
        for pop in inputs:
            fired[pop.name] = raster[t, start : start + pop.size].astype(bool)
            start += pop.size
        for pop in order[len(inputs) :]:
            x = pending.pop((pop.name, t), np.zeros(pop.size))
            u[pop.name] = pop.decay_syn * u[pop.name] + x
            vv = pop.decay_mem * v[pop.name] + u[pop.name] + pop.bias
            s = (vv > pop.threshold) if pop.kind == "lif" else np.zeros(pop.size, bool)
            vv = np.where(s, 0.0, vv)
            v[pop.name] = vv
            fired[pop.name] = s
            out[pop.name]["spikes"][t] = s
            out[pop.name]["v"][t] = vv
            out[pop.name]["u"][t] = u[pop.name]
        for pop in order:
            for j in np.nonzero(fired[pop.name])[0]:
                for proj, d in zip(network.projections, delays, strict=True):
                    if proj.source != pop.name:
                        continue
                    tgt = network.population(proj.target)
                    for i in range(tgt.size):
                        ta = t + 1 + d[i, j]
                        if ta < n_steps:
                            buf = pending.setdefault((tgt.name, ta), np.zeros(tgt.size))
                            buf[i] += proj.weights[i, j]
    return out
