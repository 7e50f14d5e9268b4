"""``neurodeploy backends``: what can run a model here, and what each backend can do."""

from __future__ import annotations

from typing import Annotated

import typer

from neurodeploy.backend import get_backend, registered_backends
from neurodeploy.cli._app import app, emit_json, say


@app.command("backends")
def list_backends(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the registered backends: the models each runs, whether it records v, exports or
    deploys, and whether it can run here (and if not, why)."""
    rows = []
    for name in registered_backends():
        backend = get_backend(name)
        caps = backend.capabilities
        available = backend.is_available()
        rows.append(
            {
                "name": name,
                "runs": caps.describe(),
                "profiles": sorted(caps.profiles),
                "records_v": caps.records_v,
                "exports": caps.exports,
                "deploys": caps.deploys,
                "available": available,
                "unavailable_reason": "" if available else backend.unavailable_reason(),
            }
        )
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        does = [
            w
            for w, on in (
                ("v", row["records_v"]),
                ("export", row["exports"]),
                ("deploy", row["deploys"]),
            )
            if on
        ]
        state = "available" if row["available"] else f"not available: {row['unavailable_reason']}"
        say(f"{row['name']:<12} runs {row['runs']}; {', '.join(does) or 'spikes only'}; {state}")
