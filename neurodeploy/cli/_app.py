"""The typer application object and the helpers every command shares."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

__all__ = ["app", "debug_enabled", "emit_json", "say"]

app = typer.Typer(
    name="neurodeploy",
    help="Train spiking networks with EventProp and deploy them bit-exactly to neuromorphic hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    _state["debug"] = debug


def debug_enabled() -> bool:
    return _state["debug"]


def say(message: str) -> None:
    """Human-readable result text (stdout). Commands call it only when ``--json`` is not given,
    so that ``--json`` prints exactly one document; progress goes to stderr."""
    print(message)


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    print(json.dumps(document, indent=2, sort_keys=True, default=_default))


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
