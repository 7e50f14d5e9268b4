"""The ``neurodeploy`` command line: thin commands over library functions.

Each command module registers its commands on :data:`neurodeploy.cli._app.app`. Errors a user can
fix (:class:`~neurodeploy.errors.NeurodeployError`) print ``error: <message>`` on stderr and exit
with code 1; usage errors exit with 2 (click); tracebacks appear only with ``--debug``.
"""

from __future__ import annotations

import sys

from neurodeploy.cli import backends as _backends  # noqa: F401
from neurodeploy.cli import deploy as _deploy  # noqa: F401
from neurodeploy.cli import inspect as _inspect  # noqa: F401  (registers commands)
from neurodeploy.cli import interchange as _interchange  # noqa: F401
from neurodeploy.cli import quantize as _quantize  # noqa: F401
from neurodeploy.cli import sweep as _sweep  # noqa: F401
from neurodeploy.cli import train as _train  # noqa: F401
from neurodeploy.cli import verify as _verify  # noqa: F401
from neurodeploy.cli._app import app, debug_enabled
from neurodeploy.errors import NeurodeployError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``neurodeploy`` console script (exits; never returns)."""
    try:
        app(
            args=argv, prog_name="neurodeploy"
        )  # exits itself: 0, 2 for usage errors, or Exit codes
    except NeurodeployError as exc:
        if debug_enabled():
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"error: {line}", file=sys.stderr)
        sys.exit(1)
