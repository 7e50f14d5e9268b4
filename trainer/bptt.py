"""The BPTT gradient engine: one batch through :mod:`neurodeploy.trainer.bptt_kernels`.

:class:`BpttEngine` has the interface of :class:`neurodeploy.trainer.engine.Engine` (``run`` →
:class:`~neurodeploy.trainer.engine.BatchResult`, ``packed``), so the epoch loop, evaluation,
weight noise, fine-tuning and checkpoints are shared; ``train.method`` picks the engine. Losses
and their drives are :func:`neurodeploy.trainer.losses.compute_loss`'s, the spike-count
regulariser is :class:`~neurodeploy.trainer.engine.RegParams`'. Delays are used in the forward
pass and never learned (``grad_d`` is zero): BPTT on a discrete grid has no delay gradient.

Memory per batch: ``5 * B * n_steps * n_neurons`` bytes (spikes and pseudo-derivatives of every
non-input neuron and step), plus ``4 * B * n_weights`` bytes of per-sample gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.emulator.canonical_kernels import S_FIRST
from neurodeploy.emulator.canonical_layout import PackedNetwork, pack_network
from neurodeploy.network import Network
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.bptt_kernels import (
    SG_FAST_SIGMOID,
    SG_LEE,
    SG_STRAIGHT_THROUGH,
    bptt_backward_batch,
    bptt_forward_batch,
)
from neurodeploy.trainer.engine import BatchResult, Engine, RegParams, regularisation_drive
from neurodeploy.trainer.kernels import sum_over_batch
from neurodeploy.trainer.losses import LossParams, compute_loss

__all__ = ["SURROGATES", "BpttEngine", "make_engine"]

#: ``train.surrogate`` names → kernel codes.
SURROGATES = {
    "fast_sigmoid": SG_FAST_SIGMOID,
    "straight_through": SG_STRAIGHT_THROUGH,
    "lee": SG_LEE,
}


class BpttEngine:
    """Runs batches of one network structure by backpropagation through time.

    Parameters
    ----------
    network : Network
        Float network; its weights and delays are replaced per call.
    max_delays : list of int
        Per-projection maximum delay in steps (ring sizes and delay clamp).
    surrogate : str
        Pseudo-derivative at the threshold, one of :data:`SURROGATES`.
    width : float
        Its width in units of the threshold (not used by ``lee``).
    denom_guard : float
        Floor of the first-spike denominator (:func:`~neurodeploy.emulator.canonical_layout.pack_network`).
    """

    def __init__(
        self,
        network: Network,
        max_delays: list[int],
        *,
        surrogate: str = "fast_sigmoid",
        width: float = 0.5,
        denom_guard: float = 0.1,
    ):
        if surrogate not in SURROGATES:
            raise ValueError(f"unknown surrogate {surrogate!r}; one of {', '.join(SURROGATES)}")
        if not width > 0:
            raise ValueError(f"surrogate width must be > 0, got {width}")
        self.network = network
        self.max_delays = [int(d) for d in max_delays]
        self.packed: PackedNetwork = pack_network(network, denom_guard=denom_guard).with_ring(
            self.max_delays
        )
        self.surrogate = (SURROGATES[surrogate], float(width))
        self._per_sample = np.zeros((0, 0), np.float32)

    net_arrays = Engine.net_arrays  # the same packing: self.packed and self.max_delays

    def state_bytes(self, n_batch: int, n_steps: int) -> int:
        """Bytes of the per-step state one batch keeps between the passes."""
        p = self.packed
        return 5 * n_batch * n_steps * (p.n_all - p.n_inputs)

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
        """Forward pass (and, if ``grad``, BPTT backward pass) of samples ``idx`` of ``spikes``.

        ``weights[q]``/``delays[q]`` have shape (post, pre) (delays in steps, float); the result's
        ``grad_w`` holds ``d(sum of losses / B)/dw`` per projection, ``grad_d`` zeros.
        """
        p = self.packed
        net = self.net_arrays(weights, delays)
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        n_b = len(idx)
        n_steps = int(spikes.n_steps)
        n_in = p.n_inputs
        n_hid = p.n_all - n_in
        events = (spikes.steps, spikes.units, spikes.offsets)
        n_out = int(p.pops.size[p.out_pop])
        opts = (int(p.out_pop), float(n_steps), n_in)
        counts = np.zeros((n_b, p.n_all), dtype=np.int32)
        stats = np.zeros((n_b, n_out, 6))
        spk = np.empty((n_b, n_steps, n_hid), dtype=np.uint8)
        sg = np.empty((n_b, n_steps, n_hid), dtype=np.float32)
        fden = np.ones((n_b, n_out))
        bptt_forward_batch(
            events, idx, n_steps, net, opts, self.surrogate, counts, stats, spk, sg, fden
        )
        res = compute_loss(stats, spikes.labels[idx], loss, n_steps=n_steps, dt_ms=dt_ms)
        grad_w = grad_d = None
        if grad:
            reg_drive = regularisation_drive(p, counts, reg)
            n_w = p.n_weights
            rows, cols = self._per_sample.shape
            if rows < n_b or cols != n_w:
                self._per_sample = np.zeros((n_b, n_w), dtype=np.float32)
            per_w = self._per_sample[:n_b]
            first = stats[:, :, S_FIRST].astype(np.int64)
            bptt_backward_batch(
                events,
                idx,
                n_steps,
                net,
                opts,
                res.drives,
                (res.first_dl, reg_drive),
                (spk, sg, fden, first),
                per_w,
            )
            sum_w = np.zeros(n_w)
            sum_over_batch(per_w, sum_w)
            grad_w = p.unpack(sum_w)
            grad_d = [np.zeros_like(np.asarray(d, dtype=np.float64)) for d in delays]
        return BatchResult(
            loss=res.loss,
            predicted=res.predicted,
            counts=counts,
            grad_w=grad_w,
            grad_d=grad_d,
            tape_entries=int(counts.sum()),
        )


def make_engine(
    template: Network, max_delays: list[int], train: Any, learn_delays: list[bool]
) -> Engine | BpttEngine:
    """The gradient engine ``train.method`` names (``train``: a
    :class:`~neurodeploy.trainer.config.TrainConfig`); ``learn_delays`` per projection (EventProp
    only: the config refuses learned delays with BPTT)."""
    if train.method == "bptt":
        return BpttEngine(
            template,
            max_delays,
            surrogate=train.surrogate,
            width=train.surrogate_width,
            denom_guard=train.denom_guard,
        )
    return Engine(template, max_delays, denom_guard=train.denom_guard, learn_delays=learn_delays)
