"""Checkpoints: written and read through neurodeploy.files, format and version checked, old ones
(format_version 1, as written before the trainer was split) still resume."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from neurodeploy.errors import ConfigError, ModelFileError
from neurodeploy.files import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_FORMAT_VERSION,
    content_digest,
    read_checkpoint,
    write_checkpoint,
)
from neurodeploy.trainer.checkpoints import (
    checkpoint_path,
    last_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from neurodeploy.trainer.config import config_to_dict, load_config
from neurodeploy.trainer.loop import train
from neurodeploy.trainer.optim import Adam
from neurodeploy.trainer.state import Trainer


def _state(overrides=(), seed=0):
    cfg = load_config(None, ["model.hidden=[5]", "model.recurrent=true", *overrides])
    tr = Trainer.initial(cfg, 4, 3)
    rng = np.random.default_rng(seed)
    adam_w = Adam([w.shape for w in tr.weights])
    adam_d = Adam([d.shape for d in tr.delays])
    for adam in (adam_w, adam_d):
        adam.t = int(rng.integers(1, 100))
        adam.m = [rng.normal(size=s) for s in adam.shapes]
        adam.v = [rng.uniform(size=s) for s in adam.shapes]
    return cfg, tr, adam_w, adam_d


def _one_line_naming(err, path, *words):
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    for word in words:
        assert word in message, message


def test_write_and_read_round_trip(tmp_path):
    path = tmp_path / "c.h5"
    arrays = {"a/0/w": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2], dtype=np.int64)}
    write_checkpoint(path, {"epoch": 3, "config": "{}"}, arrays)
    attrs, got = read_checkpoint(path)
    assert attrs == {"epoch": 3, "config": "{}"}
    assert got.keys() == arrays.keys()
    for key, value in arrays.items():
        np.testing.assert_array_equal(got[key], value)
        assert got[key].dtype == value.dtype
    with pytest.raises(ValueError, match="reserved"):
        write_checkpoint(path, {"format_version": 9}, {})


def _h5(path, **attrs):
    with h5py.File(path, "w") as f:
        f.attrs.update(attrs)
    return path


@pytest.mark.parametrize(
    ("attrs", "words"),
    [
        ({}, ["format must be 'neurodeploy-checkpoint'", "got ''"]),
        (
            {"format": "neurodeploy-network", "format_version": 1},
            ["format must be 'neurodeploy-checkpoint'", "'neurodeploy-network'"],
        ),
        ({"format": CHECKPOINT_FORMAT}, ["format_version: field is missing"]),
        (
            {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION + 1},
            [
                f"format_version {CHECKPOINT_FORMAT_VERSION + 1} is newer",
                f"format_version {CHECKPOINT_FORMAT_VERSION}",
            ],
        ),
        (
            {"format": CHECKPOINT_FORMAT, "format_version": "1"},
            ["format_version '1' is not supported", "format_version 1"],
        ),
    ],
)
def test_wrong_format_or_version_is_one_line_naming_the_file(tmp_path, attrs, words):
    path = _h5(tmp_path / "epoch_0001.h5", **attrs)
    with pytest.raises(ModelFileError) as err:
        read_checkpoint(path)
    _one_line_naming(err, path, *words)


def test_missing_or_non_hdf5_file_is_one_line(tmp_path):
    with pytest.raises(ModelFileError) as err:
        read_checkpoint(tmp_path / "none.h5")
    _one_line_naming(err, tmp_path / "none.h5", "no such file")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(ModelFileError) as err:
        read_checkpoint(bad)
    _one_line_naming(err, bad, "not a readable HDF5 file")


def test_trainer_state_round_trips(tmp_path):
    _cfg, tr, adam_w, adam_d = _state()
    path = checkpoint_path(tmp_path, 7)
    save_checkpoint(path, 7, tr, adam_w, adam_d)
    assert last_checkpoint(tmp_path) == (7, path)
    _, fresh, fresh_w, fresh_d = _state(seed=1)
    for w in fresh.weights:
        w += 1.0
    assert load_checkpoint(path, fresh, fresh_w, fresh_d) == 7
    for a, b in zip(tr.weights + tr.delays, fresh.weights + fresh.delays, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in ((adam_w, fresh_w), (adam_d, fresh_d)):
        assert a.t == b.t
        for x, y in zip(a.m + a.v, b.m + b.v, strict=True):
            np.testing.assert_array_equal(x, y)


def _write_version_1(path, epoch, tr, adam_w, adam_d):
    """A checkpoint exactly as trainer/loop.py wrote it before the split (format_version 1)."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "neurodeploy-checkpoint"
        f.attrs["format_version"] = 1
        f.attrs["epoch"] = epoch
        f.attrs["config"] = json.dumps(config_to_dict(tr.config), sort_keys=True)
        f.attrs["adam_w_t"] = adam_w.t
        f.attrs["adam_d_t"] = adam_d.t
        for q in range(len(tr.weights)):
            g = f.create_group(f"projections/{q}")
            g["weights"] = tr.weights[q]
            g["delays"] = tr.delays[q]
            g["adam_w_m"] = adam_w.m[q]
            g["adam_w_v"] = adam_w.v[q]
            g["adam_d_m"] = adam_d.m[q]
            g["adam_d_v"] = adam_d.v[q]


def test_version_1_checkpoints_still_load_and_are_written_alike(tmp_path):
    _cfg, tr, adam_w, adam_d = _state()
    old, new = tmp_path / "old.h5", tmp_path / "new.h5"
    _write_version_1(old, 4, tr, adam_w, adam_d)
    save_checkpoint(new, 4, tr, adam_w, adam_d)
    assert read_checkpoint(old)[0] == read_checkpoint(new)[0]
    old_arrays, new_arrays = read_checkpoint(old)[1], read_checkpoint(new)[1]
    assert old_arrays.keys() == new_arrays.keys()
    for key in old_arrays:
        np.testing.assert_array_equal(old_arrays[key], new_arrays[key])
    _, fresh, fresh_w, fresh_d = _state(seed=1)
    assert load_checkpoint(old, fresh, fresh_w, fresh_d) == 4
    np.testing.assert_array_equal(fresh.weights[1], tr.weights[1])
    assert (fresh_w.t, fresh_d.t) == (adam_w.t, adam_d.t)


def test_checkpoint_of_another_model_or_missing_field_is_refused(tmp_path):
    _cfg, tr, adam_w, adam_d = _state()
    path = tmp_path / "c.h5"
    save_checkpoint(path, 1, tr, adam_w, adam_d)
    _, other, other_w, other_d = _state(["model.hidden=[6]"])
    with pytest.raises(ConfigError) as err:
        load_checkpoint(path, other, other_w, other_d)
    _one_line_naming(err, path, "model.hidden", "new --out directory", "--restart")
    with h5py.File(path, "a") as f:
        del f["projections/1/adam_d_v"]
    _, fresh, fresh_w, fresh_d = _state()
    with pytest.raises(ModelFileError) as err:
        load_checkpoint(path, fresh, fresh_w, fresh_d)
    _one_line_naming(err, path, "digest", "damaged or edited")
    with h5py.File(path, "a") as f:  # an edit that also rewrites the digest
        f.attrs["digest"] = content_digest(f)
    with pytest.raises(ModelFileError) as err:
        load_checkpoint(path, fresh, fresh_w, fresh_d)
    _one_line_naming(err, path, "projections/1/adam_d_v: field is missing")


def test_resuming_from_a_newer_checkpoint_fails_before_training(tmp_path):
    run = tmp_path / "run"
    path = checkpoint_path(run, 1)
    path.parent.mkdir(parents=True)
    _h5(path, format=CHECKPOINT_FORMAT, format_version=CHECKPOINT_FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError) as err:
        train(
            load_config(None, ["data.options={size = 16}", "data.dt_ms=1.0"]), run, progress=False
        )
    _one_line_naming(err, path, "format_version", "newer")
    assert not (run / "metrics.jsonl").exists()
