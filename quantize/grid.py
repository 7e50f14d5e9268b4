"""Choosing an integer weight grid: round-to-nearest onto multiples of a step, with clipping.

The step is chosen to minimise the activity-weighted squared error on calibration data rather than
to fit the largest weight: a few outliers may be clipped when that lowers the error of the many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.targets.grid import quantize_to_grid

__all__ = ["GridFit", "best_step", "fit_grid"]


@dataclass(frozen=True)
class GridFit:
    """Weights on an integer grid.

    Parameters
    ----------
    ints : int64 ndarray, shape of the weights
        Integer weights; float value is ``ints * step``.
    step : float
        Float weight per integer unit.
    clipped : int
        Number of weights beyond the grid's range (set to its end).
    rms_error : float
        Root-mean-square of ``weights - ints * step`` over all weights, float units.
    """

    ints: NDArray[np.int64]
    step: float
    clipped: int
    rms_error: float


def best_step(
    weights: NDArray[np.floating],
    low: int,
    high: int,
    *,
    importance: NDArray[np.floating] | None = None,
    multiple: int = 1,
    n_candidates: int = 48,
) -> float:
    """The step minimising ``sum(importance * (w - q(w))**2)``.

    Candidates range from the step that just fits ``max|w|`` down to a third of it (clipping the
    largest weights), plus every step that puts the largest weight exactly on a grid point (so
    weights already on a coarser grid, e.g. after quantization-aware fine-tuning, are found
    exactly). ``importance`` (broadcast to the weights) is e.g. the presynaptic spike count.
    """
    w = np.asarray(weights, dtype=np.float64)
    fit_all = _fit_all_step(w, low, high)
    if fit_all == 0.0:
        return 1.0
    weight = np.ones_like(w) if importance is None else np.broadcast_to(importance, w.shape)
    if not weight.any():
        weight = np.ones_like(w)
    best, best_err = fit_all, np.inf
    max_abs = float(np.abs(w).max())
    levels = np.arange(1, max(-low, high) // multiple + 1)
    candidates = np.r_[
        fit_all * np.linspace(1.0, 1.0 / 3.0, n_candidates), max_abs / (levels * multiple)
    ]
    for step in candidates:
        if step < fit_all / 3.0 or step > fit_all * max(-low, high):
            continue
        ints, _ = quantize_to_grid(w, step, low, high, multiple)
        err = float((weight * (w - ints * step) ** 2).sum())
        if err < best_err:
            best, best_err = step, err
    return best


def _fit_all_step(w: NDArray[np.float64], low: int, high: int) -> float:
    """Smallest step that represents every weight without clipping (0.0 for all-zero weights)."""
    candidates = []
    if w.size and w.max() > 0:
        candidates.append(w.max() / high if high > 0 else np.inf)
    if w.size and w.min() < 0:
        candidates.append(w.min() / low if low < 0 else np.inf)
    finite = [c for c in candidates if np.isfinite(c)]
    return max(finite) if finite else 0.0


def fit_grid(
    weights: NDArray[np.floating], step: float, low: int, high: int, multiple: int = 1
) -> GridFit:
    """Weights on the grid ``step * multiple * k`` within ``[low, high]``, with error statistics."""
    ints, clipped = quantize_to_grid(weights, step, low, high, multiple)
    err = np.asarray(weights, dtype=np.float64) - ints * step
    rms = float(np.sqrt((err**2).mean())) if err.size else 0.0
    return GridFit(ints=ints, step=step, clipped=clipped, rms_error=rms)
