"""``neurodeploy import``: a NIR graph from any library → a float model file.

(The other direction is ``neurodeploy export MODEL.h5 --backend nir --out model.nir``.)
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from neurodeploy.backends.nir_import import CONVENTIONS, NirSemanticsWarning, import_nir
from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.files import write_network
from neurodeploy.readout import READOUTS
from neurodeploy.summary import summarize

__all__ = ["import_model"]


@app.command("import")
def import_model(
    model: Annotated[Path, typer.Argument(help="NIR file (.nir) written by any NIR exporter.")],
    out: Annotated[Path, typer.Option("--out", help="Float model file to write (.h5).")],
    dt_ms: Annotated[
        float | None,
        typer.Option(
            "--dt-ms",
            help="Time step in ms (NIR does not carry it). Default: the file's neurodeploy "
            "record, 0.1 for snnTorch files, the source dt for Norse files.",
        ),
    ] = None,
    convention: Annotated[
        str,
        typer.Option(
            "--convention",
            help=f"How the file was written: {', '.join(CONVENTIONS)} (auto detects snnTorch "
            "and Norse exports and says so).",
        ),
    ] = "auto",
    source_dt_s: Annotated[
        float | None,
        typer.Option("--source-dt-s", help="Norse files: the dt (s) the model ran at (1e-3)."),
    ] = None,
    readout: Annotated[
        str | None,
        typer.Option(
            "--readout",
            help=f"Decision rule ({', '.join(READOUTS)}); default first_spike for a spiking "
            "output, max_voltage otherwise.",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", help="NIR neuron node read as the output (default: the Output's)."
        ),
    ] = None,
    classes: Annotated[
        int | None,
        typer.Option("--classes", min=1, help="Number of classes (checked: the output's size)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Import a NIR graph (LIF, CubaLIF, LI, CubaLI, IF, Linear, Affine, Scale, Delay) as a
    float model; see docs/nir.md for how each node becomes the canonical step."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NirSemanticsWarning)
        result = import_nir(
            model,
            dt_ms=dt_ms,
            convention=convention,
            source_dt_s=source_dt_s,
            readout=readout,
            output=output,
            n_classes=classes,
        )
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    path = write_network(result.network, out)
    net = result.network
    document = {
        "model": str(model),
        "out": str(path),
        "convention": result.convention,
        "dt_ms": net.dt_ms,
        "readout": net.readout,
        "output": net.output_population,
        "warnings": result.warnings,
        "summary": summarize(net),
    }
    if as_json:
        emit_json(document)
        return
    sizes = ", ".join(f"{p.name}:{p.kind}[{p.size}]" for p in net.populations)
    say(f"imported {model} ({result.convention} convention, dt {net.dt_ms:g} ms): {sizes}")
    say(f"  readout {net.readout} on {net.output_population}; wrote {path}")
