"""The dependency rule, checked with import-linter (contracts in pyproject.toml).

The stages live in their own top-level folders (trainer/, quantize/, backends/); the links
``neurodeploy/{trainer,quantize,backends}`` put them where grimp walks, so plain ``lint-imports``
in the repository root sees the whole package. The probes run on a linked copy of the package, so
a forbidden import can be added without touching the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _package_tree(tmp: Path) -> Path:
    """``tmp/neurodeploy``: every entry of the package linked in place; returns ``tmp``."""
    package = tmp / "neurodeploy"
    package.mkdir(parents=True)
    for entry in (ROOT / "neurodeploy").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    return tmp


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is not installed (it is in the [dev] extra)"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [exe, str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_dependency_rule_holds():
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("neurodeploy/_probe.py", "from neurodeploy.trainer import kernels\n"),
        ("neurodeploy/_probe.py", "def f():\n    from neurodeploy.quantize import quantize\n"),
        ("neurodeploy/trainer/_probe.py", "import neurodeploy.quantize.grid\n"),
        ("neurodeploy/quantize/_probe.py", "from neurodeploy.backends import lava\n"),
    ],
)
def test_the_contract_fails_on_a_forbidden_import(tmp_path, where, line):
    tree = _package_tree(tmp_path / "tree")
    # A real folder in place of the linked one, so the probe does not land in the repository.
    parent = tree / Path(where).parent
    if parent.is_symlink():
        target = parent.resolve()
        parent.unlink()
        shutil.copytree(target, parent, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / where).write_text(line)
    done = _lint_imports(tree)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout or "broken" in done.stdout
