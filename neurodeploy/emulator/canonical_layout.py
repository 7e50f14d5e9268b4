"""Packing a float :class:`~neurodeploy.network.Network` into the arrays the canonical kernels take.

The packed order puts the input populations first (in network order, so that an input channel of
:class:`~neurodeploy.spikes.SpikeData` is its global neuron index), then the other populations in
network order. Weights are stored per projection transposed (``[pre, post]``) and flattened;
delays are the rounded float delays (``numpy.rint``, half to even) clamped to ``[0, max_delay]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from neurodeploy.emulator.canonical_kernels import K_INPUT, K_LI, K_LIF, KernelNet
from neurodeploy.errors import NetworkError
from neurodeploy.network import Network

__all__ = ["PackedNetwork", "PopulationArrays", "ProjectionArrays", "pack_network", "round_delays"]

_KIND = {"input": K_INPUT, "lif": K_LIF, "li": K_LI}


class PopulationArrays(NamedTuple):
    """Per packed population (the ``pop_*``, ring and float fields of :class:`KernelNet`)."""

    size: NDArray[np.int64]
    offset: NDArray[np.int64]
    kind: NDArray[np.int64]
    ring_len: NDArray[np.int64]
    ring_offset: NDArray[np.int64]
    aring_len: NDArray[np.int64]
    aring_offset: NDArray[np.int64]
    decay_mem: NDArray[np.float64]
    decay_syn: NDArray[np.float64]
    threshold: NDArray[np.float64]
    denom_min: NDArray[np.float64]


class ProjectionArrays(NamedTuple):
    """Per projection in network order (the ``proj_*`` fields of :class:`KernelNet`)."""

    source: NDArray[np.int64]
    target: NDArray[np.int64]
    w_offset: NDArray[np.int64]
    learn_delays: NDArray[np.int64]


def round_delays(delays: NDArray[np.floating], max_delay: int | None = None) -> NDArray[np.int64]:
    """Integer delays used by the forward pass: ``rint(d)`` clamped to ``[0, max_delay]``."""
    out = np.rint(np.asarray(delays, dtype=np.float64))
    out = np.maximum(out, 0.0)
    if max_delay is not None:
        out = np.minimum(out, float(max_delay))
    return out.astype(np.int64)


@dataclass(frozen=True, eq=False)
class PackedNetwork:
    """Kernel arrays of one network structure (weights and delays are packed per call).

    Attributes
    ----------
    names : tuple of str
        Population names in packed order (inputs first).
    pops : PopulationArrays
        Per-population sizes, offsets, kinds, ring layout and float parameters.
    projs : ProjectionArrays
        Source, target (packed population indices), weight offset and delay-gradient flag of
        each projection, in network projection order.
    bias : float64[n_all]
    shapes : tuple of (n_post, n_pre)
    out_pop : int
        Packed index of the readout population.
    """

    names: tuple[str, ...]
    pops: PopulationArrays
    projs: ProjectionArrays
    bias: NDArray[np.float64]
    shapes: tuple[tuple[int, int], ...]
    out_pop: int

    @property
    def n_all(self) -> int:
        return int(self.bias.shape[0])

    @property
    def n_inputs(self) -> int:
        """Input channels: the neurons of every input population."""
        return int(self.pops.size[self.pops.kind == K_INPUT].sum())

    @property
    def non_input_names(self) -> tuple[str, ...]:
        return tuple(n for n, k in zip(self.names, self.pops.kind, strict=True) if k != K_INPUT)

    @property
    def n_weights(self) -> int:
        return int(sum(a * b for a, b in self.shapes))

    def offset(self, name: str) -> int:
        """Global index of the first neuron of population ``name``."""
        return int(self.pops.offset[self.names.index(name)])

    def slices(self, kind: int) -> dict[str, tuple[int, int]]:
        """``{name: (first, end)}`` global index ranges of the populations of ``kind``."""
        return {
            name: (int(off), int(off + size))
            for name, k, off, size in zip(
                self.names, self.pops.kind, self.pops.offset, self.pops.size, strict=True
            )
            if k == kind
        }

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

    def kernel_net(
        self, weights: list[NDArray[np.floating]], delays_int: list[NDArray[np.integer]]
    ) -> KernelNet:
        """The kernels' view of this structure with the given weights and integer delays."""
        return KernelNet(
            *self.pops,
            *self.projs,
            self.pack_weights(weights),
            self.pack_delays(delays_int),
            self.bias,
        )

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
        need = np.zeros(len(self.names), dtype=np.int64)
        for q, d in enumerate(max_delays):
            tgt = int(self.projs.target[q])
            need[tgt] = max(need[tgt], int(d))
        non_input = self.pops.kind != K_INPUT
        ring_len = need + 1
        aring_len = need + 2
        ring_offset = np.concatenate([[0], np.cumsum(ring_len * self.pops.size * non_input)[:-1]])
        aring_offset = np.concatenate([[0], np.cumsum(aring_len * self.pops.size * non_input)[:-1]])
        pops = self.pops._replace(
            ring_len=ring_len,
            ring_offset=ring_offset.astype(np.int64),
            aring_len=aring_len,
            aring_offset=aring_offset.astype(np.int64),
        )
        return PackedNetwork(self.names, pops, self.projs, self.bias, self.shapes, self.out_pop)

    def with_learned_delays(self, learn: list[bool]) -> PackedNetwork:
        """A copy whose projections compute delay-gradient sums only where ``learn`` says."""
        projs = self.projs._replace(learn_delays=np.asarray(learn, dtype=np.int64))
        return PackedNetwork(self.names, self.pops, projs, self.bias, self.shapes, self.out_pop)


def pack_network(
    network: Network, *, denom_guard: float = 0.1, out: str | None = None
) -> PackedNetwork:
    """Pack the structure of a float network (any number of input populations; the readout
    population is ``out`` or the last non-input population). Ring sizes follow the network's
    rounded delays.

    ``denom_guard`` floors the spike denominator at ``denom_guard * (1 - decay_mem) * threshold``
    (at least ``1e-9``), which bounds the adjoint jump at grazing threshold crossings.
    """
    inputs = [p for p in network.populations if p.kind == "input"]
    others = [p for p in network.populations if p.kind != "input"]
    if not inputs:
        raise NetworkError("the float model needs at least one input population")
    if not others:
        raise NetworkError("the network has no non-input population")
    order = inputs + others
    names = tuple(p.name for p in order)
    sizes = np.array([p.size for p in order], dtype=np.int64)
    leak = np.array([(1.0 - p.decay_mem) * abs(p.threshold) for p in order])
    zeros = np.zeros(len(order), dtype=np.int64)
    pops = PopulationArrays(
        size=sizes,
        offset=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        kind=np.array([_KIND[p.kind] for p in order], dtype=np.int64),
        ring_len=zeros.copy(),
        ring_offset=zeros.copy(),
        aring_len=zeros.copy(),
        aring_offset=zeros.copy(),
        decay_mem=np.array([p.decay_mem for p in order], dtype=np.float64),
        decay_syn=np.array([p.decay_syn for p in order], dtype=np.float64),
        threshold=np.array([p.threshold for p in order], dtype=np.float64),
        denom_min=np.maximum(denom_guard * leak, 1e-9),
    )
    shapes = tuple(tuple(int(s) for s in proj.weights.shape) for proj in network.projections)
    n_per = [a * b for a, b in shapes]
    projs = ProjectionArrays(
        source=np.array([names.index(p.source) for p in network.projections], dtype=np.int64),
        target=np.array([names.index(p.target) for p in network.projections], dtype=np.int64),
        w_offset=np.concatenate([[0], np.cumsum(n_per)[:-1]]).astype(np.int64)
        if n_per
        else np.zeros(0, dtype=np.int64),
        learn_delays=np.ones(len(network.projections), dtype=np.int64),
    )
    bias = np.concatenate([np.asarray(p.bias, dtype=np.float64) for p in order])
    out_pop = names.index(out) if out is not None else len(order) - 1
    packed = PackedNetwork(names, pops, projs, bias, shapes, out_pop)
    return packed.with_ring(
        [int(round_delays(p.delays).max(initial=0)) for p in network.projections]
    )
