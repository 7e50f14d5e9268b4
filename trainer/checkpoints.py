"""Training checkpoints: a run's parameters and Adam state after each epoch.

``run_dir/checkpoints/epoch_NNNN.h5`` (HDF5, never pickle), written and read through
:func:`neurodeploy.files.write_checkpoint` / :func:`~neurodeploy.files.read_checkpoint` (atomic
writes, format and version checked). Root attributes: ``epoch``, ``config`` (JSON), ``adam_w_t``,
``adam_d_t``; per projection ``q``, datasets ``projections/q/{weights, delays, adam_w_m, adam_w_v,
adam_d_m, adam_d_v}``. A checkpoint resumes only a run with the same ``[model]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neurodeploy.errors import ConfigError, ModelFileError
from neurodeploy.files import read_checkpoint, write_checkpoint
from neurodeploy.trainer.config import config_from_dict, config_to_dict
from neurodeploy.trainer.optim import Adam
from neurodeploy.trainer.state import Trainer

__all__ = [
    "checkpoint_path",
    "last_checkpoint",
    "load_checkpoint",
    "prune_checkpoints",
    "save_checkpoint",
]

_ATTRS = ("epoch", "config", "adam_w_t", "adam_d_t")
_ARRAYS = ("weights", "delays", "adam_w_m", "adam_w_v", "adam_d_m", "adam_d_v")


def checkpoint_path(run_dir: Path, epoch: int) -> Path:
    return run_dir / "checkpoints" / f"epoch_{epoch:04d}.h5"


def last_checkpoint(run_dir: Path) -> tuple[int, Path] | None:
    """(epoch, path) of the run's latest checkpoint, or None."""
    found = sorted((run_dir / "checkpoints").glob("epoch_*.h5"))
    if not found:
        return None
    return int(found[-1].stem.split("_")[1]), found[-1]


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the ``keep`` latest checkpoints (``keep`` 0: keep all)."""
    if keep:
        for old in sorted((run_dir / "checkpoints").glob("epoch_*.h5"))[:-keep]:
            old.unlink()


def save_checkpoint(path: Path, epoch: int, tr: Trainer, adam_w: Adam, adam_d: Adam) -> None:
    arrays = {}
    for q in range(len(tr.weights)):
        values = (tr.weights[q], tr.delays[q], adam_w.m[q], adam_w.v[q], adam_d.m[q], adam_d.v[q])
        for key, value in zip(_ARRAYS, values, strict=True):
            arrays[f"projections/{q}/{key}"] = value
    attrs = {
        "epoch": epoch,
        "config": json.dumps(config_to_dict(tr.config), sort_keys=True),
        "adam_w_t": adam_w.t,
        "adam_d_t": adam_d.t,
    }
    write_checkpoint(path, attrs, arrays)


def load_checkpoint(path: Path, tr: Trainer, adam_w: Adam, adam_d: Adam) -> int:
    """Load ``path`` into ``tr`` and the two Adams (in place); returns the checkpoint's epoch.

    A damaged or foreign file, an unsupported version or a missing field is a ModelFileError, a
    different ``[model]`` a ConfigError; each one line starting with the file name.
    """
    attrs, arrays = read_checkpoint(path)
    needed = [*_ATTRS, *(f"projections/{q}/{k}" for q in range(len(tr.weights)) for k in _ARRAYS)]
    missing = [key for key in needed if key not in attrs and key not in arrays]
    if missing:
        raise ModelFileError(
            f"{path}: {missing[0]}: field is missing (damaged checkpoint; delete it to resume "
            "from the one before)"
        )
    try:
        raw = json.loads(attrs["config"])
    except (TypeError, json.JSONDecodeError):
        raise ModelFileError(f"{path}: config: not valid JSON") from None
    stored = config_from_dict(raw, str(path))
    if config_to_dict(stored)["model"] != config_to_dict(tr.config)["model"]:
        raise ConfigError(
            f"{path}: the checkpoint's [model] differs from the config; use a new run directory"
        )
    for q, w in enumerate(tr.weights):
        for key in _ARRAYS:
            shape = arrays[f"projections/{q}/{key}"].shape
            if shape != w.shape:
                raise ConfigError(
                    f"{path}: projections/{q}/{key}: shape {shape} differs from the network's "
                    f"{w.shape} (other data?); use a new run directory"
                )
    adam_w.t = int(attrs["adam_w_t"])
    adam_d.t = int(attrs["adam_d_t"])
    for q in range(len(tr.weights)):
        g = {key: arrays[f"projections/{q}/{key}"] for key in _ARRAYS}
        tr.weights[q] = np.asarray(g["weights"], dtype=np.float64)
        tr.delays[q] = np.asarray(g["delays"], dtype=np.float64)
        adam_w.m[q] = g["adam_w_m"]
        adam_w.v[q] = g["adam_w_v"]
        adam_d.m[q] = g["adam_d_m"]
        adam_d.v[q] = g["adam_d_v"]
    return int(attrs["epoch"])
