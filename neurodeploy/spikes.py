"""Spike trains of many samples in event-list form: the one sample format of every stage.

Events are stored, not dense rasters, so memory grows with the number of spikes and not with the
number of time steps. Spikes are binary: binning merges two spikes of one channel in one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import NetworkError

__all__ = ["SpikeData"]


@dataclass(frozen=True)
class SpikeData:
    """Binned spike trains of ``n_samples`` samples with labels.

    Parameters
    ----------
    steps : int32 ndarray, shape (n_events,)
        Time-step index of each spike, in [0, n_steps); sorted (step, then unit) within a sample.
    units : int32 ndarray, shape (n_events,)
        Channel of each spike, in [0, n_channels).
    offsets : int64 ndarray, shape (n_samples + 1,)
        Sample ``b`` owns events ``offsets[b]:offsets[b + 1]``.
    labels : int64 ndarray, shape (n_samples,)
        Class of each sample (-1 when unlabelled).
    n_channels, n_steps : int
        Input size and trial length in steps.
    """

    steps: NDArray[np.int32]
    units: NDArray[np.int32]
    offsets: NDArray[np.int64]
    labels: NDArray[np.int64]
    n_channels: int
    n_steps: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", np.ascontiguousarray(self.steps, dtype=np.int32))
        object.__setattr__(self, "units", np.ascontiguousarray(self.units, dtype=np.int32))
        object.__setattr__(self, "offsets", np.ascontiguousarray(self.offsets, dtype=np.int64))
        object.__setattr__(self, "labels", np.ascontiguousarray(self.labels, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_events(self) -> int:
        return int(self.offsets[-1])

    @classmethod
    def from_events(
        cls,
        samples: list[tuple[NDArray[np.integer], NDArray[np.integer]]],
        labels: NDArray[np.integer],
        *,
        n_channels: int,
        n_steps: int,
    ) -> SpikeData:
        """Build from per-sample ``(steps, units)`` arrays; drops events at or beyond
        ``n_steps``, merges duplicates and sorts."""
        all_steps, all_units, offsets = [], [], [0]
        for steps, units in samples:
            steps = np.asarray(steps, dtype=np.int64)
            units = np.asarray(units, dtype=np.int64)
            keep = (steps >= 0) & (steps < n_steps)
            key = np.unique(steps[keep] * n_channels + units[keep])
            all_steps.append((key // n_channels).astype(np.int32))
            all_units.append((key % n_channels).astype(np.int32))
            offsets.append(offsets[-1] + len(key))
        empty = np.zeros(0, np.int32)
        return cls(
            steps=np.concatenate(all_steps) if all_steps else empty,
            units=np.concatenate(all_units) if all_units else empty,
            offsets=np.asarray(offsets, dtype=np.int64),
            labels=np.asarray(labels, dtype=np.int64),
            n_channels=n_channels,
            n_steps=n_steps,
        )

    @classmethod
    def from_dense(
        cls, raster: NDArray[np.generic], labels: NDArray[np.integer] | None = None
    ) -> SpikeData:
        """Build from a raster ``[sample, step, channel]`` (non-zero = spike)."""
        raster = np.asarray(raster)
        n_samples, n_steps, n_channels = raster.shape
        samples = [tuple(np.nonzero(raster[b])) for b in range(n_samples)]
        if labels is None:
            labels = -np.ones(n_samples, dtype=np.int64)
        return cls.from_events(samples, labels, n_channels=n_channels, n_steps=n_steps)

    def sample(self, b: int) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """``(steps, units)`` of sample ``b``."""
        lo, hi = self.offsets[b], self.offsets[b + 1]
        return self.steps[lo:hi], self.units[lo:hi]

    def subset(self, index: NDArray[np.integer] | slice) -> SpikeData:
        """The samples selected by ``index``, in that order."""
        index = np.arange(len(self))[index] if isinstance(index, slice) else np.asarray(index)
        samples = [self.sample(int(b)) for b in index]
        return SpikeData.from_events(
            samples, self.labels[index], n_channels=self.n_channels, n_steps=self.n_steps
        )

    def to_dense(self, index: NDArray[np.integer] | slice | None = None) -> NDArray[np.uint8]:
        """Raster ``[sample, step, channel]`` of the selected samples (all by default), uint8."""
        index = np.arange(len(self))[index if index is not None else slice(None)]
        out = np.zeros((len(index), self.n_steps, self.n_channels), dtype=np.uint8)
        for row, b in enumerate(index):
            steps, units = self.sample(int(b))
            out[row, steps, units] = 1
        return out

    def problems(self, where: str = "spikes") -> list[str]:
        """Consistency problems, one line each (empty when valid)."""
        out = []
        if (
            self.offsets[0] != 0
            or (np.diff(self.offsets) < 0).any()
            or self.offsets[-1] != len(self.steps)
        ):
            out.append(f"{where}/offsets must rise from 0 to n_events={len(self.steps)}")
        if len(self.units) != len(self.steps):
            out.append(
                f"{where}/units must have one entry per event ({len(self.steps)}), got {len(self.units)}"
            )
        if len(self.steps) and (self.steps.min() < 0 or self.steps.max() >= self.n_steps):
            out.append(
                f"{where}/steps must be in [0, {self.n_steps - 1}], got {self.steps.min()}..{self.steps.max()}"
            )
        if len(self.units) and (self.units.min() < 0 or self.units.max() >= self.n_channels):
            out.append(
                f"{where}/units must be in [0, {self.n_channels - 1}], got {self.units.min()}..{self.units.max()}"
            )
        return out

    def validate(self, where: str = "spikes") -> SpikeData:
        problems = self.problems(where)
        if problems:
            raise NetworkError("\n".join(problems))
        return self
