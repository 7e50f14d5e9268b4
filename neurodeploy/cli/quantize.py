"""``neurodeploy quantize``: map a float model onto a hardware profile, with a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.data import model_dataset
from neurodeploy.errors import ConfigError
from neurodeploy.files import read_network, write_network


@app.command()
def quantize(
    model: Annotated[
        Path, typer.Argument(help="Float model (.h5) written by `neurodeploy train`.")
    ],
    target: Annotated[str, typer.Option(help="Hardware profile: loihi2 or spinnaker2.")],
    out: Annotated[Path, typer.Option(help="Hardware model to write (.h5).")],
    calibration: Annotated[
        str | None,
        typer.Option(help="Dataset spec to calibrate on and report with, e.g. yinyang:validation."),
    ] = None,
    calibration_samples: Annotated[
        int, typer.Option(min=1, help="Calibration samples used.")
    ] = 500,
    on_overflow: Annotated[
        str, typer.Option(help="Delays beyond the target's range: error or clamp.")
    ] = "error",
    sensitivity_draws: Annotated[
        int,
        typer.Option(
            min=0,
            help="Float runs under 1e-3 weight noise that mark borderline samples (0: none).",
        ),
    ] = 8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report summary as JSON.")
    ] = False,
) -> None:
    """Quantize MODEL for TARGET; writes OUT plus OUT-stem.quantization.{json,png} beside it."""
    from neurodeploy.files import output_file_problem
    from neurodeploy.quantize import quantize as run_quantize
    from neurodeploy.quantize.report import write_report

    stem = f"{out.stem}.quantization"
    problems = [output_file_problem(out, "--out")]
    problems += [output_file_problem(out.parent / f"{stem}.{ext}") for ext in ("json", "png")]
    lines = [line for line in problems if line]
    if lines:
        raise ConfigError(lines[0])
    network = read_network(model)
    data = None
    if calibration is not None:
        data = model_dataset(calibration, network, max_samples=calibration_samples).spikes
    result = run_quantize(
        network,
        target,
        calibration=data,
        on_overflow=on_overflow,
        sensitivity_draws=sensitivity_draws,
    )
    write_network(result.hardware, out)
    files = write_report(result.report, out.parent, stem=stem)
    summary = result.report["summary"]
    if as_json:
        emit_json(summary | {"model": str(out), "report": [str(f) for f in files]})
        return
    say(f"wrote {out} ({target}); report {files[0]} and {files[1]}")
    for name, layer in result.report["layers"].items():
        line = f"  {name:<10} {layer['population'].describe()}"
        if "spikes_per_sample" in layer:
            s = layer["spikes_per_sample"]
            line += f"  spikes/sample float {s['float']:.1f} emulated {s['emulated']:.1f}"
        first = layer.get("divergence", {}).get("first_spike_mismatch_ms")
        if first is not None:
            n = layer["divergence"]["samples_with_spike_mismatch"]
            line += (
                f"; first spike difference at {first:g} ms (median over the {n} samples with one)"
            )
        say(line)
        for pname, d in layer["incoming"].items():
            say(
                f"    {pname:<22} scale {d.weight_scale:.4g}  clipped {d.weights_clipped_pct:.2f}%  "
                f"rms err {100 * d.weight_rms_error_rel:.2f}% of max|w|  delays clamped {d.delays_clamped}"
            )
    if "float_accuracy" in summary:
        say(
            f"accuracy on {summary['calibration_samples']} calibration samples: float "
            f"{summary['float_accuracy']:.2%}, emulated {summary['emulated_accuracy']:.2%}"
        )
    if "float_noise" in summary:
        band = summary["float_noise"]["accuracy_under_noise"]
        say(
            f"  {summary['prediction_flips']} decisions changed, "
            f"{summary['flips_on_borderline_samples']} of them on borderline samples (the float "
            f"model itself changes them under 1e-3 weight noise; float accuracy under that noise "
            f"{band['min']:.2%}-{band['max']:.2%})"
        )
