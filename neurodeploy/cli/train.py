"""``neurodeploy train`` and ``neurodeploy evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.errors import ConfigError

__all__ = ["evaluate_model", "train_command"]


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
    finetune: Annotated[
        Path | None,
        typer.Option(
            help="Fine-tune this trained float model for --target instead of training anew."
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Hardware profile whose precision --finetune trains in.")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the final metrics as JSON.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="Start OUT over: discard its checkpoints, metrics and model instead of resuming.",
        ),
    ] = False,
) -> None:
    """Train a spiking network; writes OUT/model.h5, checkpoints, metrics, curve.

    The gradient engine is the config's train.method: eventprop (exact event-based gradients,
    learnable delays; the default) or bptt (backpropagation through time with the pseudo-derivative
    train.surrogate; delays fixed). Same config, loop and model file either way.

    With --finetune MODEL --target PROFILE, training continues from MODEL with the forward pass in
    the target's precision (weights on its grid, integer delays in its range, its decays), with
    straight-through gradients, and with the CONFIG's [finetune] fields in place of its [train] ones.
    """
    from neurodeploy.files import output_dir_problem
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.data import load_data
    from neurodeploy.trainer.loop import prepare_run_dir, train

    # Everything is checked before any work: options, output directory, config, data, model.
    if (finetune is None) != (target is None):
        raise ConfigError("--finetune MODEL and --target PROFILE go together")
    line = output_dir_problem(out, "--out")
    if line:
        raise ConfigError(line)
    cfg = load_config(config, set_ or [])
    if finetune is not None:
        cfg = cfg.for_finetuning()
    data = load_data(cfg)  # every data problem fails here, before training starts
    if finetune is not None:
        from neurodeploy.cli.pipeline import finetune_for_target
        from neurodeploy.files import read_network
        from neurodeploy.targets import get_target

        get_target(target)
        model = read_network(finetune)
        if restart:
            prepare_run_dir(out, restart=True)
        network = finetune_for_target(cfg, model, target, out, progress=not quiet, data=data)
    else:
        network = train(cfg, out, progress=not quiet, data=data, restart=restart)
    metrics = dict(network.metadata.get("metrics", {}))
    if json_out:
        emit_json({"model": str(out / "model.h5"), **metrics})
    else:
        parts = [f"{k} {100 * v:.2f} %" for k, v in metrics.items() if k.endswith("accuracy")]
        say(f"wrote {out / 'model.h5'}: " + ", ".join(parts))


def evaluate_model(
    model: Path, data: str, *, backend: str = "float", max_samples: int | None = None
) -> dict:
    """Accuracy of a model file on a dataset spec, by the model's readout rule, on ``backend``
    (float simulation, the bit-accurate emulator, or a registered backend such as lava)."""
    from tqdm import tqdm

    from neurodeploy.data import model_dataset
    from neurodeploy.evaluation import evaluate
    from neurodeploy.files import read_network

    network = read_network(model)
    dataset = model_dataset(data, network, max_samples=max_samples)
    with tqdm(total=len(dataset), desc=f"evaluate ({backend})", unit="sample", disable=None) as bar:
        result = evaluate(network, dataset.spikes, backend=backend, progress=bar.update)
    return result.to_json() | {"data": dataset.name}


@app.command("evaluate")
def evaluate_command(
    model: Annotated[Path, typer.Argument(help="Model file (.h5), float or hardware.")],
    data: Annotated[
        str, typer.Option("--data", help="Dataset spec, e.g. yinyang:test or shd:PATH.")
    ],
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="A registered backend: float, emulator, lava, ... (`neurodeploy backends` lists them).",
        ),
    ] = "float",
    samples: Annotated[
        int | None, typer.Option(min=1, help="Evaluate the first N samples only.")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (accuracy, n).")
    ] = False,
) -> None:
    """Accuracy of MODEL on a dataset, classified by the readout rule in its metadata.

    --backend float simulates the float model (a hardware model is dequantized first); emulator
    runs the bit-accurate emulator of a hardware model's profile; lava runs Lava's fixed-point
    simulator (Loihi 2 models).
    """
    result = evaluate_model(model, data, backend=backend, max_samples=samples)
    if json_out:
        emit_json(result)
    else:
        say(
            f"{result['data']}: accuracy {100 * result['accuracy']:.2f} % ({result['correct']}/{result['n']}), "
            f"readout {result['readout']}, backend {result['backend']}"
        )
