"""``neurodeploy verify``: does a backend reproduce the bit-accurate emulator?"""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from tqdm import tqdm

from neurodeploy.backend import ANY_HARDWARE, FLOAT, Backend, get_backend
from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.errors import ConfigError
from neurodeploy.files import read_network
from neurodeploy.targets import target_names
from neurodeploy.validation import not_runnable
from neurodeploy.verification import check_agreement, random_inputs, random_networks


@app.command()
def verify(
    model: Annotated[
        Path | None, typer.Argument(help="Hardware model to check (omit with --random-networks).")
    ] = None,
    against: Annotated[str, typer.Option(help="Backend to compare with the emulator.")] = "lava",
    random_networks_count: Annotated[
        int,
        typer.Option(
            "--random-networks",
            min=0,
            help="Check N random networks of the --against backend's profile.",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed for networks and inputs.")] = 0,
    samples: Annotated[int, typer.Option(min=1, help="Random input samples per network.")] = 2,
    steps: Annotated[int, typer.Option(min=1, help="Time steps per sample.")] = 64,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Board results (HDF5 from the SpiNNaker2 runner) to compare with the emulator."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Compare the emulator with a backend (spikes and v at every step), or board results with it.

    Exit code 0 only with no mismatch.
    """
    if results is not None:
        _verify_board_results(model, results, as_json)
    if (model is None) == (random_networks_count == 0):
        raise ConfigError("verify: give either a MODEL file or --random-networks N (N >= 1)")
    backend = get_backend(against)
    if model is not None:
        network = read_network(model)
        if network.profile is None:
            raise ConfigError(
                f"{model}: "
                + not_runnable(
                    "verify",
                    "hardware models (it compares a target's emulator with a backend)",
                    network,
                )
            )
        rng = np.random.default_rng(seed)
        cases = iter(
            [(str(model), network, random_inputs(rng, network, n_samples=samples, n_steps=steps))]
        )
        total = 1
    else:
        profiles = _profiles(backend)
        cases = chain.from_iterable(
            random_networks(
                seed, random_networks_count, n_steps=steps, n_samples=samples, profile=profile
            )
            for profile in profiles
        )
        total = random_networks_count * len(profiles)
    with tqdm(total=total, desc=f"emulator vs {against}", unit="net", disable=as_json) as bar:
        report = check_agreement(cases, backend.run, against=against, progress=bar.update)
    document = report.to_json() | {"seed": seed}
    if as_json:
        emit_json(document)
    else:
        say(
            f"{report.networks} networks, {report.samples} samples, {report.steps} sample-steps, "
            f"{report.spikes} spikes compared: {len(report.mismatches)} mismatches"
        )
        for m in report.mismatches[:1]:
            say(f"first mismatch: network {m['network']}: {m['text']}")
    raise typer.Exit(0 if report.ok else 1)


def _profiles(backend: Backend) -> list[str]:
    """The hardware profiles to draw random networks for: those ``backend`` names, or every
    registered target when it runs any."""
    named = sorted(backend.capabilities.profiles - {FLOAT, ANY_HARDWARE})
    return named or target_names()


def _verify_board_results(model: Path | None, results: Path, as_json: bool) -> None:
    """Compare a board's recorded results with the emulator on the inputs the board ran."""
    from neurodeploy.backends.spinnaker2_results import compare_results

    if model is None:
        raise ConfigError("verify --results needs the hardware MODEL the board ran")
    comparison = compare_results(read_network(model), results)
    if as_json:
        emit_json(comparison.to_json())
    else:
        say(comparison.summary())
    raise typer.Exit(0 if comparison.ok else 1)
