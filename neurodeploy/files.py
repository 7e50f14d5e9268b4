"""Network model files: HDF5, versioned, written atomically, never unpickled.

Layout (format ``neurodeploy-network``, version :data:`FORMAT_VERSION`)::

    /                      attrs: format, format_version, dt_ms, profile ("" for float models),
                                  readout, output ("" for none), profile_options (JSON text),
                                  metadata (JSON text)
    /populations/<name>    attrs: index, size, kind, decay_mem, decay_syn, threshold, v_scale
                           datasets: bias (size,), hw_params/<key> (1,) or (size,)
    /projections/<i>       attrs: source, target, weight_scale, hw_params/<key> as attrs
                           datasets: weights (n_post, n_pre), delays (n_post, n_pre)

Version 1 files (before readout, output and profile options were fields of the network) kept them
in the metadata under the same keys; reading one moves them into the fields. Version 3 adds the root
attribute ``digest``: the SHA-256 of every attribute and dataset in the file (:func:`content_digest`),
so a changed bit anywhere in the content is found on read. Versions 1 and 2 have none and still
load; a version 3 file without it does not.

Every read validates structure (:meth:`Network.validate`) and, for hardware models, the profile's
ranges, and turns the first problem of each kind into a :class:`ModelFileError` line prefixed with
the file name.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np

from neurodeploy.errors import ConfigError, ModelFileError, NeurodeployError, ProfileLimitError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network, get_profile

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_FORMAT_VERSION",
    "FORMAT",
    "FORMAT_VERSION",
    "atomic_path",
    "content_digest",
    "read_checkpoint",
    "read_hdf5",
    "read_network",
    "write_checkpoint",
    "write_network",
]

T = TypeVar("T")

FORMAT = "neurodeploy-network"
FORMAT_VERSION = 3
#: Versions this neurodeploy reads (1: readout, output, profile options inside the metadata;
#: 3: a content digest).
READABLE_VERSIONS = (1, 2, 3)
#: Root attribute holding the SHA-256 of the rest of the file (:func:`content_digest`).
DIGEST = "digest"
_MOVED_TO_FIELDS = ("readout", "output", "profile_options")
_POP_FLOATS = ("decay_mem", "decay_syn", "threshold", "v_scale")


class atomic_path:
    """Context manager yielding a temporary path beside ``path``; renamed onto it on success.

    A crash or exception leaves ``path`` untouched and removes the temporary file. The file gets
    the mode a plain ``open()`` would (0666 less the umask); it is fsynced before the rename and
    its directory after it, so a power loss leaves the old file or the new one, never a mix. A
    path that cannot be written (its parent is a file, a directory in its place, no permission)
    is one ConfigError line naming it.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def __enter__(self) -> Path:
        line = output_file_problem(self.path)
        if line:
            raise ConfigError(line)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            try:
                os.fchmod(fd, 0o666 & ~_umask())
            finally:
                os.close(fd)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot be written ({_os_reason(exc)})") from None
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.tmp.unlink(missing_ok=True)
            return
        try:
            _fsync(self.tmp)
            os.replace(self.tmp, self.path)
        except OSError as err:
            self.tmp.unlink(missing_ok=True)
            raise ConfigError(f"{self.path}: cannot be written ({_os_reason(err)})") from None
        _fsync_dir(self.path.parent)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """fsync a directory (the rename in it); a filesystem that cannot is not an error."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _nearest_existing(path: Path) -> Path:
    for parent in path.parents:
        if os.path.lexists(parent):
            return parent
    return Path(".")


def _dir_problem(directory: Path, what: str) -> str | None:
    if not directory.is_dir():
        return f"{directory} (the {what}) is not a directory"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"{directory} (the {what}) is not writable"
    return None


def output_file_problem(path: str | os.PathLike[str], option: str = "") -> str | None:
    """The one line saying a file cannot be written at ``path`` (prefixed with ``option``, e.g.
    ``"--out"``), or None. Nothing is created: an existing directory or non-file in its place, a
    parent that is a file, or a directory that is not writable."""
    path = Path(path)
    head = f"{option} {path}" if option else str(path)
    if path.is_dir():
        return f"{head}: is a directory; give a file name, e.g. {path / 'model.h5'}"
    if os.path.lexists(path) and not path.is_file():
        return f"{head}: exists and is not a regular file"
    line = _dir_problem(_nearest_existing(path), "parent of the file")
    return f"{head}: {line}" if line else None


def output_dir_problem(path: str | os.PathLike[str], option: str = "") -> str | None:
    """The one line saying ``path`` cannot be used as an output directory, or None (see
    :func:`output_file_problem`)."""
    path = Path(path)
    head = f"{option} {path}" if option else str(path)
    if os.path.lexists(path) and not path.is_dir():
        return f"{head}: exists and is not a directory; give a directory (it is created)"
    target = path if path.is_dir() else _nearest_existing(path)
    line = _dir_problem(target, "output directory" if target == path else "parent directory")
    return f"{head}: {line}" if line else None


def content_digest(f: h5py.File) -> str:
    """SHA-256 (hex) of every group, dataset and attribute of ``f`` except the root ``digest``
    attribute: names, dtypes, shapes and bytes, in sorted order."""
    h = hashlib.sha256()
    names: list[str] = []
    f.visit(names.append)
    for name in ["", *sorted(names)]:
        obj = f[name] if name else f
        is_data = isinstance(obj, h5py.Dataset)
        h.update(b"D" if is_data else b"G")
        h.update(name.encode() + b"\0")
        for key in sorted(obj.attrs):
            if not name and key == DIGEST:
                continue
            h.update(b"A" + key.encode() + b"\0")
            h.update(_value_bytes(obj.attrs[key]))
        if is_data:
            h.update(_value_bytes(np.asarray(obj[()])))
    return h.hexdigest()


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass") + b"\0"
    if isinstance(value, bytes):
        return b"b" + value + b"\0"
    array = np.asarray(value)
    head = f"{array.dtype.str}{array.shape}".encode()
    if array.dtype.kind == "O":
        return b"o" + head + repr(array.tolist()).encode() + b"\0"
    return b"a" + head + np.ascontiguousarray(array).tobytes()


def _check_digest(f: h5py.File, required: bool) -> None:
    if DIGEST not in f.attrs:
        if required:
            raise ModelFileError(
                f"{DIGEST}: field is missing (the file was changed after it was written)"
            )
        return
    stored = _attr(f, DIGEST)
    if stored != content_digest(f):
        raise ModelFileError(
            f"{DIGEST}: the content does not match the digest stored when the file was written "
            "(damaged or edited after writing); use an intact copy or write the file again"
        )


def check_file_rules(network: Network) -> None:
    """ProfileLimitError listing every rule of the profile's ``file_rules`` a hardware model
    breaks: what a model file must keep beyond :func:`neurodeploy.profiles.check_network`.

    Checked on read only: writing stays possible for the models verification builds on purpose
    (inputs the toolchain accepts and silently changes), but no such file loads for a command."""
    if network.profile is None:
        return
    problems = [line for rule in get_profile(network.profile).file_rules for line in rule(network)]
    if problems:
        raise ProfileLimitError("\n".join(problems))


def write_network(network: Network, path: str | os.PathLike[str]) -> Path:
    """Validate ``network`` and write it to ``path`` atomically. Returns the path."""
    network.validate()
    check_network(network)
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["dt_ms"] = float(network.dt_ms)
        f.attrs["profile"] = network.profile or ""
        f.attrs["readout"] = network.readout or ""
        f.attrs["output"] = network.output or ""
        f.attrs["profile_options"] = json.dumps(dict(network.profile_options), sort_keys=True)
        f.attrs["metadata"] = json.dumps(
            dict(network.metadata), sort_keys=True, default=_json_default
        )
        pops = f.create_group("populations")
        for index, pop in enumerate(network.populations):
            g = pops.create_group(pop.name)
            g.attrs["index"] = index
            g.attrs["size"] = int(pop.size)
            g.attrs["kind"] = pop.kind
            for key in _POP_FLOATS:
                g.attrs[key] = float(getattr(pop, key))
            g.create_dataset("bias", data=pop.bias)
            hw = g.create_group("hw_params")
            for key, value in pop.hw_params.items():
                hw.create_dataset(key, data=np.asarray(value, dtype=np.int64))
        projs = f.create_group("projections")
        for index, proj in enumerate(network.projections):
            g = projs.create_group(str(index))
            g.attrs["source"] = proj.source
            g.attrs["target"] = proj.target
            g.attrs["weight_scale"] = float(proj.weight_scale)
            for key, value in proj.hw_params.items():
                g.attrs[f"hw_params/{key}"] = int(value)
            g.create_dataset("weights", data=proj.weights, compression="gzip", shuffle=True)
            g.create_dataset("delays", data=proj.delays, compression="gzip", shuffle=True)
        f.attrs[DIGEST] = content_digest(f)
    return path


def read_hdf5(
    path: str | os.PathLike[str], read: Callable[[h5py.File], T], what: str = "file"
) -> T:
    """Open ``path`` read-only and return ``read(file)``, turning every problem into a
    ModelFileError whose lines start with the file name (missing, not HDF5, a NeurodeployError
    raised by ``read``, or a damaged or truncated ``what``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ModelFileError(f"{path}: not a readable HDF5 file ({_short(exc)})") from None
    try:
        with f:
            return read(f)
    except NeurodeployError as exc:
        lines = str(exc).splitlines()
        raise ModelFileError("\n".join(f"{path}: {line}" for line in lines)) from None
    except Exception as exc:  # h5py raises many kinds on damaged metadata; all mean the same
        raise ModelFileError(f"{path}: damaged or truncated {what} ({_short(exc)})") from None


def read_network(path: str | os.PathLike[str]) -> Network:
    """Read, validate and return the network in ``path``.

    Raises
    ------
    ModelFileError
        One line per problem, each prefixed with the file name: missing or non-HDF5 file,
        truncated file, unknown format or version, missing field, wrong shape, non-finite value,
        bad delay, unknown population, value outside the profile's range.
    """
    return read_hdf5(path, _read)


def _read(f: h5py.File) -> Network:
    fmt = _attr(f, "format", "")
    if fmt != FORMAT:
        raise ModelFileError(
            f"format must be {FORMAT!r}, got {fmt!r} (not a neurodeploy model file)"
        )
    version = _attr(f, "format_version", "")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(
            f"format_version must be an integer ({', '.join(map(str, READABLE_VERSIONS))}), "
            f"got {version!r}"
        )
    if version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"format_version {version} is not supported; this neurodeploy reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    for key in ("populations", "projections"):
        if key not in f or not isinstance(f[key], h5py.Group):
            raise ModelFileError(f"{key}: group is missing")
    metadata = _json_attr(f, "metadata")
    if version == 1:
        fields = {key: metadata.pop(key) for key in _MOVED_TO_FIELDS if key in metadata}
    else:
        fields = {
            "readout": _text_attr(f, "readout") or None,
            "output": _text_attr(f, "output") or None,
            "profile_options": _json_attr(f, "profile_options"),
        }
    profile = _text_attr(f, "profile") or None
    if profile is not None:
        get_profile(str(profile))  # an unknown name is the one problem worth reporting
    populations = sorted(
        (
            _read_population(name, _group(f["populations"], name, "populations"))
            for name in f["populations"]
        ),
        key=lambda x: x[0],
    )
    indices = sorted(index for index, _ in populations)
    if indices != list(range(len(populations))):
        raise ModelFileError(
            f"populations/*/index must number the populations 0..{len(populations) - 1} once "
            f"each, got {indices}"
        )
    names = list(f["projections"])
    expected = [str(i) for i in range(len(names))]
    if sorted(names, key=lambda n: (len(n), n)) != expected:
        raise ModelFileError(
            f"projections: groups must be named 0..{len(names) - 1}, got {sorted(names)}"
        )
    projections = [
        _read_projection(name, _group(f["projections"], name, "projections")) for name in expected
    ]
    if profile is None:
        with_hw = [p.name for p in _pops(populations) if p.hw_params] + [
            p.name for p in projections if p.hw_params
        ]
        if with_hw:
            raise ModelFileError(
                f"profile is empty (a float model) but {with_hw[0]} has hw_params; a hardware "
                "model names its profile"
            )
    network = Network(
        dt_ms=float(_attr(f, "dt_ms")),
        populations=tuple(pop for _, pop in populations),
        projections=tuple(projections),
        profile=profile,
        metadata=metadata,
        **fields,
    ).validate()
    fed = {proj.target for proj in network.projections}
    unfed = [p.name for p in network.populations if p.kind != "input" and p.name not in fed]
    if unfed:
        raise ModelFileError(
            f"populations/{unfed[0]}: receives no projection (a projection group deleted?); "
            "every non-input population of a model file has at least one"
        )
    check_network(network)
    check_file_rules(network)
    # Last, so that a file edited into breaking a rule gets the line naming that rule.
    _check_digest(f, required=version >= 3)
    return network


def _text_attr(obj: h5py.HLObject, key: str, where: str = "", default: Any = "") -> str:
    """A text attribute (``default`` when absent; missing is an error when that is
    ``_MISSING``); ModelFileError if it holds anything but text."""
    value = _attr(obj, key, default, where=where)
    if not isinstance(value, str):
        raise ModelFileError(f"{where + '/' if where else ''}{key}: must be text, got {value!r}")
    return value


def _pops(populations: list[tuple[int, Population]]) -> list[Population]:
    return [pop for _, pop in populations]


def _group(parent: h5py.Group, name: str, where: str) -> h5py.Group:
    g = parent.get(name)
    if not isinstance(g, h5py.Group):
        raise ModelFileError(f"{where}/{name}: must be a group")
    return g


def _json_attr(f: h5py.File, key: str) -> dict[str, Any]:
    try:
        value = json.loads(_attr(f, key, "{}"))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{key}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{key}: must be a JSON object, got {type(value).__name__}")
    return value


def _read_population(name: str, g: h5py.Group) -> tuple[int, Population]:
    where = f"populations/{name}"
    hw_group = g.get("hw_params")
    if hw_group is not None and not isinstance(hw_group, h5py.Group):
        raise ModelFileError(f"{where}/hw_params: must be a group")
    hw = {key: _dataset(hw_group, key, f"{where}/hw_params") for key in (hw_group or {})}
    pop = Population(
        name=name,
        size=int(_attr(g, "size", where=where)),
        kind=_text_attr(g, "kind", where, _MISSING),
        bias=_dataset(g, "bias", where),
        hw_params=hw,
        **{key: float(_attr(g, key, where=where)) for key in _POP_FLOATS},
    )
    return int(_attr(g, "index", where=where)), pop


def _read_projection(name: str, g: h5py.Group) -> Projection:
    where = f"projections/{name}"
    hw = {
        key.split("/", 1)[1]: int(value)
        for key, value in g.attrs.items()
        if key.startswith("hw_params/")
    }
    return Projection(
        source=_text_attr(g, "source", where, _MISSING),
        target=_text_attr(g, "target", where, _MISSING),
        weights=_dataset(g, "weights", where),
        delays=_dataset(g, "delays", where),
        weight_scale=float(_attr(g, "weight_scale", where=where)),
        hw_params=hw,
    )


_MISSING = object()


def _attr(obj: h5py.HLObject, key: str, default: Any = _MISSING, *, where: str = "") -> Any:
    if key not in obj.attrs:
        if default is _MISSING:
            raise ModelFileError(f"{where + '/' if where else ''}{key}: field is missing")
        return default
    value = obj.attrs[key]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _dataset(g: h5py.Group, key: str, where: str) -> np.ndarray:
    if key not in g or not isinstance(g[key], h5py.Dataset):
        raise ModelFileError(f"{where}/{key}: field is missing")
    return np.asarray(g[key][()])


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value of type {type(value).__name__} is not JSON-serialisable")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


# ---------------------------------------------------------------- checkpoints
#
# A checkpoint (format ``neurodeploy-checkpoint``, version CHECKPOINT_FORMAT_VERSION) is a flat
# container: the writer's attributes on the root beside ``format`` and ``format_version``, and its
# arrays as datasets at slash-separated paths. What they mean is the writer's business
# (neurodeploy.trainer.checkpoints); this module owns the file: atomic writes, the format and
# version check on read, one file-named line per problem.

CHECKPOINT_FORMAT = "neurodeploy-checkpoint"
CHECKPOINT_FORMAT_VERSION = 2
#: Checkpoint versions this neurodeploy reads (2 adds the content digest, as model files' 3).
CHECKPOINT_READABLE_VERSIONS = (1, 2)
_RESERVED = ("format", "format_version", DIGEST)


def write_checkpoint(
    path: str | os.PathLike[str],
    attrs: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
) -> Path:
    """Write ``attrs`` (root attributes) and ``arrays`` (datasets; ``"a/0/w"`` creates the groups)
    to ``path`` atomically, tagged with the checkpoint format and version. Returns the path."""
    clash = [key for key in attrs if key in _RESERVED]
    if clash:
        raise ValueError(f"checkpoint attribute {clash[0]!r} is reserved")
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = CHECKPOINT_FORMAT
        f.attrs["format_version"] = CHECKPOINT_FORMAT_VERSION
        for key, value in attrs.items():
            f.attrs[key] = value
        for key, value in arrays.items():
            f[key] = value
        f.attrs[DIGEST] = content_digest(f)
    return path


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``(attrs, arrays)`` that :func:`write_checkpoint` wrote to ``path``.

    Raises
    ------
    ModelFileError
        One line prefixed with the file name: missing or non-HDF5 file, damaged file, a format
        other than ``neurodeploy-checkpoint``, or a ``format_version`` this neurodeploy does not
        read (newer or unknown; the line names the version it reads).
    """
    return read_hdf5(path, _read_checkpoint, "checkpoint")


def _read_checkpoint(f: h5py.File) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    fmt = _attr(f, "format", "")
    if fmt != CHECKPOINT_FORMAT:
        raise ModelFileError(
            f"format must be {CHECKPOINT_FORMAT!r}, got {fmt!r} (not a neurodeploy checkpoint)"
        )
    version = _attr(f, "format_version")
    if isinstance(version, int) and version > CHECKPOINT_FORMAT_VERSION:
        raise ModelFileError(
            f"format_version {version} is newer than this neurodeploy reads (checkpoint "
            f"format_version {CHECKPOINT_FORMAT_VERSION}); use a newer neurodeploy or a new run directory"
        )
    if isinstance(version, bool) or version not in CHECKPOINT_READABLE_VERSIONS:
        raise ModelFileError(
            f"format_version {version!r} is not supported; this neurodeploy reads checkpoint "
            f"format_version {', '.join(map(str, CHECKPOINT_READABLE_VERSIONS))}"
        )
    _check_digest(f, required=version >= 2)
    attrs = {key: _attr(f, key) for key in f.attrs if key not in _RESERVED}
    arrays: dict[str, np.ndarray] = {}

    def collect(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset):
            arrays[name] = np.asarray(obj[()])

    f.visititems(collect)
    return attrs, arrays
