"""Import Lava (lava-nc 0.10.0) on Python 3.11 without editing site-packages.

lava-nc 0.10.0 declares Python < 3.11 and fails to import on 3.11 for exactly one reason
(docs: hardware research notes, A.1): ``lava/magma/compiler/var_model.py`` uses instances of the
plain ``@dataclass ByteEncoder`` as field defaults, which Python 3.11 rejects as a mutable default.
Making that one dataclass frozen (hashable) is the whole fix; nothing in Lava builds or mutates a
``ByteEncoder``.

This module installs a meta-path finder that patches that module's source *as it is loaded*:

- ``lava.magma.compiler.var_model``: the decorator of ``ByteEncoder`` becomes
  ``@dataclass(frozen=True)``. The file must be byte-for-byte the lava-nc 0.10.0 one (SHA-256
  checked) or already carry the fix; any other text is refused with a
  :class:`~neurodeploy.errors.BackendUnavailableError` instead of being guessed at.
- ``lava.magma.runtime.message_infrastructure.multiprocessing``: Lava calls
  ``multiprocessing.set_start_method('fork')`` at import time, which raises if the start method was
  already fixed. Numba fixes it (to 'fork' on Linux) as soon as a ``parallel=True`` kernel runs, so
  importing Lava after the emulator would fail. While that one module executes, a call that asks
  for the method already in force is a no-op; any other call behaves as usual. If the method in
  force is not 'fork', Lava cannot run and a clear error says so.

Every Lava-using module calls :func:`import_lava` before importing anything from ``lava``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import multiprocessing
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from neurodeploy.errors import BackendUnavailableError

__all__ = ["INSTALL_HINT", "import_lava", "install_import_hook", "lava_version"]

INSTALL_HINT = (
    "install it with `make` or `pip install -e '.[lava]' && "
    "pip install --no-deps --ignore-requires-python lava-nc==0.10.0`"
)

_VAR_MODEL = "lava.magma.compiler.var_model"
_MP_MODULE = "lava.magma.runtime.message_infrastructure.multiprocessing"

# lava-nc 0.10.0 (identical to lava-nc/lava main b6822fbc) lava/magma/compiler/var_model.py.
_VAR_MODEL_SHA256 = "3b8acb73dc3ff38d159065aa0339b90f371f99f162e68d10a3117afbd916afa8"
_BYTE_ENCODER_OLD = '@dataclass\nclass ByteEncoder:\n    """Encodes ptr, len, base"""\n'
_BYTE_ENCODER_NEW = (
    '@dataclass(frozen=True)\nclass ByteEncoder:\n    """Encodes ptr, len, base"""\n'
)


def patch_var_model_source(source: str, origin: str = _VAR_MODEL) -> str:
    """Return ``var_model.py`` source with ``ByteEncoder`` frozen.

    Parameters
    ----------
    source : str
        Text of ``lava/magma/compiler/var_model.py``.
    origin : str
        File name used in the error message.

    Returns
    -------
    str
        The patched text; ``source`` unchanged if it already declares the frozen dataclass.

    Raises
    ------
    BackendUnavailableError
        If the text is neither the known lava-nc 0.10.0 file nor already fixed.
    """
    if source.count(_BYTE_ENCODER_NEW) == 1 and _BYTE_ENCODER_OLD not in source:
        return source
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    if digest != _VAR_MODEL_SHA256 or source.count(_BYTE_ENCODER_OLD) != 1:
        raise BackendUnavailableError(
            f"{origin}: not the lava-nc 0.10.0 file neurodeploy knows how to patch for Python 3.11 "
            f"(sha256 {digest[:16]}…, expected {_VAR_MODEL_SHA256[:16]}…); "
            "install lava-nc==0.10.0 or a release that supports Python 3.11"
        )
    return source.replace(_BYTE_ENCODER_OLD, _BYTE_ENCODER_NEW)


class _SourcePatchLoader(importlib.abc.Loader):
    """Loads a source module after passing its text through ``patch`` (no bytecode cache)."""

    def __init__(
        self,
        base: importlib.machinery.SourceFileLoader,
        patch: Callable[[str, str], str],
        around: Callable[[Callable[[], None]], None] | None = None,
    ):
        self._base = base
        self._patch = patch
        self._around = around

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def get_source(self, fullname: str) -> str:
        source = self._base.get_source(fullname)
        if source is None:
            raise BackendUnavailableError(f"{fullname}: Lava module has no Python source to patch")
        return self._patch(source, self._base.get_filename(fullname))

    def exec_module(self, module: types.ModuleType) -> None:
        code = compile(
            self.get_source(module.__name__), self._base.get_filename(module.__name__), "exec"
        )

        def run() -> None:
            exec(code, module.__dict__)

        if self._around is None:
            run()
        else:
            self._around(run)


def _keep_source(source: str, origin: str) -> str:
    return source


def _tolerate_same_start_method(run: Callable[[], None]) -> None:
    """Run ``run`` while ``set_start_method(m)`` is a no-op if ``m`` is already in force."""
    current = multiprocessing.get_start_method(allow_none=True)
    if current not in (None, "fork"):
        raise BackendUnavailableError(
            f"Lava needs the 'fork' multiprocessing start method, but it is already {current!r}; "
            "import neurodeploy.backends.lava before choosing another start method"
        )
    original = multiprocessing.set_start_method

    def set_start_method(method: str, force: bool = False) -> None:
        if not force and method == multiprocessing.get_start_method(allow_none=True):
            return
        original(method, force=force)

    multiprocessing.set_start_method = set_start_method  # type: ignore[assignment]
    try:
        run()
    finally:
        multiprocessing.set_start_method = original  # type: ignore[assignment]


class _LavaPatchFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that hands the two patched Lava modules to :class:`_SourcePatchLoader`."""

    _HANDLERS: ClassVar[dict[str, tuple[Callable[[str, str], str], Any]]] = {
        _VAR_MODEL: (patch_var_model_source, None),
        _MP_MODULE: (_keep_source, _tolerate_same_start_method),
    }

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._HANDLERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        patch, around = self._HANDLERS[fullname]
        spec.loader = _SourcePatchLoader(spec.loader, patch, around)
        return spec


def install_import_hook() -> None:
    """Put the patching finder first on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, _LavaPatchFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _LavaPatchFinder())


def import_lava() -> types.ModuleType:
    """Install the Python 3.11 fix and import Lava's core; return the ``lava`` package.

    Raises
    ------
    BackendUnavailableError
        If lava-nc is not installed (with an install hint), or its files are not the ones the fix
        was written for, or the multiprocessing start method rules Lava out.
    """
    install_import_hook()
    try:
        found = importlib.util.find_spec("lava.magma")
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise BackendUnavailableError(
            f"the Lava backend needs lava-nc, which is not importable; {INSTALL_HINT}"
        )
    try:
        importlib.import_module("lava.magma.core.run_configs")
        importlib.import_module("lava.magma.compiler.compiler")
        importlib.import_module(_MP_MODULE)
        return importlib.import_module("lava")
    except BackendUnavailableError:
        raise
    except ImportError as exc:
        raise BackendUnavailableError(
            f"lava-nc is installed but does not import ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
        ) from exc


def lava_version() -> str | None:
    """Installed lava-nc version, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lava-nc")
    except PackageNotFoundError:
        return None


install_import_hook()
