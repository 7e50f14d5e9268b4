"""Sequence detection: balanced, the classes differ only in the order of two spikes."""

from collections import Counter

import numpy as np
import pytest

from neurodeploy.data import load_dataset
from neurodeploy.errors import ConfigError


def _pairs(ds):
    """Per sample: ((early step, early unit), (late step, late unit))."""
    out = []
    for b in range(len(ds)):
        steps, units = ds.spikes.sample(b)
        assert len(steps) == 2 and steps[0] < steps[1]
        out.append(((int(steps[0]), int(units[0])), (int(steps[1]), int(units[1]))))
    return out


def test_defaults_reproduce_the_reference_task():
    ds = load_dataset("seqdetect:train", dt_ms=1.0)
    assert (len(ds), ds.n_channels, ds.n_steps, ds.n_classes) == (128, 2, 25, 2)
    for ((t0, u0), (t1, u1)), label in zip(_pairs(ds), ds.spikes.labels, strict=True):
        assert (t0, t1) == (0, 10)
        assert (u0, u1) == ((0, 1) if label == 0 else (1, 0))


@pytest.mark.parametrize("split", ["train", "test"])
def test_balanced_and_classes_differ_only_in_order(split):
    ds = load_dataset(f"seqdetect:{split}", dt_ms=0.5, seed=3, n_channels=5, onset_max_ms=6.0)
    labels = ds.spikes.labels
    assert np.bincount(labels).tolist() == [len(ds) // 2] * 2
    pairs = _pairs(ds)
    # Lower channel first <=> class 0.
    for ((_, u0), (_, u1)), label in zip(pairs, labels, strict=True):
        assert (u0 < u1) == (label == 0)
    # Swapping the order of every class-0 sample gives exactly the class-1 samples.
    swapped = Counter(
        ((t0, u1), (t1, u0))
        for ((t0, u0), (t1, u1)), lab in zip(pairs, labels, strict=True)
        if lab == 0
    )
    class1 = Counter(p for p, lab in zip(pairs, labels, strict=True) if lab == 1)
    assert swapped == class1
    # Order-blind summaries (spike count per channel, spike times) have the same distribution.
    assert ds.info["encoding"]["gap_steps"] == 20
    onsets = [[p[0][0] for p, lab in zip(pairs, labels, strict=True) if lab == c] for c in (0, 1)]
    assert sorted(onsets[0]) == sorted(onsets[1]) and max(onsets[0]) > 0


def test_deterministic_given_seed_and_splits_differ():
    kw = dict(dt_ms=1.0, n_channels=4, onset_max_ms=10.0)
    a = load_dataset("seqdetect:train", seed=7, **kw)
    b = load_dataset("seqdetect:train", seed=7, **kw)
    c = load_dataset("seqdetect:train", seed=8, **kw)
    t = load_dataset("seqdetect:test", seed=7, **kw)
    np.testing.assert_array_equal(a.spikes.steps, b.spikes.steps)
    np.testing.assert_array_equal(a.spikes.units, b.spikes.units)
    assert not np.array_equal(a.spikes.steps, c.spikes.steps)
    assert _pairs(a)[: len(t)] != _pairs(t)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(n_samples=7), r"seqdetect:train: n_samples must be even"),
        (dict(gap_ms=0.4), r"gap_ms = 0.4 rounds to 0 steps at dt_ms = 1; need >= 1 step"),
        (
            dict(onset_max_ms=20.0),
            r"onset_max_ms \+ gap_ms = 30 ms falls on step 30, outside the trial of 25 steps",
        ),
        (dict(n_channels=1), r"n_channels must be an integer >= 2, got 1"),
    ],
)
def test_bad_options_fail_with_one_line(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        load_dataset("seqdetect:train", dt_ms=1.0, **kwargs)
