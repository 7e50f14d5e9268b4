"""What a run records, in one shape for every emulator and backend, and how two runs compare.

Step index ``t`` runs 0 … n_steps-1. An input spike at step ``t`` with delay ``d`` reaches the
target's current at step ``t + 1 + d`` (Lava's ``time_step`` is ``t + 1``). Voltages are recorded
after the reset, as Lava's probes and SpiNNaker2's recordings read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Mismatch", "PopulationRecord", "Recording", "first_mismatch"]


@dataclass(frozen=True)
class PopulationRecord:
    """Recorded activity of one non-input population.

    Parameters
    ----------
    spikes : uint8 ndarray, shape (n_samples, n_steps, size)
        1 where the neuron spiked.
    v : ndarray, shape (n_samples, n_steps, size), or None
        Membrane state after reset (int32 for Loihi 2, float32 for SpiNNaker2, float64 for float).
    u : ndarray, shape (n_samples, n_steps, size), or None
        Synaptic current state.
    """

    spikes: NDArray[np.uint8]
    v: NDArray[np.generic] | None = None
    u: NDArray[np.generic] | None = None


Recording = Mapping[str, PopulationRecord]


@dataclass(frozen=True)
class Mismatch:
    """The first place two recordings differ (lowest sample, then step, then population order)."""

    population: str
    variable: str
    sample: int
    step: int
    neuron: int
    expected: float
    actual: float

    def __str__(self) -> str:
        return (
            f"{self.population}.{self.variable}[sample {self.sample}, step {self.step}, "
            f"neuron {self.neuron}]: {self.expected} != {self.actual}"
        )


def first_mismatch(
    expected: Recording, actual: Recording, variables: tuple[str, ...] = ("spikes", "v")
) -> Mismatch | None:
    """Compare two recordings exactly; the earliest difference, or None if they agree.

    Populations and variables missing from either side are skipped; shapes must agree.
    """
    best: tuple[tuple[int, int, int], Mismatch] | None = None
    for order, (name, rec_e) in enumerate(expected.items()):
        rec_a = actual.get(name)
        if rec_a is None:
            continue
        for var in variables:
            a, b = getattr(rec_e, var), getattr(rec_a, var)
            if a is None or b is None:
                continue
            if a.shape != b.shape:
                raise ValueError(f"{name}.{var}: shapes differ, {a.shape} vs {b.shape}")
            diff = np.argwhere(a != b)
            if len(diff) == 0:
                continue
            s, t, i = (int(x) for x in diff[0])
            key = (s, t, order)
            if best is None or key < best[0]:
                mismatch = Mismatch(name, var, s, t, i, a[s, t, i].item(), b[s, t, i].item())
                best = (key, mismatch)
    return None if best is None else best[1]
