"""Yin-Yang (Kriener, Göltz & Petrovici 2021), latency-encoded.

Points are drawn exactly as the reference generator (lkriener/yin_yang_data_set ``dataset.py``)
draws them, so ``seed=0`` reproduces its published splits value for value:

- ``RandomState(split_seed)``; per sample, the goal class ``randint(3)``, then rejection sampling:
  ``(x, y) = rand(2) * 2 r_big`` until the point lies in the big circle (distance to
  ``(r_big, r_big)`` at most ``r_big``) and has the goal class. ``r_big = 0.5, r_small = 0.1``.
- Class of a point: 2 ("dot") if it is closer than ``r_small`` to either dot centre
  ``(0.5 r_big, r_big)`` / ``(1.5 r_big, r_big)`` (checked first); else 1 ("yang" in the
  reference's names list, its ``is_yin`` criterion) if ``d_right <= r_small`` or
  ``r_small < d_left <= r_big / 2`` or ``(y > r_big and d_right > r_big / 2)``; else 0.
- Features ``(x, y, 1 - x, 1 - y)``, each in [0, 1].
- Splits: train 5000 samples (split seed 42), validation 1000 (41), test 1000 (40). A non-zero
  ``seed`` shifts every split seed by ``3 * seed``; the three splits keep distinct seeds (they stay
  distinct mod 3), so they never share a random stream.

Encoding: one spike per feature on channels 0-3 at ``t_early_ms + v * (t_late_ms - t_early_ms)``,
rounded to the nearest step; with ``bias=True`` channel 4 fires once at ``t_bias_ms`` (default
``t_early_ms``). Defaults follow mlGeNN's Yin-Yang example at dt = 1 ms (offset 2 dt, scale
T - 4 dt, T = 30 ms): spikes in [2, 28] ms of a 30 ms trial. MKN25 (delay learning) uses the same
generator with T = 30 ms, dt = 0.01 ms and a bias input. :data:`DEFAULT_DT_MS` = 0.1 ms gives 260
latency levels per feature (300 steps); 1 ms gives only 27 levels, 0.01 ms 2600 (3000 steps).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from neurodeploy.data.base import (
    Dataset,
    check_bool,
    check_float,
    check_int,
    check_last_step,
    check_latency_window,
    class_counts,
    n_steps_for,
    round_ms_to_steps,
)
from neurodeploy.errors import ConfigError
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import Problems

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_DT_MS",
    "DEFAULT_T_MAX_MS",
    "SPLITS",
    "load",
    "yin_yang_points",
]

#: split -> (number of samples, reference seed), as in the reference README.
SPLITS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}
#: Names in the reference code, indexed by label.
CLASS_NAMES = ("yin", "yang", "dot")
DEFAULT_DT_MS = 0.1
DEFAULT_T_MAX_MS = 30.0
_R_BIG = 0.5
_R_SMALL = 0.1


def _which_class(x: float, y: float) -> int:
    """Class of point ``(x, y)`` by the reference rules ("dot" first)."""
    d_right = math.sqrt((x - 1.5 * _R_BIG) * (x - 1.5 * _R_BIG) + (y - _R_BIG) * (y - _R_BIG))
    d_left = math.sqrt((x - 0.5 * _R_BIG) * (x - 0.5 * _R_BIG) + (y - _R_BIG) * (y - _R_BIG))
    if d_right < _R_SMALL or d_left < _R_SMALL:
        return 2
    criterion1 = d_right <= _R_SMALL
    criterion2 = _R_SMALL < d_left <= 0.5 * _R_BIG
    criterion3 = y > _R_BIG and d_right > 0.5 * _R_BIG
    return int(criterion1 or criterion2 or criterion3)


@lru_cache(maxsize=8)
def yin_yang_points(size: int, seed: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``size`` reference Yin-Yang samples drawn with ``numpy.random.RandomState(seed)``.

    Results are cached (the draw is a Python loop, ~0.3 s per 1000 samples); the returned arrays
    are read-only.

    Returns
    -------
    features : float64 ndarray, shape (size, 4)
        ``(x, y, 1 - x, 1 - y)`` per sample.
    labels : int64 ndarray, shape (size,)
    """
    rng = np.random.RandomState(seed)
    features = np.empty((size, 4), dtype=np.float64)
    labels = np.empty(size, dtype=np.int64)
    for i in range(size):
        goal = int(rng.randint(3))
        while True:
            x, y = (rng.rand(2) * 2.0 * _R_BIG).tolist()
            if math.sqrt((x - _R_BIG) * (x - _R_BIG) + (y - _R_BIG) * (y - _R_BIG)) > _R_BIG:
                continue
            if _which_class(x, y) == goal:
                break
        features[i] = (x, y, 1.0 - x, 1.0 - y)
        labels[i] = goal
    features.flags.writeable = False
    labels.flags.writeable = False
    return features, labels


def load(
    split: str,
    *,
    dt_ms: float,
    t_max_ms: float | None = None,
    seed: int = 0,
    t_early_ms: float = 2.0,
    t_late_ms: float = 28.0,
    bias: bool = False,
    t_bias_ms: float | None = None,
    size: int | None = None,
) -> Dataset:
    """Latency-encoded Yin-Yang split (see the module docstring for the exact definition).

    Parameters
    ----------
    split : {"train", "validation", "test"}
    dt_ms : float, ms
    t_max_ms : float, ms, optional
        Trial length; :data:`DEFAULT_T_MAX_MS` when None.
    seed : int
        0 gives the reference splits; others shift each split's seed by ``3 * seed``.
    t_early_ms, t_late_ms : float, ms
        Spike time of feature value 0 and 1.
    bias : bool
        Add channel 4, firing once per sample at ``t_bias_ms`` (``t_early_ms`` when None).
    size : int, optional
        Number of samples (the first ``size`` of the split's stream); the reference size when None.

    Raises
    ------
    ConfigError
        Unknown split, a bad option value, ``t_late_ms <= t_early_ms``, or a spike that would fall
        outside the trial; one line per problem, all reported together.
    """
    where = f"yinyang:{split}"
    problems = Problems()
    if split not in SPLITS:
        problems.add(where, f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    t_max_ms = DEFAULT_T_MAX_MS if t_max_ms is None else t_max_ms
    n_steps = n_steps_for(t_max_ms, dt_ms, problems)
    seed = check_int("seed", seed, minimum=0, where=where, problems=problems)
    t_early_ms, t_late_ms = check_latency_window(t_early_ms, t_late_ms, where, problems)
    bias = check_bool("bias", bias, where=where, problems=problems)
    t_bias_ms = t_early_ms if t_bias_ms is None else t_bias_ms
    if t_bias_ms is not None:
        t_bias_ms = check_float(
            "t_bias_ms", t_bias_ms, non_negative=True, where=where, problems=problems
        )
    if n_steps is not None:
        if t_late_ms is not None:
            check_last_step(t_late_ms, n_steps, dt_ms, "t_late_ms", where, problems)
        if bias and t_bias_ms is not None:
            check_last_step(t_bias_ms, n_steps, dt_ms, "t_bias_ms", where, problems)
    if size is not None:
        size = check_int("size", size, minimum=1, where=where, problems=problems)
    problems.raise_if_any(ConfigError)
    ref_size, ref_seed = SPLITS[split]
    size = ref_size if size is None else size
    split_seed = ref_seed + 3 * seed

    features, labels = yin_yang_points(size, split_seed)
    n_channels = 5 if bias else 4
    times_ms = t_early_ms + features * (t_late_ms - t_early_ms)
    if bias:
        times_ms = np.concatenate([times_ms, np.full((size, 1), t_bias_ms)], axis=1)
    steps = round_ms_to_steps(times_ms, dt_ms)
    units = np.arange(n_channels)
    spikes = SpikeData.from_events(
        [(steps[b], units) for b in range(size)], labels, n_channels=n_channels, n_steps=n_steps
    )
    info = {
        "source": "Kriener et al. 2021 reference generator (lkriener/yin_yang_data_set)",
        "split": split,
        "seed": seed,
        "split_seed": split_seed,
        "n_samples": size,
        "class_counts": class_counts(labels, 3),
        "class_names": list(CLASS_NAMES),
        "t_max_ms": n_steps * dt_ms,
        "encoding": {
            "kind": "latency",
            "features": ["x", "y", "1-x", "1-y"],
            "t_early_ms": t_early_ms,
            "t_late_ms": t_late_ms,
            "bias": bias,
            "t_bias_ms": t_bias_ms if bias else None,
            "rounding": "nearest step, half up",
        },
    }
    return Dataset(name=where, spikes=spikes, n_classes=3, dt_ms=float(dt_ms), info=info)
