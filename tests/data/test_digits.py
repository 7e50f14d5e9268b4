"""Latency-coded scikit-learn digits: shapes, labels, the fixed split, the code."""

import numpy as np
import pytest

from neurodeploy.data import load_dataset
from neurodeploy.data.digits import _digits, split_indices
from neurodeploy.errors import ConfigError


@pytest.fixture(scope="module")
def splits():
    return {s: load_dataset(f"digits:{s}", dt_ms=1.0) for s in ("train", "test")}


def test_shapes_and_labels(splits):
    train, test = splits["train"], splits["test"]
    assert (len(train), len(test)) == (1437, 360)
    for ds in (train, test):
        assert (ds.n_channels, ds.n_steps, ds.n_classes) == (64, 20, 10)
        assert set(ds.spikes.labels.tolist()) == set(range(10))
        assert not ds.spikes.problems()
    # Stratified: every class has 19.9-20.1 % of its samples in test.
    _, labels = _digits()
    fraction = np.bincount(test.spikes.labels) / np.bincount(labels)
    assert np.all(np.abs(fraction - 360 / 1797) < 0.005)


def test_split_is_fixed_and_disjoint():
    _, labels = _digits()
    train_idx, test_idx = split_indices(labels)
    again = split_indices(labels)
    np.testing.assert_array_equal(train_idx, again[0])
    assert not set(train_idx.tolist()) & set(test_idx.tolist())
    assert len(train_idx) + len(test_idx) == 1797


def test_one_spike_per_lit_pixel_brighter_earlier(splits):
    images, labels = _digits()
    _, test_idx = split_indices(labels)
    ds = splits["test"]
    for row in (0, 100, 359):
        image = images[test_idx[row]]
        steps, units = ds.spikes.sample(row)
        by_unit = dict(zip(units.tolist(), steps.tolist(), strict=True))
        assert set(by_unit) == set(np.flatnonzero(image > 0).tolist())
        for pixel, step in by_unit.items():
            assert step == int(np.floor(2.0 + (16 - image[pixel]) / 15 * 16.0 + 0.5))
        assert ds.spikes.labels[row] == labels[test_idx[row]]
    assert ds.spikes.steps.min() == 2 and ds.spikes.steps.max() == 18


def test_late_spike_outside_trial_is_a_config_error():
    with pytest.raises(
        ConfigError,
        match=r"digits:train: t_late_ms = 18 ms falls on step 18, outside the trial of 18 steps",
    ):
        load_dataset("digits:train", dt_ms=1.0, t_max_ms=18.0)
