"""Rounding weights onto a target's integer grid (``Target.projection_grid`` describes one):
shared by quantization, which chooses the step, and fine-tuning, which trains on it."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["quantize_to_grid"]


def quantize_to_grid(
    weights: NDArray[np.floating], step: float, low: int, high: int, multiple: int = 1
) -> tuple[NDArray[np.int64], int]:
    """Round ``weights / step`` to the nearest multiple of ``multiple`` within ``[low, high]``.

    Returns the integers and how many weights were clipped.
    """
    scaled = np.asarray(weights, dtype=np.float64) / (step * multiple)
    ints = np.rint(scaled).astype(np.int64)
    lo, hi = -((-low) // multiple), high // multiple  # grid ends that are multiples
    clipped = int(((ints < lo) | (ints > hi)).sum())
    return np.clip(ints, lo, hi) * multiple, clipped
