"""SHD/SSC-layout files: binning rules, chunked reading, real files, and bad input."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeploy.data import load_dataset
from neurodeploy.data.base import bin_seconds
from neurodeploy.data.shd import load, read_extra
from neurodeploy.errors import ConfigError, ModelFileError
from tests.data.shd_files import random_shd, write_shd

# The development files live in shared/, beside the repository (as in CI).
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _reference_events(times, units, dt_ms, n_steps=None):
    """Plain per-spike binning of one sample: sorted unique (step, unit) pairs.

    A time equal to the stored float of (k + 1) * dt belongs to step k + 1 (the lauscher files
    hold e.g. float32(0.12) < 0.12).
    """
    pairs = set()
    for t, u in zip(times, units, strict=True):
        step = int(np.floor(float(t) * 1000.0 / dt_ms))
        if t.dtype.type((step + 1) * dt_ms / 1000.0) <= t:
            step += 1
        if n_steps is None or step < n_steps:
            pairs.add((step, int(u)))
    return sorted(pairs)


def _events(ds, b):
    steps, units = ds.spikes.sample(b)
    return list(zip(steps.tolist(), units.tolist(), strict=True))


def test_round_trip_of_written_file(tmp_path):
    times = [[0.0, 0.0015, 0.0049], [0.010], []]
    units = [[3, 1, 0], [9], []]
    path = write_shd(tmp_path / "a.h5", times, units, [1, 0, 2], channels=10)
    ds = load(path, dt_ms=1.0)
    assert (len(ds), ds.n_channels, ds.n_classes, ds.n_steps) == (3, 10, 3, 11)
    assert _events(ds, 0) == [(0, 3), (1, 1), (4, 0)]
    assert _events(ds, 1) == [(10, 9)]
    assert _events(ds, 2) == []
    assert ds.spikes.labels.tolist() == [1, 0, 2]
    assert ds.info["channels_from"] == "file attribute"
    assert ds.info["class_counts"] == [1, 1, 1]
    json.dumps(ds.info)  # provenance stays serialisable


def test_spike_at_exactly_k_dt_goes_to_step_k(tmp_path):
    ks = np.array([0, 1, 3, 7, 100, 299, 700, 999, 1234, 1399])
    for dt_ms in (1.0, 0.1, 0.5, 2.5):
        times = [(ks * dt_ms / 1000.0).astype(np.float32)]  # e.g. float32(0.7) < 0.7
        path = write_shd(tmp_path / f"k{dt_ms}.h5", times, [np.arange(len(ks))], [0], channels=16)
        steps, units = load(path, dt_ms=dt_ms).spikes.sample(0)
        assert dict(zip(units.tolist(), steps.tolist(), strict=True)) == dict(
            enumerate(ks.tolist())
        )


@settings(deadline=None, max_examples=100)
@given(
    k=st.integers(0, 200_000),
    dt_ms=st.sampled_from([0.01, 0.1, 0.25, 1.0, 2.0]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_grid_times_bin_to_their_step_and_just_below_to_the_previous(k, dt_ms, dtype):
    if dtype is np.float32:
        k %= 20_001  # float32 resolves 0.05 step only up to ~20k steps
    on_grid = np.array([k * dt_ms / 1000.0], dtype=dtype)
    assert bin_seconds(on_grid, dt_ms).tolist() == [k]
    if k > 0:
        below = np.array([(k - 0.05) * dt_ms / 1000.0], dtype=dtype)
        assert bin_seconds(below, dt_ms).tolist() == [k - 1]
        after = np.array([(k + 0.95) * dt_ms / 1000.0], dtype=dtype)
        assert bin_seconds(after, dt_ms).tolist() == [k]


def test_duplicates_in_one_step_merge(tmp_path):
    times = [[0.0021, 0.0022, 0.0029, 0.0021, 0.0030]]
    units = [[5, 5, 5, 6, 5]]
    ds = load(write_shd(tmp_path / "d.h5", times, units, [0], channels=8), dt_ms=1.0)
    assert _events(ds, 0) == [(2, 5), (2, 6), (3, 5)]
    assert ds.info["merged_events"] == 2 and ds.info["events_read"] == 5


def test_spikes_at_or_after_t_max_are_dropped(tmp_path):
    times = [[0.0, 0.00999, 0.010, 0.0101, 0.5]]
    units = [[0, 1, 2, 3, 4]]
    path = write_shd(tmp_path / "t.h5", times, units, [0], channels=8)
    ds = load(path, dt_ms=1.0, t_max_ms=10.0)
    assert ds.n_steps == 10
    assert _events(ds, 0) == [(0, 0), (9, 1)]
    assert ds.info["dropped_events"] == 3
    assert ds.info["t_max_ms"] == 10.0
    # Default: just long enough for the latest spike (at 500 ms -> step 500).
    assert load(path, dt_ms=1.0).n_steps == 501


def test_t_max_is_rounded_up_to_whole_steps(tmp_path):
    path = write_shd(tmp_path / "r.h5", [[0.0, 0.0104]], [[0, 1]], [0], channels=2)
    ds = load(path, dt_ms=1.0, t_max_ms=10.2)
    assert ds.n_steps == 11 and _events(ds, 0) == [(0, 0), (10, 1)]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 1000])
def test_chunked_reading_equals_reading_at_once(tmp_path, chunk_size):
    path = random_shd(tmp_path / "r.h5", n_samples=23, channels=40, n_classes=5, seed=3)
    whole = load(path, dt_ms=1.0, chunk_size=10_000)
    part = load(path, dt_ms=1.0, chunk_size=chunk_size)
    for field in ("steps", "units", "offsets", "labels"):
        np.testing.assert_array_equal(getattr(part.spikes, field), getattr(whole.spikes, field))
    assert part.n_steps == whole.n_steps
    assert part.info["merged_events"] == whole.info["merged_events"] > 0
    assert not whole.spikes.problems()


def test_random_file_matches_per_spike_reference(tmp_path):
    path = random_shd(tmp_path / "r.h5", n_samples=12, channels=30, n_classes=4, seed=5)
    ds = load(path, dt_ms=2.0, t_max_ms=300.0, chunk_size=5)
    with h5py.File(path) as f:
        for b in range(12):
            ref = _reference_events(f["spikes/times"][b], f["spikes/units"][b], 2.0, n_steps=150)
            assert _events(ds, b) == ref


def test_max_samples_reads_a_prefix(tmp_path):
    path = random_shd(tmp_path / "r.h5", n_samples=10, channels=20, n_classes=3, seed=1)
    head = load(path, dt_ms=1.0, t_max_ms=600.0, max_samples=4)
    full = load(path, dt_ms=1.0, t_max_ms=600.0)
    assert len(head) == 4 and head.info["n_samples_in_file"] == 10
    np.testing.assert_array_equal(head.spikes.steps, full.spikes.steps[: full.spikes.offsets[4]])


def test_default_channels_is_700(tmp_path):
    path = write_shd(tmp_path / "n.h5", [[0.001]], [[699]], [0])
    ds = load(path, dt_ms=1.0)
    assert ds.n_channels == 700 and ds.info["channels_from"] == "SHD default"


def test_read_extra_returns_speakers(tmp_path):
    path = write_shd(
        tmp_path / "s.h5", [[0.0], [0.0]], [[0], [1]], [0, 1], channels=2, speaker=[4, 7]
    )
    assert read_extra(path, "speaker").tolist() == [4, 7]
    assert load(path, dt_ms=1.0).info["extra_keys"] == ["speaker"]
    with pytest.raises(ModelFileError, match=r"s\.h5: no dataset extra/age"):
        read_extra(path, "age")


@pytest.mark.parametrize("split, n, per_class", [("train", 220, 11), ("test", 60, 3)])
def test_spoken_digits_files_load(split, n, per_class):
    path = DATA / f"spoken_digits_{split}.h5"
    ds = load_dataset(f"shd:{path}", dt_ms=1.0)
    assert (len(ds), ds.n_channels, ds.n_classes) == (n, 70, 20)
    assert ds.info["class_counts"] == [per_class] * 20
    assert ds.name == f"shd:{path}"
    assert not ds.spikes.problems()
    with h5py.File(path) as f:
        raw = sum(len(t) for t in f["spikes/times"])
        assert ds.info["events_read"] == raw
        assert ds.spikes.n_events == raw - ds.info["merged_events"]
        latest = max(float(t.max()) for t in f["spikes/times"] if len(t))
        assert ds.n_steps == int(np.floor(latest * 1000.0)) + 1
        for b in (0, n // 2, n - 1):
            assert _events(ds, b) == _reference_events(
                f["spikes/times"][b], f["spikes/units"][b], 1.0
            )


def test_spoken_digits_at_coarse_dt_merges_spikes():
    ds = load(DATA / "spoken_digits_test.h5", dt_ms=10.0, t_max_ms=1000.0)
    assert ds.n_steps == 100
    assert ds.info["merged_events"] > 0
    assert (
        ds.spikes.n_events
        == ds.info["events_read"] - ds.info["merged_events"] - ds.info["dropped_events"]
    )


# ----- bad input: one line naming the file, the field and the allowed range -----


def _bad(tmp_path, **kwargs):
    base = dict(times=[[0.0, 0.001], [0.002]], units=[[0, 1], [2]], labels=[0, 1], channels=4)
    base.update(kwargs)
    return write_shd(
        tmp_path / "bad.h5", base.pop("times"), base.pop("units"), base.pop("labels"), **base
    )


@pytest.mark.parametrize(
    "kwargs, load_kwargs, pattern",
    [
        (
            dict(units=[[0, 4], [2]]),
            {},
            r"bad\.h5: spikes/units\[0\] must be in \[0, 3\] \(channels=4, file attribute\), got 4",
        ),
        (
            dict(units=[[0, 1], [700]], channels=None),
            {},
            r"bad\.h5: spikes/units\[1\] must be in \[0, 699\] "
            r"\(channels=700, SHD default\), got 700",
        ),
        (
            dict(units=[[0, -1], [2]], units_dtype=np.int16),
            {},
            r"bad\.h5: spikes/units\[0\] must be in \[0, 3\].*got -1",
        ),
        (
            dict(times=[[0.0, 0.001], [-0.002]]),
            {},
            r"bad\.h5: spikes/times\[1\] must be finite and >= 0 s, got -0\.002",
        ),
        (
            dict(times=[[0.0, np.nan], [0.002]]),
            {},
            r"bad\.h5: spikes/times\[0\] must be finite and >= 0 s, got nan",
        ),
        (
            dict(times=[[0.0, 0.001], [np.inf]]),
            {},
            r"bad\.h5: spikes/times\[1\] must be finite and >= 0 s, got inf",
        ),
        (
            dict(labels=[0, 5]),
            dict(n_classes=3),
            r"bad\.h5: labels\[1\] must be in \[0, 2\] \(n_classes=3\), got 5",
        ),
        (
            dict(labels=[-1, 0], labels_dtype=np.int16),
            {},
            r"bad\.h5: labels\[0\] must be a class index >= 0, got -1",
        ),
        (
            dict(labels=[0.0, 1.0], labels_dtype=np.float32),
            {},
            r"bad\.h5: labels must be integers, got dtype float32",
        ),
        (
            dict(units=[[0], [2]]),
            {},
            r"bad\.h5: spikes/units\[0\] has 1 entries but spikes/times\[0\] has 2",
        ),
        (dict(labels=[0, 1, 1]), {}, r"bad\.h5: labels has 3 entries but spikes/times has 2"),
        (
            dict(units=[[0, 1], [2.0]], units_dtype=np.float32),
            {},
            r"bad\.h5: spikes/units must hold integers, got dtype float32",
        ),
        (
            dict(times=[[0, 1], [2]], times_dtype=np.int32),
            {},
            r"bad\.h5: spikes/times must hold floating-point seconds",
        ),
        (
            dict(channels=0),
            {},
            r"bad\.h5: attribute channels must be one integer in \[1, 2147483647\], got",
        ),
    ],
)
def test_bad_file_content_names_file_field_and_range(tmp_path, kwargs, load_kwargs, pattern):
    path = _bad(tmp_path, **kwargs)
    with pytest.raises(ModelFileError, match=pattern) as err:
        load_dataset(f"shd:{path}", dt_ms=1.0, **load_kwargs)
    assert "\n" not in str(err.value)


def test_bad_sample_is_found_in_a_later_chunk(tmp_path):
    times = [[0.001]] * 9 + [[0.001, 0.002]]
    units = [[0]] * 9 + [[0, 9]]
    path = write_shd(tmp_path / "late.h5", times, units, [0] * 10, channels=5)
    with pytest.raises(
        ModelFileError, match=r"late\.h5: spikes/units\[9\] must be in \[0, 4\].*got 9"
    ):
        load(path, dt_ms=1.0, chunk_size=4)


@pytest.mark.parametrize("missing", ["spikes/times", "spikes/units", "labels"])
def test_missing_field_is_named(tmp_path, missing):
    path = _bad(tmp_path)
    with h5py.File(path, "a") as f:
        del f[missing]
    with pytest.raises(
        ModelFileError, match=rf"bad\.h5: missing dataset {missing} \(the SHD layout needs"
    ):
        load(path, dt_ms=1.0)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"shd:.*nope\.h5.*no such file"):
        load_dataset(f"shd:{tmp_path / 'nope.h5'}", dt_ms=1.0)


def test_non_hdf5_file_is_a_model_file_error(tmp_path):
    path = tmp_path / "text.h5"
    path.write_text("not hdf5")
    with pytest.raises(ModelFileError, match=r"text\.h5: not a readable HDF5 file"):
        load(path, dt_ms=1.0)


@pytest.mark.parametrize(
    "option, value", [("chunk_size", 0), ("n_classes", 0), ("max_samples", -1)]
)
def test_bad_options_are_config_errors(tmp_path, option, value):
    path = _bad(tmp_path)
    with pytest.raises(
        ConfigError, match=rf"shd:.*bad\.h5: {option} must be an integer >= 1, got {value}"
    ):
        load(path, dt_ms=1.0, **{option: value})


def test_huge_step_and_channel_ranges_still_bin_and_merge(tmp_path):
    # 2e9 steps x 2**31 - 1 channels overflow the one-key sort, so the per-sample path runs.
    times = [[0.0, 0.0, 2e6], [0.002]]
    units = [[3, 3, 2**31 - 2], [0]]
    path = write_shd(
        tmp_path / "huge.h5", times, units, [0, 1], channels=2**31 - 1, units_dtype=np.uint32
    )
    ds = load(path, dt_ms=1.0)
    assert _events(ds, 0) == [(0, 3), (2_000_000_000, 2**31 - 2)]
    assert _events(ds, 1) == [(2, 0)]
    assert ds.info["merged_events"] == 1 and ds.n_steps == 2_000_000_001


def test_steps_beyond_int32_fail_with_a_hint(tmp_path):
    path = write_shd(tmp_path / "long.h5", [[0.0, 1e10]], [[0, 1]], [0], channels=2)
    with pytest.raises(
        ModelFileError,
        match=r"long\.h5: spikes/times reach .* steps must be < 2147483647; pass t_max_ms",
    ):
        load(path, dt_ms=0.001)
    assert load(path, dt_ms=0.001, t_max_ms=1.0).info["dropped_events"] == 1
