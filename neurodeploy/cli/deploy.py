"""``neurodeploy export`` and ``neurodeploy deploy``: hand a hardware model to a backend."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from neurodeploy.backend import check_accepts, get_backend, require_available
from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.errors import ConfigError
from neurodeploy.files import read_network
from neurodeploy.network import Network
from neurodeploy.spikes import SpikeData

__all__ = ["deploy", "export"]

_DataOpt = Annotated[
    str | None,
    typer.Option(
        "--data", help="Dataset spec of the samples to run, e.g. yinyang:test or shd:PATH."
    ),
]
_SamplesOpt = Annotated[
    int | None,
    typer.Option("--samples", min=1, help="Use the first K samples of --data (default: all)."),
]
_JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _load_inputs(network: Network, data: str | None, samples: int | None) -> SpikeData | None:
    """The first ``samples`` samples of dataset ``data`` as the model saw its data, or None."""
    if data is None:
        if samples is not None:
            raise ConfigError("--samples needs --data")
        return None
    from neurodeploy.data import model_dataset

    return model_dataset(data, network, max_samples=samples).spikes


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="Hardware model file (.h5).")],
    backend: Annotated[
        str, typer.Option("--backend", help="Registered backend, e.g. lava or spinnaker2.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the backend's files into.")],
    data: _DataOpt = None,
    samples: _SamplesOpt = None,
    as_json: _JsonOpt = False,
) -> None:
    """Write what a backend's toolchain loads (for spinnaker2: a deploy bundle with a runner script)."""
    network = read_network(model)
    target = get_backend(backend)
    if not target.capabilities.exports:
        raise ConfigError(
            f"backend {backend} writes no files; pick one that exports (lava, spinnaker2)"
        )
    check_accepts(target, network, str(model))
    inputs = _load_inputs(network, data, samples)
    if inputs is not None and not target.capabilities.exports_inputs:
        raise ConfigError(f"backend {backend} exports no input samples; drop --data")
    kwargs = {"inputs": inputs} if inputs is not None else {}
    files = target.export(network, out, **kwargs)
    document = {
        "backend": backend,
        "out": str(out),
        "files": [str(f) for f in files],
        "samples": None if inputs is None else len(inputs),
    }
    if as_json:
        emit_json(document)
        return
    say(f"{backend}: wrote {len(files)} files to {out}")
    for f in files:
        say(f"  {f}")


@app.command()
def deploy(
    model: Annotated[Path, typer.Argument(help="Hardware model file (.h5).")],
    host: Annotated[str, typer.Option("--host", help="Ethernet IP address of the board.")],
    backend: Annotated[str, typer.Option("--backend", help="Board backend.")] = "spinnaker2",
    data: _DataOpt = None,
    samples: _SamplesOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Bundle folder (default: MODEL's name + _<backend>)."),
    ] = None,
    sys_tick: Annotated[
        float | None, typer.Option("--sys-tick", min=0.0, help="Seconds per tick on the board.")
    ] = None,
    no_voltages: Annotated[bool, typer.Option("--no-voltages", help="Record spikes only.")] = False,
    as_json: _JsonOpt = False,
) -> None:
    """Export the bundle, run every sample on the board, and compare the board with the emulator.
    Exit code 0 only if spikes and v (at non-spiking ticks) agree bit for bit."""
    target = get_backend(backend)
    if not target.capabilities.deploys:
        raise ConfigError(f"backend {backend} cannot deploy to a board; use `neurodeploy export`")
    require_available(target)
    if data is None:
        raise ConfigError("deploy needs the samples to run: --data SPEC")
    network = read_network(model)
    check_accepts(target, network, str(model))
    inputs = _load_inputs(network, data, samples)
    assert inputs is not None
    out = out or model.with_name(f"{model.stem}_{backend}")

    def progress(message: str) -> None:
        if not as_json:
            print(message, file=sys.stderr)

    results = target.deploy(
        network,
        out,
        inputs,
        host=host,
        sys_tick_in_s=sys_tick,
        record_v=not no_voltages,
        log=progress,
    )
    report = target.compare(network, results, inputs)
    if as_json:
        emit_json({"bundle": str(out), "results": str(results)} | report.to_json())
    else:
        say(f"bundle: {out}\nresults: {results}")
        say(report.summary())
    raise typer.Exit(0 if report.ok else 1)
