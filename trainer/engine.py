"""One batch through the kernels: forward pass, loss, adjoint pass, summed gradients.

Memory per batch grows with the number of spikes (the tape) and with ``max_delay`` (ring
buffers), never with the number of steps: no ``[batch, step, neuron]`` array is ever made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.emulator.canonical_kernels import K_LIF, KernelNet, forward_batch
from neurodeploy.emulator.canonical_layout import PackedNetwork, pack_network, round_delays
from neurodeploy.network import Network
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.kernels import backward_batch, sum_over_batch
from neurodeploy.trainer.losses import LossParams, LossResult, compute_loss

__all__ = ["BatchResult", "Engine", "RegParams", "regularisation_drive"]


@dataclass(frozen=True)
class RegParams:
    """Spike-count regularisation of hidden (spiking, non-readout) neurons.

    At every spike of hidden neuron ``i`` the adjoint ``dL/dV`` gets
    ``upper * (n_i - target) / B`` if the batch-mean count ``n_i`` exceeds ``target`` spikes per
    trial, else ``lower * (n_i - target) / B`` (a heuristic ``dl/dt``-type term, [NTK25]).
    """

    upper: float = 0.0
    lower: float = 0.0
    target: float = 0.0


@dataclass(frozen=True)
class BatchResult:
    """What one batch produced."""

    loss: NDArray[np.float64]  # (B,)
    predicted: NDArray[np.int64]  # (B,)
    counts: NDArray[np.int32]  # (B, n_all) spikes per neuron
    grad_w: list[NDArray[np.float64]] | None  # per projection (post, pre)
    grad_d: list[NDArray[np.float64]] | None
    tape_entries: int


class Engine:
    """Runs batches of one network structure through the kernels.

    Parameters
    ----------
    network : Network
        Float network; its weights and delays are replaced per call.
    max_delays : list of int
        Per-projection maximum delay in steps (ring sizes and delay clamp).
    learn_delays : list of bool, optional
        Per projection, whether its delay gradient is wanted (all by default); the others
        report a zero delay gradient and cost less.
    denom_guard : float
        See :func:`neurodeploy.emulator.canonical_layout.pack_network`.
    """

    def __init__(
        self,
        network: Network,
        max_delays: list[int],
        *,
        denom_guard: float = 0.1,
        learn_delays: list[bool] | None = None,
    ):
        self.network = network
        self.max_delays = [int(d) for d in max_delays]
        packed = pack_network(network, denom_guard=denom_guard).with_ring(self.max_delays)
        if learn_delays is not None:
            packed = packed.with_learned_delays(learn_delays)
        self.packed: PackedNetwork = packed
        self.capacity = 1024
        # per-sample gradient buffers, kept between batches (the kernel zeroes each row)
        self._per_sample = (np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32))

    def net_arrays(self, weights: list[NDArray], delays: list[NDArray]) -> KernelNet:
        d_int = [round_delays(d, m) for d, m in zip(delays, self.max_delays, strict=True)]
        return self.packed.kernel_net(weights, d_int)

    def run(
        self,
        weights: list[NDArray],
        delays: list[NDArray],
        spikes: SpikeData,
        idx: NDArray[np.int64],
        loss: LossParams,
        *,
        dt_ms: float,
        grad: bool = True,
        reg: RegParams | None = None,
    ) -> BatchResult:
        """Forward pass (and adjoint pass if ``grad``) of samples ``idx`` of ``spikes``."""
        p = self.packed
        net = self.net_arrays(weights, delays)
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        n_b = len(idx)
        n_steps = int(spikes.n_steps)
        events = (spikes.steps, spikes.units, spikes.offsets)
        n_out = int(p.pops.size[p.out_pop])
        opts = (int(p.out_pop), float(n_steps), 0, 0)
        counts = np.zeros((n_b, p.n_all), dtype=np.int32)
        stats = np.zeros((n_b, n_out, 6))
        while True:
            tape = (
                np.zeros((n_b, self.capacity), dtype=np.int32),
                np.zeros((n_b, self.capacity), dtype=np.int32),
                np.zeros((n_b, self.capacity)),
                np.zeros(n_b, dtype=np.int64),
            )
            forward_batch(events, idx, n_steps, net, opts, tape, counts, stats)
            longest = int(tape[3].max(initial=0))
            if longest <= self.capacity:
                break
            self.capacity = int(2 ** np.ceil(np.log2(longest * 1.25)))
        labels = spikes.labels[idx]
        res: LossResult = compute_loss(stats, labels, loss, n_steps=n_steps, dt_ms=dt_ms)
        grad_w = grad_d = None
        if grad:
            reg_drive = regularisation_drive(p, counts, reg)
            n_w = p.n_weights
            rows, cols = self._per_sample[0].shape
            if rows < n_b or cols != n_w:
                self._per_sample = (
                    np.zeros((n_b, n_w), dtype=np.float32),
                    np.zeros((n_b, n_w), dtype=np.float32),
                )
            per_w, per_d = self._per_sample[0][:n_b], self._per_sample[1][:n_b]
            backward_batch(
                events,
                idx,
                n_steps,
                net,
                (int(p.out_pop), float(n_steps)),
                res.drives,
                (res.first_dl, reg_drive),
                tape,
                (per_w, per_d),
            )
            sum_w = np.zeros(n_w)
            sum_b = np.zeros(n_w)
            sum_over_batch(per_w, sum_w)
            sum_over_batch(per_d, sum_b)
            grad_w = p.unpack(sum_w)
            grad_d = [
                w * b if learn else np.zeros_like(b)
                for w, b, learn in zip(weights, p.unpack(sum_b), p.projs.learn_delays, strict=True)
            ]
        return BatchResult(
            loss=res.loss,
            predicted=res.predicted,
            counts=counts,
            grad_w=grad_w,
            grad_d=grad_d,
            tape_entries=int(tape[3].sum()),
        )


def regularisation_drive(
    packed: PackedNetwork, counts: NDArray[np.int32], reg: RegParams | None
) -> NDArray[np.float64]:
    """``dL/dn`` of the spike-count regulariser, shape (batch, n_all): per sample and neuron
    (hidden LIF neurons only), the drive both gradient engines add at each spike."""
    n_b = counts.shape[0]
    out = np.zeros(counts.shape)
    if reg is None or (reg.upper == 0.0 and reg.lower == 0.0):
        return out
    excess = counts.mean(axis=0) - reg.target
    drive = np.where(excess > 0, reg.upper * excess, reg.lower * excess) / n_b
    mask = np.zeros(packed.n_all, dtype=bool)
    for name, (a, b) in packed.slices(K_LIF).items():
        if name != packed.names[packed.out_pop]:
            mask[a:b] = True
    out[:, mask] = drive[mask]
    return out
