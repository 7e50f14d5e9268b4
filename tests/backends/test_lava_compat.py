"""The Python 3.11 import fix for lava-nc 0.10.0 (neurodeploy/_lava_compat.py)."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from neurodeploy import _lava_compat
from neurodeploy._lava_compat import import_lava, patch_var_model_source
from neurodeploy.errors import BackendUnavailableError

pytestmark = pytest.mark.lava


def _installed_var_model() -> str:
    spec = importlib.util.find_spec("lava.magma.compiler.var_model")
    return Path(spec.origin).read_text()


def test_import_lava_freezes_byte_encoder_only():
    lava = import_lava()
    from lava.magma.compiler.var_model import ByteEncoder, CoreEncoder

    assert lava.__name__ == "lava"
    assert ByteEncoder.__dataclass_params__.frozen
    assert not CoreEncoder.__dataclass_params__.frozen
    assert CoreEncoder().x == ByteEncoder(base=0, len=0, ptr=0)
    assert [f.name for f in dataclasses.fields(ByteEncoder)] == ["base", "len", "ptr"]


def test_patch_changes_exactly_one_decorator_line():
    original = _installed_var_model()
    patched = patch_var_model_source(original)
    changed = [
        (a, b) for a, b in zip(original.splitlines(), patched.splitlines(), strict=True) if a != b
    ]
    assert changed == [("@dataclass", "@dataclass(frozen=True)")]
    assert patch_var_model_source(patched) == patched  # an already fixed file loads unchanged


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s + "\nEXTRA = 1\n",
        lambda s: s.replace('"""Encodes ptr, len, base"""', '"""Encodes things"""'),
        lambda s: s.replace("    ptr: int = 0\n", "    ptr: int = 1\n"),
    ],
)
def test_patch_refuses_unexpected_source(edit):
    with pytest.raises(BackendUnavailableError, match=r"not the lava-nc 0\.10\.0 file"):
        patch_var_model_source(edit(_installed_var_model()))


def test_missing_lava_raises_with_an_install_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "lava.magma" else real(name, *a),
    )
    with pytest.raises(
        BackendUnavailableError, match="pip install --no-deps --ignore-requires-python lava-nc"
    ):
        _lava_compat.import_lava()


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_lava_imports_after_the_start_method_is_already_fork():
    # What a Numba parallel kernel does before Lava is imported: the start method becomes 'fork'.
    done = _fresh_python(
        "import multiprocessing as mp; mp.set_start_method('fork');"
        "from neurodeploy._lava_compat import import_lava; import_lava();"
        "import lava.magma.runtime.message_infrastructure.multiprocessing;"
        "print('ok', mp.get_start_method())"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "fork"]


def test_lava_refuses_another_start_method_clearly():
    done = _fresh_python(
        "import multiprocessing as mp; mp.set_start_method('spawn');"
        "from neurodeploy._lava_compat import import_lava\n"
        "try:\n    import_lava()\nexcept ImportError as exc:\n    print(type(exc).__name__, exc)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("BackendUnavailableError Lava needs the 'fork'")
