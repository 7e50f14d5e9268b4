"""``neurodeploy inspect``: summarise a model file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.files import read_network
from neurodeploy.summary import format_summary, summarize


@app.command()
def inspect(
    model: Annotated[Path, typer.Argument(help="Model file (.h5), float or hardware.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Summarise a model: populations, projections, parameter ranges, delays, profile."""
    summary = summarize(read_network(model))
    if as_json:
        emit_json(summary)
    else:
        say(format_summary(summary))
