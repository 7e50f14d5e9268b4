"""Running commands in-process and checking the reliability contract (issue 11).

Every bad input must end in exit code 1, ``error: <line>`` lines on stderr (one per problem; a
single mutation is one problem), no traceback, within a time bound, and leave every file as it was
and create none.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from neurodeploy.files import content_digest

#: Seconds one command may take on a bad input (the work it refuses is never started).
TIME_LIMIT_S = 30


@dataclass
class Result:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class _Timeout(Exception):
    pass


def run_cli(argv: list[str], limit_s: float = TIME_LIMIT_S) -> Result:
    """``neurodeploy ARGV`` in this process: exit code, stdout, stderr, seconds. A command that
    runs past ``limit_s`` is interrupted and fails the check (a hang)."""
    from neurodeploy.cli import main

    out, err = io.StringIO(), io.StringIO()

    def expire(signum, frame):
        raise _Timeout(f"neurodeploy {' '.join(argv)} ran past {limit_s} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    t0 = time.perf_counter()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return Result(code, out.getvalue(), err.getvalue(), time.perf_counter() - t0)


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root``: files by SHA-256 and mode, directories as such."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            state[os.path.relpath(os.path.join(dirpath, name), root)] = "dir"
        for name in filenames:
            path = os.path.join(dirpath, name)
            data = Path(path).read_bytes()
            mode = os.stat(path).st_mode & 0o777
            state[os.path.relpath(path, root)] = f"{hashlib.sha256(data).hexdigest()} {mode:o}"
    return state


def assert_refused(result: Result, *words: str, lines: int | None = 1) -> str:
    """Exit code 1, ``lines`` error lines (None: at least one), each ``error: ...``, no
    traceback, within the time bound; every word in the message. Returns the message."""
    assert result.code == 1, (result.code, result.out, result.err)
    assert "Traceback" not in result.err, result.err
    found = result.error_lines
    assert found and all(line.startswith("error: ") for line in found), result.err
    if lines is not None:
        assert len(found) == lines, result.err
    assert result.seconds < TIME_LIMIT_S, result.seconds
    message = "\n".join(found)
    for word in words:
        assert word in message, message
    return message


def flip_bit(path: Path, position: int, bit: int) -> None:
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 1 << bit
    path.write_bytes(bytes(data))


def truncate(path: Path, length: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: length % len(data)])


def h5_objects(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """(datasets, (object, attribute) pairs) of an HDF5 file, sorted."""
    datasets, attrs = [], []
    with h5py.File(path, "r") as f:
        for key in f.attrs:
            attrs.append(("/", key))

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                datasets.append(name)
            for key in obj.attrs:
                attrs.append((name, key))

        f.visititems(visit)
    return sorted(datasets), sorted(attrs)


#: Values written over a field: non-finite, extreme, negative, wrong type, wrong shape.
EXTREMES = [
    np.nan,
    np.inf,
    -np.inf,
    1e300,
    -1e300,
    -1,
    0,
    10**9,
    -(10**9),
    2**62,
    "x",
    "",
    np.array([1.0, 2.0]),
    np.zeros((0,)),
]


def replace_attr(path: Path, obj: str, key: str, value, restamp: bool = False) -> None:
    with h5py.File(path, "r+") as f:
        f[obj].attrs[key] = value
        _restamp(f, restamp)


def delete_attr(path: Path, obj: str, key: str, restamp: bool = False) -> None:
    with h5py.File(path, "r+") as f:
        del f[obj].attrs[key]
        _restamp(f, restamp)


def replace_dataset(path: Path, name: str, value, restamp: bool = False) -> None:
    """Put ``value`` in place of dataset ``name`` (any shape and type; None deletes it)."""
    with h5py.File(path, "r+") as f:
        del f[name]
        if value is not None:
            f[name] = value
        _restamp(f, restamp)


def fill_dataset(path: Path, name: str, value, restamp: bool = False) -> None:
    """Set every element of dataset ``name`` (same shape; cast to its dtype when it can be, else
    stored as text; each row of a variable-length dataset filled)."""
    with h5py.File(path, "r+") as f:
        ds = f[name]
        vlen = h5py.check_vlen_dtype(ds.dtype)
        data = np.asarray(ds[()])
        del f[name]
        if vlen is not None:
            rows = [_full(np.asarray(row).shape, value, vlen) for row in data]
            out = f.create_dataset(
                name, (len(rows),), dtype=h5py.vlen_dtype(rows[0].dtype if rows else vlen)
            )
            for i, row in enumerate(rows):
                out[i] = row
        else:
            f[name] = _full(data.shape, value, data.dtype)
        _restamp(f, restamp)


def _full(shape, value, dtype) -> np.ndarray:
    """``value`` everywhere in ``shape``: in ``dtype`` if it fits (floats beyond an integer
    type become its extreme), else as bytes."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu" and isinstance(value, float) and not np.isnan(value):
        value = np.iinfo(dtype).max if value > 0 else np.iinfo(dtype).min
    with np.errstate(all="ignore"):
        try:
            if np.ndim(value):
                raise ValueError
            return np.full(shape, value, dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            return np.full(shape, str(value).encode())


def _restamp(f: h5py.File, restamp: bool) -> None:
    """Rewrite the content digest, as a tool editing the file consistently would: what the
    validators catch, not just the digest."""
    if restamp and "digest" in f.attrs:
        f.attrs["digest"] = content_digest(f)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def copy(src: Path, dst_dir: Path, name: str | None = None) -> Path:
    dst = dst_dir / (name or src.name)
    dst.write_bytes(src.read_bytes())
    return dst
