"""Hypothesis-driven mutations of model files, checkpoints, SHD-layout files and configs, run
through the commands: a refusal is exit code 1, ``error:`` lines only, no traceback, within the
time bound, and no file changed or created. A mutation that leaves the content intact (a byte
HDF5 does not use) may succeed, and then must give back exactly the original.

Fast by default (a few dozen examples each); ``-m slow`` runs the same properties with many more.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurodeploy.errors import NeurodeployError
from neurodeploy.files import read_network
from tests.robustness.harness import (
    EXTREMES,
    assert_refused,
    copy,
    delete_attr,
    fill_dataset,
    flip_bit,
    h5_objects,
    replace_attr,
    replace_dataset,
    run_cli,
    snapshot,
    truncate,
)

FAST = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=300, derandomize=False)


def _mutations(path: Path) -> st.SearchStrategy:
    """A mutation of the HDF5 file at ``path``: ``fn(copy)`` applied to a copy."""
    datasets, attrs = h5_objects(path)
    size = path.stat().st_size
    # ``restamp`` also rewrites the digest (a consistent edit), so the validators must catch
    # what is wrong; such an edit may also give a valid model. The mutation is
    # ``(name, fn, restamped)``.
    restamp = st.booleans()
    return st.one_of(
        st.tuples(st.integers(0, size - 1), st.integers(0, 7)).map(
            lambda a: ("flip", lambda p: flip_bit(p, *a), False)
        ),
        st.integers(0, size - 1).map(lambda n: ("truncate", lambda p: truncate(p, n), False)),
        st.tuples(st.sampled_from(attrs), restamp).map(
            lambda a: ("delete attr", lambda p: delete_attr(p, *a[0], restamp=a[1]), a[1])
        ),
        st.tuples(st.sampled_from(attrs), st.sampled_from(EXTREMES), restamp).map(
            lambda a: (
                "retype attr",
                lambda p: replace_attr(p, *a[0], a[1], restamp=a[2]),
                a[2],
            )
        ),
        st.tuples(st.sampled_from(datasets), restamp).map(
            lambda a: (
                "delete dataset",
                lambda p: replace_dataset(p, a[0], None, restamp=a[1]),
                a[1],
            )
        ),
        st.tuples(st.sampled_from(datasets), st.sampled_from(EXTREMES), restamp).map(
            lambda a: (
                "extreme values",
                lambda p: fill_dataset(p, a[0], a[1], restamp=a[2]),
                a[2],
            )
        ),
        st.tuples(st.sampled_from(datasets), st.sampled_from(EXTREMES), restamp).map(
            lambda a: (
                "retype dataset",
                lambda p: replace_dataset(p, a[0], a[1], restamp=a[2]),
                a[2],
            )
        ),
    )


def _mutated(src: Path, mutation) -> tuple[Path, Path]:
    work = Path(tempfile.mkdtemp(prefix="mut-"))
    path = copy(src, work)
    mutation[1](path)
    return work, path


def _check(argv_of, src: Path, mutation, original) -> None:
    """Run the command on a mutated copy: refused as promised, or intact content."""
    work, path = _mutated(src, mutation)
    try:
        before = snapshot(work)
        result = run_cli(argv_of(path))
        if result.code == 0:
            # Intact content, or a consistent edit into another valid model.
            assert mutation[2] or original(path), (mutation[0], result.out)
        else:
            assert_refused(result, lines=None)
        assert snapshot(work) == before, mutation[0]
    finally:
        shutil.rmtree(work)


def _same_model(reference: Path):
    def same(path: Path) -> bool:
        return read_network(path) == read_network(reference)

    return same


# --------------------------------------------------------------------------- model files


def _model_property(inputs, data):
    src = data.draw(st.sampled_from([inputs.model, inputs.hw]), label="model")
    mutation = data.draw(_mutations(src), label="mutation")
    _check(lambda p: ["inspect", p], src, mutation, _same_model(src))


@FAST
@given(data=st.data())
def test_mutated_model_files(inputs, data):
    _model_property(inputs, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_mutated_model_files_long(inputs, data):
    _model_property(inputs, data)


def _evaluate_property(inputs, data):
    mutation = data.draw(_mutations(inputs.model), label="mutation")
    argv = lambda p: ["evaluate", p, "--data", "yinyang:test", "--samples", "8"]  # noqa: E731
    _check(argv, inputs.model, mutation, _same_model(inputs.model))


@FAST
@given(data=st.data())
def test_mutated_model_files_through_evaluate(inputs, data):
    _evaluate_property(inputs, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_mutated_model_files_through_evaluate_long(inputs, data):
    _evaluate_property(inputs, data)


# ----------------------------------------------------------------------------- checkpoints


def _checkpoint_property(inputs, data):
    mutation = data.draw(_mutations(inputs.checkpoint), label="mutation")
    work = Path(tempfile.mkdtemp(prefix="ckpt-"))
    try:
        run = work / "run"
        shutil.copytree(inputs.run, run)
        mutation[1](run / "checkpoints" / inputs.checkpoint.name)
        before = snapshot(work)
        result = run_cli(["train", inputs.config, "--out", run, "--quiet"])
        if result.code == 0 and not mutation[2]:  # the checkpoint holds what was written
            from neurodeploy.files import read_checkpoint

            got = read_checkpoint(run / "checkpoints" / inputs.checkpoint.name)
            want = read_checkpoint(inputs.checkpoint)
            assert got[0] == want[0] and got[1].keys() == want[1].keys()
            assert all(np.array_equal(got[1][k], want[1][k]) for k in want[1]), mutation[0]
        elif result.code != 0:
            assert_refused(result, lines=None)
            assert snapshot(work) == before, mutation[0]
    finally:
        shutil.rmtree(work)


@FAST
@given(data=st.data())
def test_mutated_checkpoints(inputs, data):
    _checkpoint_property(inputs, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_mutated_checkpoints_long(inputs, data):
    _checkpoint_property(inputs, data)


# ------------------------------------------------------------------------ SHD-layout files


def _shd_property(inputs, data):
    """SHD files carry no checksum (the format is not ours): a mutation may give other valid
    samples and succeed; what it may never do is crash, hang or write anything."""
    mutation = data.draw(_mutations(inputs.shd), label="mutation")
    work, path = _mutated(inputs.shd, mutation)
    try:
        before = snapshot(work)
        result = run_cli(["evaluate", inputs.model, "--data", f"shd:{path}"])
        if result.code != 0:
            assert_refused(result, lines=None)
        assert "Traceback" not in result.err
        assert snapshot(work) == before, mutation[0]
    finally:
        shutil.rmtree(work)


@FAST
@given(data=st.data())
def test_mutated_shd_files(inputs, data):
    _shd_property(inputs, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_mutated_shd_files_long(inputs, data):
    _shd_property(inputs, data)


# --------------------------------------------------------------------------------- configs

_TOML_EXTREMES = [
    "nan",
    "inf",
    "-inf",
    "1e300",
    "-1e300",
    "-1",
    "0",
    "100000000000",
    "-100000000000",
    '"x"',
    "true",
    "[]",
    "[-1]",
    "[1e300]",
    "{}",
    '"shd:/nonexistent.h5"',
    '"yinyang:nope"',
]


def _fields():
    from dataclasses import fields

    from neurodeploy.trainer.config import _SECTIONS

    return [f"{s}.{f.name}" for s, cls in _SECTIONS.items() for f in fields(cls)]


def _config_property(inputs, data):
    """An override with an extreme value, or a mutated config text, goes through validation:
    a NeurodeployError or a valid config; when refused, ``train`` refuses it too, with nothing
    written."""
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.data import load_data

    work = Path(tempfile.mkdtemp(prefix="cfg-"))
    try:
        config = work / "c.toml"
        text = inputs.config.read_bytes()
        if data.draw(st.booleans(), label="mutate text"):
            position = data.draw(st.integers(0, len(text) - 1), label="position")
            value = data.draw(st.integers(0, 255), label="byte")
            text = text[:position] + bytes([value]) + text[position + 1 :]
            overrides = []
        else:
            key = data.draw(st.sampled_from(_fields()), label="field")
            value = data.draw(st.sampled_from(_TOML_EXTREMES), label="value")
            overrides = [f"{key}={value}"]
        config.write_bytes(text)
        try:
            cfg = load_config(config, overrides)
            if cfg.model.hidden and sum(cfg.model.hidden) > 1000:
                return  # valid, only large: not trained here
            load_data(cfg)
            return  # a valid config: nothing to refuse
        except NeurodeployError:
            pass
        before = snapshot(work)
        argv = ["train", config, "--out", work / "run", "--quiet"]
        for item in overrides:
            argv += ["--set", item]
        assert_refused(run_cli(argv), lines=None)
        assert snapshot(work) == before
    finally:
        shutil.rmtree(work)


@FAST
@given(data=st.data())
def test_mutated_configs(inputs, data):
    _config_property(inputs, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_mutated_configs_long(inputs, data):
    _config_property(inputs, data)


def test_every_hdf5_mutation_kind_is_drawn(inputs):
    """The strategies reach every object of the files (a renamed field would silently shrink
    what the suite covers)."""
    datasets, attrs = h5_objects(inputs.model)
    assert "projections/0/weights" in datasets and ("/", "digest") in attrs
    with h5py.File(inputs.checkpoint) as f:
        assert "digest" in f.attrs
