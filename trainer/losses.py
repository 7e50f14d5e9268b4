"""Loss functions (host part): values, predictions, and the drives the adjoint kernel takes.

All losses are softmax cross-entropies averaged over the batch, on per-neuron readout values
computed by the forward kernel (``stats`` columns of :mod:`neurodeploy.emulator.canonical_kernels`):

``sum_voltage``      z = (1/T) sum_t V[t]                       (LI readout)
``exp_sum_voltage``  z = (1/T) sum_t exp(-t/T) V[t]             (LI readout; T = n_steps)
``max_voltage``      z = max_t V[t]                             (LI readout)
``first_spike``      z = -t_first / tau0_ms, plus alpha * (exp(t_label / tau1_ms) - 1)  (LIF)

For ``first_spike`` a neuron that never fired counts as firing at ``t = T`` in the softmax and gets
no gradient; when the labelled neuron never fired, the phantom-spike rule drives its voltage up
(``dl/dV[T-1] -= phantom / B``). Each ``z`` is multiplied by ``logit_scale`` (1 by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.emulator import canonical_kernels as K
from neurodeploy.readout import decide

__all__ = ["LossParams", "LossResult", "compute_loss", "summary_from_stats"]


@dataclass(frozen=True)
class LossParams:
    """Loss settings (see the module docstring); times in ms."""

    readout: str = "max_voltage"
    logit_scale: float = 1.0
    tau0_ms: float = 0.5
    tau1_ms: float = 6.4
    alpha: float = 3e-3
    phantom: float = 1.0


@dataclass(frozen=True)
class LossResult:
    """Per-sample losses and predictions, and the adjoint drives of the batch."""

    loss: NDArray[np.float64]  # (B,)
    predicted: NDArray[np.int64]  # (B,)
    drives: NDArray[np.float64]  # (B, n_out, 4)
    first_dl: NDArray[np.float64]  # (B, n_out), loss per step


def summary_from_stats(stats: NDArray[np.float64], n_steps: int) -> dict[str, NDArray]:
    """The :func:`neurodeploy.readout.summarize` arrays from the kernel's readout stats."""
    return {
        "first_step": stats[:, :, K.S_FIRST].astype(np.int64),
        "max_v": stats[:, :, K.S_MAX],
        "sum_v": stats[:, :, K.S_SUM],
        "exp_sum_v": stats[:, :, K.S_EXP_SUM],
    }


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def compute_loss(
    stats: NDArray[np.float64],
    labels: NDArray[np.int64],
    params: LossParams,
    *,
    n_steps: int,
    dt_ms: float,
    batch_norm: int | None = None,
) -> LossResult:
    """Loss, predictions and adjoint drives for a batch.

    Parameters
    ----------
    stats : float64[B, n_out, 6]
        Readout stats from :func:`neurodeploy.emulator.canonical_kernels.forward_batch`.
    labels : int64[B]
    n_steps : int
    dt_ms : float, ms
    batch_norm : int, optional
        Divisor of the summed loss (default ``B``): the drives are derivatives of
        ``sum(loss) / batch_norm``.
    """
    n_b, n_out, _ = stats.shape
    norm = float(batch_norm or n_b)
    onehot = np.zeros((n_b, n_out))
    onehot[np.arange(n_b), labels] = 1.0
    drives = np.zeros((n_b, n_out, 4))
    drives[:, :, 3] = -1.0
    first_dl = np.zeros((n_b, n_out))
    s = params.logit_scale
    readout = params.readout
    if readout == "first_spike":
        first = stats[:, :, K.S_FIRST]
        fired = first >= 0
        t_ms = np.where(fired, first, n_steps) * dt_ms
        z = -s * t_ms / params.tau0_ms
        p = _softmax(z)
        t_label = t_ms[np.arange(n_b), labels]
        reg = params.alpha * (np.exp(t_label / params.tau1_ms) - 1.0)
        loss = -np.log(np.maximum(p[np.arange(n_b), labels], 1e-300)) + reg
        dl_dt = -(p - onehot) * s / params.tau0_ms  # per ms
        dl_dt[np.arange(n_b), labels] += (
            params.alpha / params.tau1_ms * np.exp(t_label / params.tau1_ms)
        )
        first_dl = np.where(fired, dl_dt * dt_ms / norm, 0.0)
        silent_label = ~fired[np.arange(n_b), labels]
        rows = np.nonzero(silent_label)[0]
        drives[rows, labels[rows], 2] = -params.phantom / norm
        drives[rows, labels[rows], 3] = n_steps - 1
    else:
        if readout == "sum_voltage":
            z = s * stats[:, :, K.S_SUM] / n_steps
        elif readout == "exp_sum_voltage":
            z = s * stats[:, :, K.S_EXP_SUM] / n_steps
        elif readout == "max_voltage":
            z = s * stats[:, :, K.S_MAX]
        else:
            raise ValueError(f"unknown readout {readout!r}")
        p = _softmax(z)
        loss = -np.log(np.maximum(p[np.arange(n_b), labels], 1e-300))
        dz = (p - onehot) * s / norm
        if readout == "sum_voltage":
            drives[:, :, 0] = dz / n_steps
        elif readout == "exp_sum_voltage":
            drives[:, :, 1] = dz / n_steps
        else:
            drives[:, :, 2] = dz
            drives[:, :, 3] = stats[:, :, K.S_ARGMAX]
    predicted = decide(readout, summary_from_stats(stats, n_steps))
    return LossResult(loss=loss, predicted=predicted, drives=drives, first_dl=first_dl)
