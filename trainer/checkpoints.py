"""Training checkpoints: a run's parameters and Adam state after each epoch.

``run_dir/checkpoints/epoch_NNNN.h5`` (HDF5, never pickle), written and read through
:func:`neurodeploy.files.write_checkpoint` / :func:`~neurodeploy.files.read_checkpoint` (atomic
writes, format and version checked, content digest). Root attributes: ``epoch``, ``config``
(JSON), ``adam_w_t``, ``adam_d_t``, ``data_fingerprint`` (SHA-256 of the run's datasets; absent in
older checkpoints); per projection ``q``, datasets ``projections/q/{weights, delays, adam_w_m,
adam_w_v, adam_d_m, adam_d_v}``. A checkpoint resumes only a run with the same configuration (every
section; only ``train.epochs`` and ``train.keep_checkpoints`` may change, they do not change the
epochs already done) and the same data; otherwise the refusal names the differing fields.
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
    "RESUMABLE_CHANGES",
    "checkpoint_path",
    "config_differences",
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


#: Fields that may differ between a checkpoint and the run resuming it.
RESUMABLE_CHANGES = ("train.epochs", "train.keep_checkpoints")


def save_checkpoint(
    path: Path,
    epoch: int,
    tr: Trainer,
    adam_w: Adam,
    adam_d: Adam,
    data_fingerprint: str = "",
) -> None:
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
    if data_fingerprint:
        attrs["data_fingerprint"] = data_fingerprint
    write_checkpoint(path, attrs, arrays)


def _flat(config: dict) -> dict[str, object]:
    return {
        f"{section}.{key}": value
        for section, values in config.items()
        for key, value in (values.items() if isinstance(values, dict) else [("", values)])
    }


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def config_differences(stored: dict, current: dict) -> list[str]:
    """``"field (stored X, now Y)"`` for each field that differs, RESUMABLE_CHANGES aside."""
    a, b = _flat(stored), _flat(current)
    return [
        f"{key} (stored {_short(a.get(key))}, now {_short(b.get(key))})"
        for key in sorted(set(a) | set(b))
        if key not in RESUMABLE_CHANGES and a.get(key) != b.get(key)
    ]


_WAYS_OUT = (
    "resume with the stored configuration, write to a new --out directory, or pass --restart to "
    "start this run directory over"
)


def load_checkpoint(
    path: Path,
    tr: Trainer,
    adam_w: Adam,
    adam_d: Adam,
    data_fingerprint: str = "",
) -> int:
    """Load ``path`` into ``tr`` and the two Adams (in place); returns the checkpoint's epoch.

    A damaged or foreign file, an unsupported version or a missing field is a ModelFileError; a
    different configuration (any field but :data:`RESUMABLE_CHANGES`) or, when both are known,
    different data (``data_fingerprint``) a ConfigError; each one line starting with the file
    name.
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
    except (TypeError, ValueError):
        raise ModelFileError(f"{path}: config: not valid JSON") from None
    if not isinstance(raw, dict):
        raise ModelFileError(f"{path}: config: must be a JSON object, got {type(raw).__name__}")
    try:
        stored = config_from_dict(raw, "config")
    except ConfigError as exc:
        first = str(exc).splitlines()[0]
        raise ModelFileError(f"{path}: stored {first}") from None
    differences = config_differences(config_to_dict(stored), config_to_dict(tr.config))
    if differences:
        raise ConfigError(
            f"{path}: this run directory was trained with another configuration: "
            f"{'; '.join(differences)}; {_WAYS_OUT}"
        )
    stored_data = attrs.get("data_fingerprint", "")
    if stored_data and data_fingerprint and stored_data != data_fingerprint:
        raise ConfigError(
            f"{path}: this run directory was trained on other data (the datasets' fingerprint "
            f"differs: the files or their options changed); {_WAYS_OUT}"
        )
    for q, w in enumerate(tr.weights):
        for key in _ARRAYS:
            shape = arrays[f"projections/{q}/{key}"].shape
            if shape != w.shape:
                raise ConfigError(
                    f"{path}: projections/{q}/{key}: shape {shape} differs from the network's "
                    f"{w.shape} (other data?); use a new run directory"
                )
            value = arrays[f"projections/{q}/{key}"]
            if value.dtype.kind != "f" or not np.isfinite(value).all():
                raise ModelFileError(
                    f"{path}: projections/{q}/{key}: must be finite floats (damaged checkpoint; "
                    "delete it to resume from the one before)"
                )
    for key in ("epoch", "adam_w_t", "adam_d_t"):
        value = attrs[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelFileError(
                f"{path}: {key}: must be an integer >= 0, got {_short(value)} (damaged checkpoint)"
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
