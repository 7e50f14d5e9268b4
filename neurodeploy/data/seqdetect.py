"""Sequence detection: the class is the temporal order of two input spikes.

The toy task of Mészáros, Knight & Nowotny 2025 (MKN25, "Efficient event-based delay learning in
spiking neural networks", arXiv:2501.07331; mbalazs98/deventprop ``sequence_detection.py``): two
input channels, class 0 when channel 0 fires at 0 ms and channel 1 at 10 ms, class 1 for the reverse
order, trials of 25 ms. Both classes hold the same spike times and the same number of spikes per
channel, so only the order tells them apart: a feed-forward network without delays (or recurrence)
cannot separate them, one with learned delays can (align the first spike with the second).

Definition here (the defaults reproduce the reference exactly):

- ``n_channels`` inputs (default 2). A sample uses one channel pair ``i < j``, drawn uniformly
  among all pairs (always ``(0, 1)`` for two channels). Other channels stay silent.
- Onset step ``s0`` uniform in ``{0, ..., round(onset_max_ms / dt)}`` (default 0 ms: no jitter),
  gap ``g = round(gap_ms / dt)`` steps (default 10 ms; must be >= 1 step).
- Class 0: channel ``i`` fires at ``s0``, channel ``j`` at ``s0 + g`` (lower channel first).
  Class 1: ``j`` at ``s0``, ``i`` at ``s0 + g``.
- Samples come in matched pairs: each draw of (pair, onset) yields one sample of each class, and the
  split is then shuffled. So the split is exactly balanced and the two classes differ only in order.
- Default sizes: train 128 samples, test 64 (even sizes only). Trial length
  :data:`DEFAULT_T_MAX_MS` = 25 ms. Random streams: ``numpy.random.default_rng([seed, k])`` with
  ``k = 0`` for train and ``1`` for test, so the splits never share a stream.
"""

from __future__ import annotations

import numpy as np

from neurodeploy.data.base import (
    Dataset,
    check_float,
    check_int,
    check_last_step,
    class_counts,
    n_steps_for,
    round_ms_to_steps,
)
from neurodeploy.errors import ConfigError
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import Problems

__all__ = ["DEFAULT_T_MAX_MS", "SPLITS", "load"]

#: split -> (default number of samples, stream index)
SPLITS = {"train": (128, 0), "test": (64, 1)}
DEFAULT_T_MAX_MS = 25.0


def load(
    split: str,
    *,
    dt_ms: float,
    t_max_ms: float | None = None,
    seed: int = 0,
    n_samples: int | None = None,
    n_channels: int = 2,
    gap_ms: float = 10.0,
    onset_max_ms: float = 0.0,
) -> Dataset:
    """Sequence-detection split (see the module docstring for the exact definition).

    Parameters
    ----------
    split : {"train", "test"}
    dt_ms : float, ms
    t_max_ms : float, ms, optional
        Trial length; :data:`DEFAULT_T_MAX_MS` when None.
    seed : int
    n_samples : int, optional
        Even number of samples; the split's default when None.
    n_channels : int
        Input channels (>= 2); each sample uses one pair of them.
    gap_ms : float, ms
        Time between the two spikes (>= one step after rounding).
    onset_max_ms : float, ms
        Latest onset of the first spike; onsets are uniform on the step grid from 0.

    Raises
    ------
    ConfigError
        Unknown split, a bad option value, odd ``n_samples``, a gap under one step, or a spike
        outside the trial; one line per problem, all reported together.
    """
    where = f"seqdetect:{split}"
    problems = Problems()
    if split not in SPLITS:
        problems.add(where, f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    t_max_ms = DEFAULT_T_MAX_MS if t_max_ms is None else t_max_ms
    n_steps = n_steps_for(t_max_ms, dt_ms, problems)
    seed = check_int("seed", seed, minimum=0, where=where, problems=problems)
    if n_samples is not None:
        n_samples = check_int("n_samples", n_samples, minimum=2, where=where, problems=problems)
        if n_samples is not None and n_samples % 2:
            problems.add(
                where,
                f"n_samples must be even (one sample of each class per draw), got {n_samples}",
            )
    n_channels = check_int("n_channels", n_channels, minimum=2, where=where, problems=problems)
    gap_ms = check_float("gap_ms", gap_ms, positive=True, where=where, problems=problems)
    onset_max_ms = check_float(
        "onset_max_ms", onset_max_ms, non_negative=True, where=where, problems=problems
    )
    gap = onset_max = 0
    if gap_ms is not None and n_steps is not None:
        gap = int(round_ms_to_steps(np.array([gap_ms]), dt_ms)[0])
        if gap < 1:
            problems.add(
                where, f"gap_ms = {gap_ms:g} rounds to 0 steps at dt_ms = {dt_ms:g}; need >= 1 step"
            )
        elif onset_max_ms is not None:
            onset_max = int(round_ms_to_steps(np.array([onset_max_ms]), dt_ms)[0])
            last_ms = (onset_max + gap) * dt_ms
            check_last_step(last_ms, n_steps, dt_ms, "onset_max_ms + gap_ms", where, problems)
    problems.raise_if_any(ConfigError)
    default_size, stream = SPLITS[split]
    n_samples = default_size if n_samples is None else n_samples

    rng = np.random.default_rng([seed, stream])
    n_pairs = n_samples // 2
    first, second = np.triu_indices(n_channels, k=1)
    pick = rng.integers(0, len(first), size=n_pairs)
    onset = rng.integers(0, onset_max + 1, size=n_pairs)
    low, high = first[pick], second[pick]
    # Rows 2p (class 0: low first) and 2p + 1 (class 1: high first) share pair and onset.
    early = np.stack([low, high], axis=1).reshape(-1)
    late = np.stack([high, low], axis=1).reshape(-1)
    start = np.repeat(onset, 2)
    labels = np.tile(np.array([0, 1], dtype=np.int64), n_pairs)
    order = rng.permutation(n_samples)
    samples = [(np.array([start[b], start[b] + gap]), np.array([early[b], late[b]])) for b in order]
    spikes = SpikeData.from_events(samples, labels[order], n_channels=n_channels, n_steps=n_steps)
    info = {
        "source": "sequence detection (MKN25, mbalazs98/deventprop sequence_detection.py)",
        "split": split,
        "seed": seed,
        "n_samples": n_samples,
        "class_counts": class_counts(labels, 2),
        "class_names": ["lower channel first", "higher channel first"],
        "t_max_ms": n_steps * dt_ms,
        "encoding": {
            "n_channels": n_channels,
            "gap_ms": gap_ms,
            "gap_steps": gap,
            "onset_max_ms": onset_max_ms,
            "onset_max_steps": onset_max,
        },
    }
    return Dataset(name=where, spikes=spikes, n_classes=2, dt_ms=float(dt_ms), info=info)
