"""``neurodeploy train`` and ``neurodeploy evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.errors import ConfigError

__all__ = ["evaluate_model", "train_command"]

BACKENDS = ("float", "emulator", "lava")


@app.command("train")
def train_command(
    config: Annotated[Path, typer.Argument(help="Training config (TOML); see examples/*.toml.")],
    out: Annotated[
        Path, typer.Option("--out", help="Run directory (resumed if it has checkpoints).")
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config field: section.field=value (TOML value)."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the final metrics as JSON.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Train a spiking network with EventProp; writes OUT/model.h5, checkpoints, metrics, curve."""
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.loop import load_data, train

    cfg = load_config(config, set_ or [])
    data = load_data(cfg)  # every data problem fails here, before training starts
    network = train(cfg, out, progress=not quiet, data=data)
    metrics = dict(network.metadata.get("metrics", {}))
    if json_out:
        emit_json({"model": str(out / "model.h5"), **metrics})
    else:
        parts = [f"{k} {100 * v:.2f} %" for k, v in metrics.items() if k.endswith("accuracy")]
        say(f"wrote {out / 'model.h5'}: " + ", ".join(parts))


def evaluate_model(
    model: Path, data: str, *, backend: str = "float", batch_size: int = 128
) -> dict:
    """Accuracy of a model file on a dataset spec, by the model's readout rule.

    Backends are chosen in :func:`_recordings`; the decision is always
    :func:`neurodeploy.readout.predict` with the rule named in the model's metadata.
    """
    from neurodeploy.data import load_dataset
    from neurodeploy.files import read_network
    from neurodeploy.readout import check_readout, predict

    network = read_network(model)
    readout = check_readout(str(network.metadata.get("readout", "")))
    config = network.metadata.get("config", {})
    data_cfg = config.get("data", {}) if isinstance(config, dict) else {}
    t_max = data_cfg.get("t_max_ms") or None
    options = (
        data_cfg.get("options", {})
        if spec_kind(data) == spec_kind(str(data_cfg.get("train", "")))
        else {}
    )
    ds = load_dataset(
        data, dt_ms=network.dt_ms, t_max_ms=t_max, seed=int(data_cfg.get("seed", 0)), **options
    )
    spikes = ds.spikes
    inputs = network.inputs
    if len(inputs) != 1:
        raise ConfigError(f"{model}: evaluate needs exactly one input population")
    if spikes.n_events and int(spikes.units.max()) >= inputs[0].size:
        raise ConfigError(
            f"{data}: spike unit {int(spikes.units.max())} is beyond the model's {inputs[0].size} inputs"
        )
    if spikes.n_channels != inputs[0].size:
        from neurodeploy.spikes import SpikeData

        spikes = SpikeData(
            spikes.steps,
            spikes.units,
            spikes.offsets,
            spikes.labels,
            inputs[0].size,
            spikes.n_steps,
        )
    out_name = [p.name for p in network.populations if p.kind != "input"][-1]
    v_scale = network.population(out_name).v_scale
    chunks = _recordings(backend, network, spikes, out_name, batch_size)
    predicted = np.full(len(spikes), -1, dtype=np.int64)
    for idx, rec in chunks:
        predicted[idx] = predict(rec[out_name], readout, v_scale)
    correct = int((predicted == spikes.labels).sum())
    return {
        "accuracy": correct / len(spikes),
        "n": len(spikes),
        "correct": correct,
        "readout": readout,
        "backend": backend,
        "data": ds.name,
    }


def _recordings(backend: str, network, spikes, out_name: str, batch_size: int):
    """Yield ``(sample_index, recording)`` chunks of the readout population from ``backend``.

    This is the one place a backend plugs into ``evaluate``: ``float`` simulates a float model
    (the trainer's forward kernel), ``emulator`` runs a hardware model through
    :func:`neurodeploy.emulator.run`. ``lava`` is still to be wired (the Lava backend's ``run``
    yields the same :class:`~neurodeploy.records.Recording`).
    """
    if backend == "float":
        from neurodeploy.trainer.simulate import iter_recordings

        yield from iter_recordings(network, spikes, populations=[out_name], batch_size=batch_size)
    elif backend == "emulator":
        from neurodeploy.emulator import run

        if not network.is_hardware:
            raise ConfigError(
                "--backend emulator needs a hardware model (run neurodeploy quantize first)"
            )
        for start in range(0, len(spikes), batch_size):
            idx = np.arange(start, min(start + batch_size, len(spikes)))
            yield idx, run(network, spikes.subset(idx), record_v=True)
    else:
        raise ConfigError(
            f"backend {backend!r} is not wired into evaluate yet; available: float, emulator"
        )


def spec_kind(spec: str) -> str:
    return spec.partition(":")[0].strip().lower()


@app.command("evaluate")
def evaluate_command(
    model: Annotated[Path, typer.Argument(help="Model file (.h5).")],
    data: Annotated[
        str, typer.Option("--data", help="Dataset spec, e.g. yinyang:test or shd:PATH.")
    ],
    backend: Annotated[
        str, typer.Option("--backend", help=f"One of {', '.join(BACKENDS)}.")
    ] = "float",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (accuracy, n).")
    ] = False,
) -> None:
    """Accuracy of MODEL on a dataset, classified by the readout rule in its metadata."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    result = evaluate_model(model, data, backend=backend)
    if json_out:
        emit_json(result)
    else:
        say(
            f"{result['data']}: accuracy {100 * result['accuracy']:.2f} % ({result['correct']}/{result['n']}), "
            f"readout {result['readout']}, backend {result['backend']}"
        )
