"""Writers of small SHD-layout files for tests, including malformed ones."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np


def write_shd(
    path: Path,
    times: list,
    units: list,
    labels: list | np.ndarray,
    *,
    channels: int | None = None,
    times_dtype: type = np.float32,
    units_dtype: type = np.uint16,
    labels_dtype: type = np.uint16,
    speaker: list | None = None,
) -> Path:
    """Write ``times[i]`` (s), ``units[i]``, ``labels`` in the SHD layout (vlen datasets)."""
    with h5py.File(path, "w") as f:
        t = f.create_dataset(
            "spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.dtype(times_dtype))
        )
        u = f.create_dataset(
            "spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.dtype(units_dtype))
        )
        for i, row in enumerate(times):
            t[i] = np.asarray(row, dtype=times_dtype)
        for i, row in enumerate(units):
            u[i] = np.asarray(row, dtype=units_dtype)
        f.create_dataset("labels", data=np.asarray(labels, dtype=labels_dtype))
        if speaker is not None:
            f.create_dataset("extra/speaker", data=np.asarray(speaker, dtype=np.uint16))
        if channels is not None:
            f.attrs["channels"] = channels
    return path


def random_shd(path: Path, *, n_samples: int, channels: int, n_classes: int, seed: int) -> Path:
    """A random valid file: up to 300 spikes per sample within 0.5 s, some of them duplicates."""
    rng = np.random.default_rng(seed)
    times, units = [], []
    for _ in range(n_samples):
        n = int(rng.integers(0, 300))
        t = np.sort(rng.uniform(0, 0.5, n))
        u = rng.integers(0, channels, n)
        if n > 2:  # a repeated spike: same channel, 0.1 ms later
            t = np.append(t, t[0] + 1e-4)
            u = np.append(u, u[0])
        times.append(t)
        units.append(u)
    labels = rng.integers(0, n_classes, n_samples)
    return write_shd(path, times, units, labels, channels=channels)
