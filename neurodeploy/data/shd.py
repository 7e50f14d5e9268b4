"""Spike files in the SHD/SSC layout (Cramer et al. 2020), binned onto the step grid.

Layout read (real SHD and SSC files load unchanged)::

    spikes/times[i]   float, seconds: spike times of sample i (variable length)
    spikes/units[i]   integer: channel of each spike of sample i, in [0, channels)
    labels[i]         integer class of sample i
    extra/...         optional (speaker, keys, meta_info); see :func:`read_extra`
    attribute ``channels`` (optional): input count; 700 (the SHD/SSC cochlea model) when absent

Binning follows :mod:`neurodeploy.data.base`: step ``floor(t / dt)`` (a time stored as the float
nearest ``k * dt`` goes to step ``k``), spikes at or after ``t_max_ms`` dropped, duplicates within
one step and channel merged. Samples are read ``chunk_size`` at a time, so the memory beyond the
result stays bounded (a whole SSC train file is ~75k samples).
"""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from neurodeploy.data.base import (
    MAX_CLASSES,
    MAX_STEPS,
    Dataset,
    bin_seconds,
    check_float,
    check_int,
    class_counts,
    n_steps_for,
)
from neurodeploy.errors import ConfigError, ModelFileError
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import Problems

__all__ = ["SHD_CHANNELS", "load", "read_extra"]

logger = logging.getLogger(__name__)

#: Input channels of SHD and SSC (used when a file has no ``channels`` attribute).
SHD_CHANNELS = 700
_FIELDS = ("spikes/times", "spikes/units", "labels")


def _open(path: Path) -> h5py.File:
    if not path.is_file():
        raise ConfigError(f"shd: file {path} not found")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ModelFileError(f"{path}: not a readable HDF5 file ({exc})") from None


#: Files (path, size, mtime) whose every dataset was read once without crashing the process.
_READ_SAFELY: set[tuple[str, int, int]] = set()


def _preflight(path: Path) -> None:
    """Read every dataset of ``path`` once in a forked child process: a damaged variable-length
    dataset (a flipped heap address or length) can make the HDF5 library read wild memory and
    kill the process with a segmentation fault, which no exception handler catches. A crashed
    child is one ModelFileError line; anything the child raises is left to the real read, which
    reports it. Skipped where there is no ``fork``; done once per file version and process."""
    if not hasattr(os, "fork") or not path.is_file():
        return
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _READ_SAFELY:
        return
    pid = os.fork()
    if pid == 0:  # the child: read everything, report nothing but the exit status
        code = 0
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            with h5py.File(path, "r") as f:

                def read(name: str, obj: Any) -> None:
                    if isinstance(obj, h5py.Dataset):
                        obj[()]

                f.visititems(read)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise ModelFileError(
            f"{path}: damaged SHD-layout file (reading it crashed the HDF5 library with signal "
            f"{os.WTERMSIG(status)}); use an intact copy"
        )
    _READ_SAFELY.add(key)


def _dataset(f: h5py.File, path: Path, key: str) -> h5py.Dataset:
    obj = f.get(key)
    if not isinstance(obj, h5py.Dataset):
        raise ModelFileError(
            f"{path}: missing dataset {key} (the SHD layout needs {', '.join(_FIELDS)})"
        )
    if obj.ndim != 1:
        raise ModelFileError(
            f"{path}: {key} must be one-dimensional (one entry per sample), got shape {obj.shape}"
        )
    return obj


def _channels(f: h5py.File, path: Path) -> tuple[int, str]:
    if "channels" not in f.attrs:
        return SHD_CHANNELS, "SHD default"
    value = np.asarray(f.attrs["channels"])
    if value.size != 1 or value.dtype.kind not in "iu" or not 1 <= value.reshape(-1)[0] < 2**31:
        raise ModelFileError(
            f"{path}: attribute channels must be one integer in [1, {2**31 - 1}], got {value!r}"
        )
    return int(value.reshape(-1)[0]), "file attribute"


def _read_labels(
    f: h5py.File, ds: h5py.Dataset, path: Path, n_take: int, n_classes: int | None
) -> tuple[NDArray[np.int64], int]:
    if ds.dtype.kind not in "iu":
        raise ModelFileError(f"{path}: labels must be integers, got dtype {ds.dtype}")
    labels = np.asarray(ds[:n_take], dtype=np.int64)
    if n_classes is None and "n_classes" in f.attrs:
        value = np.asarray(f.attrs["n_classes"])
        if value.size != 1 or value.dtype.kind not in "iu":
            raise ModelFileError(
                f"{path}: attribute n_classes must be one integer in [1, {MAX_CLASSES}], "
                f"got {value!r}"
            )
        n_classes = check_int(
            "attribute n_classes", int(value.reshape(-1)[0]), minimum=1, where=str(path)
        )
    inferred = n_classes is None
    if n_classes is None:
        n_classes = max(1, int(labels.max()) + 1) if len(labels) else 1
        if n_classes > MAX_CLASSES:
            raise ModelFileError(
                f"{path}: labels must be in [0, {MAX_CLASSES - 1}] (at most {MAX_CLASSES} "
                f"classes), got {labels.max()}"
            )
    if n_classes > MAX_CLASSES:
        raise ModelFileError(f"{path}: n_classes must be in [1, {MAX_CLASSES}], got {n_classes}")
    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if len(bad):
        i = int(bad[0])
        if inferred:  # no n_classes given: only the sign can be wrong
            raise ModelFileError(f"{path}: labels[{i}] must be a class index >= 0, got {labels[i]}")
        raise ModelFileError(
            f"{path}: labels[{i}] must be in [0, {n_classes - 1}] (n_classes={n_classes}), "
            f"got {labels[i]}"
        )
    return labels, n_classes


def _concat(
    rows: NDArray[Any], path: Path, key: str, i0: int
) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Concatenate one chunk of variable-length rows; returns values and per-row lengths."""
    arrays = []
    for j, row in enumerate(rows):
        row = np.asarray(row)
        if row.ndim != 1:
            raise ModelFileError(
                f"{path}: {key}[{i0 + j}] must be a 1-D array, got shape {row.shape}"
            )
        arrays.append(row)
    lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    values = np.concatenate(arrays) if arrays else np.zeros(0)
    return values, lengths


def _first_bad(bad: NDArray[np.bool_], lengths: NDArray[np.int64], i0: int) -> tuple[int, int]:
    """(sample index, event index in the chunk) of the first true entry of ``bad``."""
    k = int(np.flatnonzero(bad)[0])
    sample = int(np.searchsorted(np.cumsum(lengths), k, side="right"))
    return i0 + sample, k


def _bin_chunk(
    times: NDArray[np.floating],
    units: NDArray[np.integer],
    lengths: NDArray[np.int64],
    *,
    dt_ms: float,
    n_steps: int | None,
    n_channels: int,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int64], int, int, int]:
    """Bin one chunk: sorted, merged (steps, units), events per sample, dropped and merged
    counts, latest step."""
    sample = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    steps = bin_seconds(times, dt_ms)
    units = units.astype(np.int64)
    dropped = 0
    if n_steps is not None:
        keep = steps < n_steps
        dropped = int(len(keep) - np.count_nonzero(keep))
        sample, steps, units = sample[keep], steps[keep], units[keep]
    span = int(steps.max()) + 1 if len(steps) else 1
    if len(lengths) * span * n_channels < 2**62:  # one int64 key: (sample, step, unit)
        key = np.unique((sample * span + steps) * n_channels + units)
        sample, rest = np.divmod(key, span * n_channels)
        steps, units = np.divmod(rest, n_channels)
    else:  # huge step x channel ranges: one key per sample (samples are contiguous)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(sample, minlength=len(lengths)))])
        keys = [
            np.unique(steps[lo:hi] * n_channels + units[lo:hi])
            for lo, hi in itertools.pairwise(bounds)
        ]
        sample = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
        steps, units = np.divmod(np.concatenate(keys), n_channels)
    merged = len(times) - dropped - len(steps)
    counts = np.bincount(sample, minlength=len(lengths)).astype(np.int64)
    last = int(steps.max()) if len(steps) else -1
    return steps.astype(np.int32), units.astype(np.int32), counts, dropped, merged, last


def load(
    path: str | os.PathLike[str],
    *,
    dt_ms: float,
    t_max_ms: float | None = None,
    seed: int = 0,
    n_classes: int | None = None,
    max_samples: int | None = None,
    chunk_size: int = 256,
) -> Dataset:
    """Read an SHD/SSC-layout file and bin its spikes at ``dt_ms``.

    Parameters
    ----------
    path : path-like
    dt_ms : float, ms
    t_max_ms : float, ms, optional
        Trial length; spikes at or after it are dropped. None: just long enough for the latest
        spike of the file (``n_steps`` = its step + 1).
    seed : int
        Unused (the file fixes the samples); accepted so every loader takes the same arguments.
    n_classes : int, optional
        Number of classes; else the file attribute ``n_classes``, else ``max(labels) + 1``. Pass it
        for a test file that may lack the highest class.
    max_samples : int, optional
        Read only the first ``max_samples`` samples.
    chunk_size : int
        Samples read per HDF5 access (bounds the working memory).

    Raises
    ------
    ConfigError
        Missing file, or bad options (one line each, all reported together).
    ModelFileError
        Not HDF5, missing field, mismatched lengths, times not finite and >= 0, units outside
        ``[0, channels)``, labels outside ``[0, n_classes)``; the message names file and field.
    """
    path = Path(os.path.expanduser(os.fspath(path)))
    where = f"shd:{path}"
    problems = Problems()
    dt_ms = check_float("dt_ms", dt_ms, positive=True, where=where, problems=problems)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1, where=where, problems=problems)
    if n_classes is not None:
        n_classes = check_int("n_classes", n_classes, minimum=1, where=where, problems=problems)
    if max_samples is not None:
        max_samples = check_int(
            "max_samples", max_samples, minimum=1, where=where, problems=problems
        )
    n_steps = None
    if t_max_ms is not None and dt_ms is not None:
        n_steps = n_steps_for(t_max_ms, dt_ms, problems)
    problems.raise_if_any(ConfigError)

    _preflight(path)
    with _open(path) as f:
        times_ds = _dataset(f, path, "spikes/times")
        units_ds = _dataset(f, path, "spikes/units")
        labels_ds = _dataset(f, path, "labels")
        for key, ds in (("spikes/units", units_ds), ("labels", labels_ds)):
            if len(ds) != len(times_ds):
                raise ModelFileError(
                    f"{path}: {key} has {len(ds)} entries but spikes/times has {len(times_ds)}; "
                    "need one per sample"
                )
        n_file = len(times_ds)
        n_take = n_file if max_samples is None else min(max_samples, n_file)
        labels, n_classes = _read_labels(f, labels_ds, path, n_take, n_classes)
        n_channels, channels_from = _channels(f, path)
        extra_keys = sorted(f["extra"].keys()) if isinstance(f.get("extra"), h5py.Group) else []

        all_steps, all_units, all_counts = [], [], []
        n_read = n_dropped = n_merged = 0
        for i0 in range(0, n_take, chunk_size):
            i1 = min(i0 + chunk_size, n_take)
            times, lengths = _concat(times_ds[i0:i1], path, "spikes/times", i0)
            units, unit_lengths = _concat(units_ds[i0:i1], path, "spikes/units", i0)
            if not np.array_equal(lengths, unit_lengths):
                j = int(np.flatnonzero(lengths != unit_lengths)[0])
                raise ModelFileError(
                    f"{path}: spikes/units[{i0 + j}] has {unit_lengths[j]} entries but "
                    f"spikes/times[{i0 + j}] has {lengths[j]}; need one unit per spike"
                )
            if len(times) and times.dtype.kind != "f":
                raise ModelFileError(
                    f"{path}: spikes/times must hold floating-point seconds, "
                    f"got dtype {times.dtype}"
                )
            if len(units) and units.dtype.kind not in "iu":
                raise ModelFileError(
                    f"{path}: spikes/units must hold integers, got dtype {units.dtype}"
                )
            bad_t = ~np.isfinite(times) | (times < 0)
            if bad_t.any():
                b, k = _first_bad(bad_t, lengths, i0)
                raise ModelFileError(
                    f"{path}: spikes/times[{b}] must be finite and >= 0 s, got {times[k]!r}"
                )
            bad_u = (units < 0) | (units >= n_channels)
            if bad_u.any():
                b, k = _first_bad(bad_u, lengths, i0)
                raise ModelFileError(
                    f"{path}: spikes/units[{b}] must be in [0, {n_channels - 1}] "
                    f"(channels={n_channels}, {channels_from}), got {units[k]}"
                )
            steps, units_b, counts, dropped, merged, last = _bin_chunk(
                times, units, lengths, dt_ms=dt_ms, n_steps=n_steps, n_channels=n_channels
            )
            if last >= MAX_STEPS:
                raise ModelFileError(
                    f"{path}: spikes/times reach {times.max()!r} s = step {last} at dt_ms = "
                    f"{dt_ms:g}; steps must be < {MAX_STEPS}; pass t_max_ms to truncate"
                )
            all_steps.append(steps)
            all_units.append(units_b)
            all_counts.append(counts)
            n_read += len(times)
            n_dropped += dropped
            n_merged += merged

    steps = np.concatenate(all_steps) if all_steps else np.zeros(0, np.int32)
    units = np.concatenate(all_units) if all_units else np.zeros(0, np.int32)
    counts = np.concatenate(all_counts) if all_counts else np.zeros(0, np.int64)
    if n_steps is None:
        n_steps = int(steps.max()) + 1 if len(steps) else 1
    offsets = np.zeros(n_take + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    spikes = SpikeData(steps, units, offsets, labels, n_channels=n_channels, n_steps=n_steps)
    if n_dropped:
        logger.info("%s: dropped %d spikes at or after %g ms", path, n_dropped, n_steps * dt_ms)
    info = {
        "source": str(path.resolve()),
        "file_bytes": path.stat().st_size,
        "format": "SHD/SSC layout",
        "n_samples": n_take,
        "n_samples_in_file": n_file,
        "channels_from": channels_from,
        "class_counts": class_counts(labels, n_classes),
        "t_max_ms": n_steps * dt_ms,
        "events_read": n_read,
        "dropped_events": n_dropped,
        "merged_events": n_merged,
        "extra_keys": extra_keys,
        "binning": "floor(t / dt); duplicates merged; t >= t_max dropped",
    }
    return Dataset(
        name=f"shd:{path}", spikes=spikes, n_classes=n_classes, dt_ms=float(dt_ms), info=info
    )


def read_extra(path: str | os.PathLike[str], key: str) -> NDArray[Any]:
    """The array ``extra/<key>`` of an SHD-layout file (e.g. ``"speaker"``, one per sample).

    Raises
    ------
    ConfigError
        Missing file.
    ModelFileError
        Not HDF5, or no dataset ``extra/<key>``.
    """
    path = Path(os.path.expanduser(os.fspath(path)))
    with _open(path) as f:
        obj = f.get(f"extra/{key}")
        if not isinstance(obj, h5py.Dataset):
            have = sorted(f["extra"].keys()) if isinstance(f.get("extra"), h5py.Group) else []
            raise ModelFileError(f"{path}: no dataset extra/{key} (extra/ holds {have})")
        return np.asarray(obj[()])
