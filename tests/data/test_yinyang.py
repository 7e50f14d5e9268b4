"""Yin-Yang: the reference generator's exact samples, latency encoding, options."""

import numpy as np
import pytest

from neurodeploy.data import load_dataset
from neurodeploy.data.yinyang import DEFAULT_DT_MS, yin_yang_points
from neurodeploy.errors import ConfigError

# First samples (x, y) and labels of lkriener/yin_yang_data_set publication_data/*.npy, and each
# split's class counts over all its samples.
REFERENCE = {
    "train": (
        [
            (0.6803075385877797, 0.450499251969543),
            (0.09767211400638387, 0.6842330265121569),
            (0.7553614103176525, 0.4251558744912447),
        ],
        [2, 1, 2],
        [1681, 1702, 1617],
    ),
    "validation": (
        [
            (0.6805727261759029, 0.3209733938933629),
            (0.6685157172603458, 0.9174478488708967),
            (0.8019778902252007, 0.17902872922296542),
        ],
        [0, 1, 0],
        [316, 336, 348],
    ),
    "test": (
        [
            (0.23409664559563403, 0.4017249751828972),
            (0.7513290219574494, 0.4682425192680968),
            (0.13832530718825586, 0.570953971325061),
        ],
        [2, 2, 1],
        [350, 316, 334],
    ),
}
SEEDS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_points_equal_the_reference_publication_data(split):
    size, seed = SEEDS[split]
    features, labels = yin_yang_points(size, seed)
    xy, first_labels, counts = REFERENCE[split]
    assert features[:3, :2].tolist() == [list(p) for p in xy]  # bit-exact
    np.testing.assert_array_equal(features[:, 2:], 1.0 - features[:, :2])
    assert labels[:3].tolist() == first_labels
    assert np.bincount(labels).tolist() == counts


def test_three_splits_are_different_points():
    sets = [yin_yang_points(*SEEDS[s])[0] for s in ("train", "validation", "test")]
    rows = [{tuple(r) for r in f.tolist()} for f in sets]
    assert not rows[0] & rows[1] and not rows[0] & rows[2] and not rows[1] & rows[2]


def test_points_lie_in_the_circle_with_their_class_geometry():
    features, labels = yin_yang_points(1000, 40)
    x, y = features[:, 0], features[:, 1]
    assert np.all(np.hypot(x - 0.5, y - 0.5) <= 0.5)
    near_dot = (np.hypot(x - 0.25, y - 0.5) < 0.1) | (np.hypot(x - 0.75, y - 0.5) < 0.1)
    np.testing.assert_array_equal(near_dot, labels == 2)


def test_latency_encoding_one_spike_per_feature_on_the_grid():
    ds = load_dataset("yinyang:test", dt_ms=1.0)
    features, _ = yin_yang_points(*SEEDS["test"])
    assert (len(ds), ds.n_channels, ds.n_steps, ds.n_classes) == (1000, 4, 30, 3)
    assert ds.spikes.n_events == 4000
    expected = np.floor(2.0 + features * 26.0 + 0.5).astype(int)
    for b in (0, 1, 500, 999):
        steps, units = ds.spikes.sample(b)
        assert dict(zip(units.tolist(), steps.tolist(), strict=True)) == dict(
            enumerate(expected[b])
        )
    assert ds.spikes.steps.min() >= 2 and ds.spikes.steps.max() <= 28
    assert ds.info["class_counts"] == REFERENCE["test"][2]


def test_default_dt_and_bias_channel():
    ds = load_dataset("yinyang:validation", dt_ms=DEFAULT_DT_MS, bias=True, t_bias_ms=0.5)
    assert (ds.n_channels, ds.n_steps) == (5, 300)
    assert ds.spikes.n_events == 5 * 1000
    bias = ds.spikes.units == 4
    assert bias.sum() == 1000 and set(ds.spikes.steps[bias].tolist()) == {5}


def test_seed_changes_the_draw_and_is_deterministic():
    a = load_dataset("yinyang:train", dt_ms=1.0, seed=1, size=50)
    b = load_dataset("yinyang:train", dt_ms=1.0, seed=1, size=50)
    c = load_dataset("yinyang:train", dt_ms=1.0, size=50)
    np.testing.assert_array_equal(a.spikes.steps, b.spikes.steps)
    assert a.info["split_seed"] == 45 and c.info["split_seed"] == 42
    assert not np.array_equal(a.spikes.steps, c.spikes.steps)


@pytest.mark.parametrize(
    "spec, kwargs, pattern",
    [
        ("yinyang:dev", {}, r"yinyang:dev: split must be one of train, validation, test"),
        (
            "yinyang:train",
            dict(t_late_ms=30.0),
            r"t_late_ms = 30 ms falls on step 30, outside the trial of 30 steps",
        ),
        (
            "yinyang:train",
            dict(t_early_ms=5.0, t_late_ms=4.0),
            r"t_late_ms must be > t_early_ms = 5, got 4",
        ),
        ("yinyang:train", dict(bias=1), r"bias must be true or false, got 1"),
        ("yinyang:train", dict(t_max_ms=10.0), r"t_late_ms = 28 ms falls on step 28"),
        ("yinyang:train", dict(seed=-1), r"seed must be an integer >= 0, got -1"),
    ],
)
def test_bad_options_fail_with_one_line(spec, kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        load_dataset(spec, dt_ms=1.0, **kwargs)
