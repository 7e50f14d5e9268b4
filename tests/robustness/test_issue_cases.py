"""Every case of issue 11, rerun: one error line naming the file or option, the field and the
allowed range or the reason, exit code 1, within seconds, and nothing written."""

from __future__ import annotations

import json
import os
import shutil
import stat

import h5py
import numpy as np
import pytest

from neurodeploy.files import read_network, write_network
from neurodeploy.network import Population
from tests.conftest import loihi2_network
from tests.data.shd_files import write_shd
from tests.robustness.harness import (
    assert_refused,
    copy,
    copy_tree,
    delete_attr,
    fill_dataset,
    flip_bit,
    replace_attr,
    run_cli,
    snapshot,
)


def _refused(argv, where, *words, lines=1):
    """Run ``argv``; assert the refusal and that ``where`` is exactly as it was."""
    before = snapshot(where)
    message = assert_refused(run_cli(argv), *words, lines=lines)
    assert snapshot(where) == before
    return message


# ------------------------------------------------------------------------------------- hangs


@pytest.mark.parametrize(
    ("attrs", "labels", "words"),
    [
        ({"n_classes": 10**9}, None, ["n_classes must be in [1, 65536]", "1000000000"]),
        ({}, [0, 1, 10**9], ["labels must be in [0, 65535]", "1000000000"]),
    ],
)
def test_huge_labels_or_n_classes_fail_at_once(inputs, work, attrs, labels, words):
    rng = np.random.default_rng(1)
    n = 3 if labels else 6
    path = write_shd(
        work / "big.h5",
        [np.sort(rng.uniform(0, 0.01, 3)) for _ in range(n)],
        [rng.integers(0, 4, 3) for _ in range(n)],
        labels or [0] * n,
        channels=4,
        labels_dtype=np.int64,
    )
    with h5py.File(path, "a") as f:
        f.attrs.update(attrs)
    _refused(["evaluate", inputs.model, "--data", f"shd:{path}"], work, "big.h5", *words)
    config = work / "c.toml"
    config.write_text(f'[data]\ntrain = "shd:{path}"\ndt_ms = 1.0\n')
    _refused(["train", config, "--out", work / "run", "--quiet"], work, "big.h5", *words)


def test_an_absurd_delay_is_refused_on_load(inputs, work):
    path = copy(inputs.model, work, "m.h5")
    fill_dataset(path, "projections/0/delays", 1e9, restamp=True)
    for command in (["inspect", path], ["evaluate", path, "--data", "yinyang:test"]):
        _refused(command, work, "m.h5", "projections/0", "delays must be <= 65535")


# -------------------------------------------------------------------- one line, not a trace


def test_bytes_flipped_in_the_header_region_are_one_line(inputs, work):
    for position in (0, 8, 40, 96, 200, 300, 400, 511):
        path = copy(inputs.model, work, f"m{position}.h5")
        flip_bit(path, position, 3)
        result = run_cli(["inspect", path])
        if result.code == 0:  # a byte HDF5 does not use: the content is intact
            assert read_network(path) == read_network(inputs.model)
        else:
            assert_refused(result, f"m{position}.h5")


def test_a_config_that_is_not_utf8(work):
    config = work / "c.toml"
    config.write_bytes(b"[train]\nlr = 0.1 \xff\xfe\n")
    _refused(["train", config, "--out", work / "run"], work, "c.toml", "not a UTF-8 text file")


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("model.tau_mem_ms=nan", ["model.tau_mem_ms: must be a finite number"]),
        ("train.seed=-1", ["train.seed: must be >= 0"]),
        ("model.max_delay_steps=100000000", ["model.max_delay_steps: must be <= 65535"]),
        ("train.lr=nan", ["train.lr: must be a finite number"]),
        ("train.lr=inf", ["train.lr: must be a finite number"]),
        ("model.threshold=nan", ["model.threshold: must be a finite number"]),
        ("loss.logit_scale=inf", ["loss.logit_scale: must be a finite number"]),
        ("train.lr_decay=nan", ["train.lr_decay: must be a finite number"]),
        ("train.lr=0", ["train.lr: must be > 0"]),
        ("loss.logit_scale=-1", ["loss.logit_scale: must be > 0"]),
        ("train.beta1=5", ["train.beta1: must be in [0, 1)"]),
        ("train.weight_noise=nan", ["train.weight_noise: must be a finite number"]),
        ("model.decay_resolution=1", ["model.decay_resolution: must be 0"]),
        ("data.max_train_samples=-5", ["data.max_train_samples: must be >= 0"]),
    ],
)
def test_bad_config_values_fail_before_any_work(inputs, work, override, words):
    _refused(
        ["train", inputs.config, "--set", override, "--out", work / "run", "--quiet"],
        work,
        "small.toml",
        *words,
    )


def test_output_paths_are_checked_before_any_work(inputs, work):
    afile = work / "file"
    afile.write_text("x")
    train = ["train", inputs.config, "--quiet", "--out"]
    _refused([*train, afile], work, "--out", "is not a directory")
    _refused([*train, afile / "run"], work, "--out", "not a directory")
    quantize = ["quantize", inputs.model, "--target", "loihi2", "--out"]
    _refused([*quantize, work], work, "--out", "is a directory")
    _refused([*quantize, afile / "hw.h5"], work, "--out", "not a directory")
    (work / "hw.quantization.json").mkdir()
    _refused([*quantize, work / "hw.h5"], work, "hw.quantization.json", "is a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_output_directory_is_refused_before_training(inputs, work):
    locked = work / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        _refused(["train", inputs.config, "--quiet", "--out", locked / "run"], work, "not writable")
        _refused(
            ["quantize", inputs.model, "--target", "loihi2", "--out", locked / "hw.h5"],
            work,
            "not writable",
        )
    finally:
        locked.chmod(0o755)


def test_a_checkpoint_whose_stored_config_is_not_json(inputs, work):
    run = copy_tree(inputs.run, work / "run")
    replace_attr(run / "checkpoints" / "epoch_0002.h5", "/", "config", "{not json", restamp=True)
    _refused(["train", inputs.config, "--out", run, "--quiet"], work, "config: not valid JSON")
    replace_attr(run / "checkpoints" / "epoch_0002.h5", "/", "config", "[1, 2]", restamp=True)
    _refused(["train", inputs.config, "--out", run, "--quiet"], work, "config: must be a JSON")


# ------------------------------------------------------------------ resuming a run directory


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("train.seed=7", "train.seed (stored 0, now 7)"),
        ("data.options={size = 48}", "data.options"),
        ("train.lr=0.01", "train.lr"),
        ("model.hidden=[9]", "model.hidden"),
    ],
)
def test_a_finished_run_resumes_only_with_its_configuration(inputs, work, override, field):
    run = copy_tree(inputs.run, work / "run")
    message = _refused(
        ["train", inputs.config, "--out", run, "--set", override, "--quiet"], work, field
    )
    assert "new --out directory" in message and "--restart" in message


def test_other_data_under_the_same_config_is_refused(inputs, work):
    """An SHD file that changed between runs: same config text, another fingerprint."""
    rng = np.random.default_rng(2)

    def shd(seed):
        rng = np.random.default_rng(seed)
        times = [np.sort(rng.uniform(0, 0.02, 5)) for _ in range(16)]
        units = [rng.integers(0, 4, 5) for _ in range(16)]
        return write_shd(work / "data.h5", times, units, np.arange(16) % 3, channels=4)

    shd(0)
    config = work / "c.toml"
    config.write_text(
        f'[data]\ntrain = "shd:{work / "data.h5"}"\ndt_ms = 1.0\n[model]\nhidden = [4]\n'
        "[train]\nepochs = 1\nbatch_size = 8\n"
    )
    assert run_cli(["train", config, "--out", work / "run", "--quiet"]).code == 0
    shd(int(rng.integers(1, 100)))
    _refused(["train", config, "--out", work / "run", "--quiet"], work, "other data")


def test_restart_starts_over_and_resuming_says_so(inputs, work):
    run = copy_tree(inputs.run, work / "run")
    (run / "checkpoints" / "epoch_0002.h5").unlink()
    result = run_cli(["train", inputs.config, "--out", run])
    assert result.code == 0, result.err
    assert f"resuming {run} from epoch 1 of 2" in result.err
    result = run_cli(["train", inputs.config, "--out", run, "--set", "train.seed=3", "--restart"])
    assert result.code == 0, result.err
    assert "resuming" not in result.err
    assert read_network(run / "model.h5").metadata["seed"] == 3


def test_a_diverging_run_stops_at_that_batch_and_keeps_the_last_good_checkpoint(inputs, tmp_path):
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.loop import TrainingDiverged, train

    calls = []

    def poison(weights, delays):  # the parameters become NaN in epoch 2's first batch
        calls.append(1)
        if len(calls) == 6:  # epoch 1: 4 batches + the test evaluation
            weights[0][...] = np.nan  # the trainer's own array, as a diverging update would
        return weights, delays

    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as err:
        train(load_config(inputs.config), run, progress=False, transform=poison)
    message = str(err.value)
    assert (
        "\n" not in message and "epoch 2, batch 1/4: projections/0/weights is not finite" in message
    )
    assert "epoch_0001.h5 (epoch 1) is kept" in message and "train.lr" in message
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_0001.h5"]
    assert not (run / "model.h5").exists()


def test_a_huge_learning_rate_stops_in_the_first_batch(inputs, work):
    message = assert_refused(
        run_cli(
            ["train", inputs.config, "--set", "train.lr=1e300", "--out", work / "r", "--quiet"]
        ),
        "epoch 1, batch",
        "not finite",
        "no checkpoint was written",
    )
    assert "train.lr" in message
    assert not (work / "r" / "model.h5").exists()
    assert not list((work / "r").glob("checkpoints/*.h5"))


# ---------------------------------------------------------------- accepted, silently wrong


def test_evaluate_refuses_labels_beyond_the_model_and_empty_data(inputs, work):
    rng = np.random.default_rng(3)
    path = write_shd(
        work / "five.h5",
        [np.sort(rng.uniform(0, 0.01, 3)) for _ in range(5)],
        [rng.integers(0, 4, 3) for _ in range(5)],
        np.arange(5),
        channels=4,
    )
    _refused(
        ["evaluate", inputs.model, "--data", f"shd:{path}"],
        work,
        "labels must be in [0, 2]",
        "0..4",
    )
    empty = write_shd(work / "empty.h5", [], [], [], channels=4)
    _refused(["evaluate", inputs.model, "--data", f"shd:{empty}"], work, "no samples")


def _edited(src, work, name, edit):
    path = copy(src, work, name)
    with h5py.File(path, "r+") as f:
        edit(f)
        from neurodeploy.files import content_digest

        f.attrs["digest"] = content_digest(f)  # a consistent edit: the validators must catch it
    return path


@pytest.mark.parametrize(
    ("name", "edit", "words"),
    [
        (
            "zero_threshold",
            lambda f: f["populations/hidden"].attrs.__setitem__("threshold", 0.0),
            ["populations/hidden/threshold must be > 0"],
        ),
        (
            "negative_threshold",
            lambda f: f["populations/hidden"].attrs.__setitem__("threshold", -1.0),
            ["populations/hidden/threshold must be > 0"],
        ),
        (
            "duplicate_index",
            lambda f: f["populations/output"].attrs.__setitem__("index", 0),
            ["populations/*/index must number the populations"],
        ),
        (
            "deleted_projection",
            lambda f: f["projections"].__delitem__("0"),
            ["projections: groups must be named 0..0"],
        ),
        (
            "deleted_last_projection",
            lambda f: f["projections"].__delitem__("1"),
            ["populations/output: receives no projection"],
        ),
        (
            "huge_weight",
            lambda f: f["projections/1/weights"].__setitem__((0, 0), 1e300),
            ["weights must be at most 1e+12 in magnitude", "1e+300"],
        ),
        (
            "negative_size",
            lambda f: f["populations/hidden"].attrs.__setitem__("size", -200),
            ["populations/hidden/size must be an integer in [1, 10000000], got -200"],
        ),
        (
            "unknown_profile",
            lambda f: f.attrs.__setitem__("profile", "truenorth"),
            ["profile must be one of loihi2, spinnaker2", "truenorth"],
        ),
        (
            "string_version",
            lambda f: f.attrs.__setitem__("format_version", "1"),
            ["format_version must be an integer", "got '1'"],
        ),
    ],
)
def test_float_model_files_that_used_to_load(inputs, work, name, edit, words):
    path = _edited(inputs.model, work, f"{name}.h5", edit)
    _refused(["inspect", path], work, f"{name}.h5", *words)


def test_a_flipped_bit_in_an_uncompressed_dataset_is_found(inputs, work):
    path = copy(inputs.model, work, "m.h5")
    with h5py.File(path, "r") as f:
        offset = f["populations/hidden/bias"].id.get_offset()
    assert offset is not None  # contiguous, uncompressed
    flip_bit(path, offset + 3, 0)
    _refused(["inspect", path], work, "m.h5", "digest", "damaged or edited")


def test_hardware_model_files_that_used_to_load(inputs, work):
    off_grid = loihi2_network()
    proj = off_grid.projections[0]
    from dataclasses import replace

    bits = replace(proj, hw_params={**proj.hw_params, "num_weight_bits": 4})
    path = write_network(
        replace(off_grid, projections=(bits, *off_grid.projections[1:])), work / "grid.h5"
    )
    for command in (["inspect", path], ["verify", path, "--against", "emulator"]):
        _refused(
            command,
            work,
            "grid.h5",
            "projections/0 (input->hidden)/weights must be multiples of 16",
        )
    erased = _edited(inputs.hw, work, "erased.h5", lambda f: f.attrs.__setitem__("profile", ""))
    _refused(["inspect", erased], work, "erased.h5", "profile is empty", "has hw_params")
    _refused(
        ["quantize", erased, "--target", "loihi2", "--out", work / "q.h5"],
        work,
        "profile is empty",
    )


# ------------------------------------------------------------------------ misleading messages


def test_a_missing_shd_file_is_named_before_the_options(work):
    config = work / "c.toml"
    config.write_text('[data]\ntrain = "shd:/nonexistent/train.h5"\noptions = { bias = true }\n')
    _refused(["train", config, "--out", work / "run"], work, "/nonexistent/train.h5: no such file")


def test_a_negative_label_names_the_sign_not_a_range(inputs, work):
    path = write_shd(work / "neg.h5", [[0.001]], [[0]], [-1], channels=4, labels_dtype=np.int16)
    _refused(
        ["evaluate", inputs.model, "--data", f"shd:{path}"],
        work,
        "labels[0] must be a class index >= 0, got -1",
    )


def test_verify_of_a_float_model_names_the_file(inputs, work):
    copy(inputs.model, work, "m.h5")
    _refused(["verify", work / "m.h5", "--against", "emulator"], work, "m.h5", "float model")


# ------------------------------------------------------------------------------------ files


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = write_network(loihi2_network(), tmp_path / "m.h5")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]


def test_atomic_writes_fsync_the_file_and_then_its_directory(tmp_path, monkeypatch):
    import neurodeploy.files as files

    synced = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        synced.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        return real_fsync(fd)

    def replace(src, dst):
        synced.append(("rename", None))
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    write_network(loihi2_network(), tmp_path / "m.h5")
    assert synced == [("fsync", False), ("rename", None), ("fsync", True)]


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    from neurodeploy.errors import NetworkError

    bad = loihi2_network(populations=(Population(name="input", size=3, kind="input"),))
    with pytest.raises(NetworkError):
        write_network(bad, tmp_path / "m.h5")
    (tmp_path / "m.h5").mkdir()
    with pytest.raises(Exception, match="is a directory"):
        write_network(loihi2_network(), tmp_path / "m.h5")
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]


def test_files_of_earlier_versions_still_load(inputs, tmp_path):
    path = shutil.copy(inputs.hw, tmp_path / "v2.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 2
        del f.attrs["digest"]
    assert read_network(path) == read_network(inputs.hw)
    delete_attr(path, "/", "format_version")
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 3
    with pytest.raises(Exception, match="digest: field is missing"):
        read_network(path)
    assert json.loads(json.dumps({"ok": True}))
