"""The dependency rule, checked with import-linter (contracts in pyproject.toml).

The installed package maps three top-level folders (trainer/, quantize/, backends/) into
``neurodeploy``; grimp walks one directory, so the check lays the package out as one tree of
symbolic links first and runs ``lint-imports`` on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _package_tree(tmp: Path) -> Path:
    """``tmp/neurodeploy`` with every mapped folder linked in place; returns ``tmp``."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    package = tmp / "neurodeploy"
    package.mkdir(parents=True)
    for entry in (ROOT / "neurodeploy").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in mapping.items():
        if name != "neurodeploy":
            (package / name.split(".", 1)[1]).symlink_to(ROOT / folder)
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


def test_the_dependency_rule_holds(tmp_path):
    done = _lint_imports(_package_tree(tmp_path))
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
