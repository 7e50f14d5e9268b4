"""Packing a float :class:`~neurodeploy.network.Network` into the arrays the kernels take.

The packed order puts the (single) input population first, then the others in network order; all
neurons share one global index. Weights are stored per projection transposed (``[pre, post]``)
and flattened; delays are the rounded float delays (``numpy.rint``, half to even) clamped to
``[0, max_delay]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import NetworkError
from neurodeploy.network import Network
from neurodeploy.trainer import kernels as K

__all__ = ["PackedNetwork", "pack_network", "round_delays"]

_KIND = {"input": K.K_INPUT, "lif": K.K_LIF, "li": K.K_LI}


def round_delays(delays: NDArray[np.floating], max_delay: int | None = None) -> NDArray[np.int64]:
    """Integer delays used by the forward pass: ``rint(d)`` clamped to ``[0, max_delay]``."""
    out = np.rint(np.asarray(delays, dtype=np.float64))
    out = np.maximum(out, 0.0)
    if max_delay is not None:
        out = np.minimum(out, float(max_delay))
    return out.astype(np.int64)


@dataclass(frozen=True)
class PackedNetwork:
    """Kernel arrays of one network structure (weights are packed per call).

    Attributes
    ----------
    names : tuple of str
        Population names in packed order (input first).
    pops_i, pops_f : int64[n_pops, 7], float64[n_pops, 4]
        Per-population integers and floats (columns ``P_*`` and ``F_*`` of the kernels module).
    projs_i : int64[n_projs, 4]
        Source, target (packed population indices), weight offset and delay-gradient flag of
        each projection, in network projection order.
    bias : float64[n_all]
    shapes : tuple of (n_post, n_pre)
    out_pop : int
        Packed index of the readout population (the last non-input population).
    """

    names: tuple[str, ...]
    pops_i: NDArray[np.int64]
    pops_f: NDArray[np.float64]
    projs_i: NDArray[np.int64]
    bias: NDArray[np.float64]
    shapes: tuple[tuple[int, int], ...]
    out_pop: int

    @property
    def n_all(self) -> int:
        return int(self.bias.shape[0])

    @property
    def n_weights(self) -> int:
        return int(sum(a * b for a, b in self.shapes))

    def offset(self, name: str) -> int:
        """Global index of the first neuron of population ``name``."""
        return int(self.pops_i[self.names.index(name), K.P_OFFSET])

    def pack_weights(self, weights: list[NDArray[np.floating]]) -> NDArray[np.float64]:
        """Flat ``[pre, post]`` weights of every projection."""
        if not weights:
            return np.zeros(0)
        return np.concatenate([np.asarray(w, dtype=np.float64).T.ravel() for w in weights])

    def pack_delays(self, delays_int: list[NDArray[np.integer]]) -> NDArray[np.int32]:
        """Flat ``[pre, post]`` integer delays (int32: less memory traffic per spike)."""
        if not delays_int:
            return np.zeros(0, dtype=np.int32)
        return np.concatenate([np.asarray(d, dtype=np.int32).T.ravel() for d in delays_int])

    def unpack(self, flat: NDArray[np.floating]) -> list[NDArray[np.float64]]:
        """Split a flat ``[pre, post]`` array into per-projection ``(post, pre)`` arrays."""
        out, pos = [], 0
        for n_post, n_pre in self.shapes:
            n = n_post * n_pre
            out.append(np.ascontiguousarray(flat[pos : pos + n].reshape(n_pre, n_post).T))
            pos += n
        return out

    def with_ring(self, max_delays: list[int]) -> PackedNetwork:
        """A copy whose ring buffers fit the given per-projection maximum delays."""
        pops_i = self.pops_i.copy()
        need = np.zeros(len(self.names), dtype=np.int64)
        for q, d in enumerate(max_delays):
            tgt = int(self.projs_i[q, K.Q_TGT])
            need[tgt] = max(need[tgt], int(d))
        ring_off = aring_off = 0
        for p in range(len(self.names)):
            size = int(pops_i[p, K.P_SIZE])
            pops_i[p, K.P_RING_LEN] = need[p] + 1
            pops_i[p, K.P_RING_OFFSET] = ring_off
            pops_i[p, K.P_ARING_LEN] = need[p] + 2
            pops_i[p, K.P_ARING_OFFSET] = aring_off
            if pops_i[p, K.P_KIND] != K.K_INPUT:
                ring_off += (need[p] + 1) * size
                aring_off += (need[p] + 2) * size
        return PackedNetwork(
            self.names, pops_i, self.pops_f, self.projs_i, self.bias, self.shapes, self.out_pop
        )


def pack_network(
    network: Network, *, denom_guard: float = 0.1, out: str | None = None
) -> PackedNetwork:
    """Pack the structure of a float network (one input population; the readout population is
    ``out`` or the last non-input population). Ring sizes follow the network's rounded delays.

    ``denom_guard`` floors the spike denominator at ``denom_guard * (1 - decay_mem) * threshold``
    (at least ``1e-9``), which bounds the adjoint jump at grazing threshold crossings.
    """
    inputs = [p for p in network.populations if p.kind == "input"]
    if len(inputs) != 1:
        raise NetworkError(
            f"the float simulator needs exactly one input population, got {len(inputs)}"
        )
    order = inputs + [p for p in network.populations if p.kind != "input"]
    names = tuple(p.name for p in order)
    if len(order) < 2:
        raise NetworkError("the network has no non-input population")
    pops_i = np.zeros((len(order), 7), dtype=np.int64)
    pops_f = np.zeros((len(order), 4))
    offset = 0
    biases = []
    for p, pop in enumerate(order):
        pops_i[p, K.P_SIZE] = pop.size
        pops_i[p, K.P_OFFSET] = offset
        pops_i[p, K.P_KIND] = _KIND[pop.kind]
        pops_f[p, K.F_DECAY_MEM] = pop.decay_mem
        pops_f[p, K.F_DECAY_SYN] = pop.decay_syn
        pops_f[p, K.F_THRESHOLD] = pop.threshold
        leak = (1.0 - pop.decay_mem) * abs(pop.threshold)
        pops_f[p, K.F_DENOM_MIN] = max(denom_guard * leak, 1e-9)
        offset += pop.size
        biases.append(np.asarray(pop.bias, dtype=np.float64))
    projs_i = np.zeros((len(network.projections), 4), dtype=np.int64)
    shapes = []
    w_off = 0
    for q, proj in enumerate(network.projections):
        projs_i[q, K.Q_SRC] = names.index(proj.source)
        projs_i[q, K.Q_TGT] = names.index(proj.target)
        projs_i[q, K.Q_W_OFFSET] = w_off
        projs_i[q, K.Q_LEARN_D] = 1
        shapes.append(tuple(int(s) for s in proj.weights.shape))
        w_off += proj.weights.size
    out_pop = names.index(out) if out is not None else len(order) - 1
    packed = PackedNetwork(
        names, pops_i, pops_f, projs_i, np.concatenate(biases), tuple(shapes), out_pop
    )
    return packed.with_ring(
        [int(round_delays(p.delays).max(initial=0)) for p in network.projections]
    )
