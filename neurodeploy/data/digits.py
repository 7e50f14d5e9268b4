"""scikit-learn's handwritten digits (8x8 images, 1797 samples, 10 classes), latency-coded.

Encoding: channel ``8 * row + col`` fires once if its pixel intensity ``v`` (an integer 0..16) is
above 0, at ``t_early_ms + (16 - v) / 15 * (t_late_ms - t_early_ms)``: the brightest pixels
(``v = 16``) at ``t_early_ms``, the faintest (``v = 1``) at ``t_late_ms``, rounded to the nearest
step (half up). Like mlGeNN's latency MNIST coding (brighter = earlier, linear in intensity), with
defaults 2-18 ms in a 20 ms trial (:data:`DEFAULT_T_MAX_MS`).

Split (fixed, independent of ``seed``, so train and test never overlap): stratified, 360 test and
1437 train samples. Each class gets ``360 * n_class / 1797`` test samples, rounded by largest
remainder (ties to the lower class), chosen by ``numpy.random.default_rng(SPLIT_SEED)``
permutations of the class's indices, taken class by class in label order; both splits keep the
original sample order.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from neurodeploy.data.base import (
    Dataset,
    check_last_step,
    check_latency_window,
    class_counts,
    n_steps_for,
    round_ms_to_steps,
)
from neurodeploy.errors import ConfigError
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import Problems

__all__ = ["DEFAULT_T_MAX_MS", "N_TEST", "SPLITS", "SPLIT_SEED", "load", "split_indices"]

SPLITS = ("train", "test")
N_TEST = 360
SPLIT_SEED = 0
DEFAULT_T_MAX_MS = 20.0
_V_MAX = 16


@lru_cache(maxsize=1)
def _digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    from sklearn.datasets import load_digits  # heavy import, only when used

    bunch = load_digits()
    images = np.asarray(bunch.data, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def split_indices(labels: NDArray[np.integer]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(train, test) indices of the fixed stratified split described in the module docstring."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * N_TEST / len(labels)
    quota = np.floor(exact).astype(np.int64)
    remainder = exact - quota
    extra = np.argsort(-remainder, kind="stable")[: N_TEST - int(quota.sum())]
    quota[extra] += 1
    rng = np.random.default_rng(SPLIT_SEED)
    test = []
    for c, q in zip(classes, quota, strict=True):
        members = np.flatnonzero(labels == c)
        test.append(rng.permutation(members)[:q])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return train_idx.astype(np.int64), test_idx.astype(np.int64)


def load(
    split: str,
    *,
    dt_ms: float,
    t_max_ms: float | None = None,
    seed: int = 0,
    t_early_ms: float = 2.0,
    t_late_ms: float = 18.0,
) -> Dataset:
    """Latency-coded digits split.

    Parameters
    ----------
    split : {"train", "test"}
    dt_ms : float, ms
    t_max_ms : float, ms, optional
        Trial length; :data:`DEFAULT_T_MAX_MS` when None.
    seed : int
        Unused (the split is fixed); accepted so every loader takes the same arguments.
    t_early_ms, t_late_ms : float, ms
        Spike time of intensity 16 and of intensity 1.

    Raises
    ------
    ConfigError
        Unknown split, a bad option value, ``t_late_ms <= t_early_ms``, or a spike that would fall
        outside the trial; one line per problem, all reported together.
    """
    where = f"digits:{split}"
    problems = Problems()
    if split not in SPLITS:
        problems.add(where, f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    t_max_ms = DEFAULT_T_MAX_MS if t_max_ms is None else t_max_ms
    n_steps = n_steps_for(t_max_ms, dt_ms, problems)
    t_early_ms, t_late_ms = check_latency_window(t_early_ms, t_late_ms, where, problems)
    if n_steps is not None and t_late_ms is not None:
        check_last_step(t_late_ms, n_steps, dt_ms, "t_late_ms", where, problems)
    problems.raise_if_any(ConfigError)

    images, all_labels = _digits()
    train_idx, test_idx = split_indices(all_labels)
    index = train_idx if split == "train" else test_idx
    samples = []
    for b in index:
        pixels = np.flatnonzero(images[b] > 0)
        times_ms = t_early_ms + (_V_MAX - images[b, pixels]) / (_V_MAX - 1) * (
            t_late_ms - t_early_ms
        )
        samples.append((round_ms_to_steps(times_ms, dt_ms), pixels))
    labels = all_labels[index]
    spikes = SpikeData.from_events(samples, labels, n_channels=64, n_steps=n_steps)
    info = {
        "source": "sklearn.datasets.load_digits (UCI optical recognition of handwritten digits)",
        "split": split,
        "split_seed": SPLIT_SEED,
        "n_samples": len(index),
        "class_counts": class_counts(labels, 10),
        "t_max_ms": n_steps * dt_ms,
        "encoding": {
            "kind": "latency",
            "channel": "8 * row + col",
            "t_early_ms": t_early_ms,
            "t_late_ms": t_late_ms,
            "time": "t_early + (16 - v) / 15 * (t_late - t_early) for v > 0",
            "rounding": "nearest step, half up",
        },
    }
    return Dataset(name=where, spikes=spikes, n_classes=10, dt_ms=float(dt_ms), info=info)
