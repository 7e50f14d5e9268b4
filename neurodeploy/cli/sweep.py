"""``neurodeploy sweep``: seeds × settings of a config, each trial the deployment pipeline, on Ray."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from neurodeploy.cli._app import app, emit_json, say
from neurodeploy.errors import ConfigError

__all__ = ["sweep_command"]


def _choose_targets(targets: str | None) -> tuple[str, ...]:
    from neurodeploy.targets import get_target, target_names

    if targets is None:
        return tuple(target_names())
    if targets.strip() == "none":
        return ()
    names = tuple(t.strip() for t in targets.split(",") if t.strip())
    for name in names:
        get_target(name)  # an unknown name is one ConfigError line listing the known ones
    return names


def _choose_finetune(finetune: str, targets: tuple[str, ...], has_recipe: bool) -> tuple[str, ...]:
    if finetune == "auto":
        return targets if has_recipe else ()
    if finetune == "none":
        return ()
    names = tuple(t.strip() for t in finetune.split(",") if t.strip())
    unknown = [n for n in names if n not in targets]
    if unknown:
        raise ConfigError(f"--finetune {unknown[0]}: not one of --targets ({', '.join(targets)})")
    return names


def _table_columns(targets: tuple[str, ...], finetune: tuple[str, ...]) -> list[str]:
    columns = ["float_test"]
    for t in targets:
        if t in finetune:
            columns.append(f"{t}_tuned_float_test")
        columns += [f"{t}_test", f"{t}_gap_test"]
    columns.append("float_train")
    for t in targets:
        columns += [f"{t}_train", f"{t}_gap_train"]
    return [*columns, "time_s", "peak_mem_mb"]


@app.command("sweep")
def sweep_command(
    config: Annotated[Path, typer.Argument(help="Training config (TOML); see examples/*.toml.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="Sweep directory: trials/, results.{csv,json,png}; resumed."),
    ],
    seeds: Annotated[
        str, typer.Option("--seeds", help="Training seeds: 0-15, 0,3,5 or 0-3,8.")
    ] = "0",
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="Vary a config field over values: section.field=V1,V2 (TOML values; commas "
            "inside [...] stay: model.hidden=[128],[256]). Repeat for a product.",
        ),
    ] = None,
    sample: Annotated[
        list[str] | None,
        typer.Option(
            "--sample",
            help="Draw a field per setting: section.field=uniform:LO,HI | loguniform:LO,HI | "
            "randint:LO,HI | choice:V1,V2 (repeatable; --samples settings).",
        ),
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", min=1, help="Settings drawn from --sample.")
    ] = 8,
    sample_seed: Annotated[
        int, typer.Option("--sample-seed", help="Seed of the --sample draws (fixed: reruns match).")
    ] = 0,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config field in every trial: section.field=value."),
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option(help="Comma-separated targets to quantize for (default: all; none: float)."),
    ] = None,
    finetune: Annotated[
        str,
        typer.Option(
            help="Targets fine-tuned with the config's [finetune] recipe before quantizing: "
            "auto (all targets if the config has [finetune]), none, or a comma list."
        ),
    ] = "auto",
    sensitivity: Annotated[
        bool,
        typer.Option(
            "--sensitivity",
            help="Also run the float model under 1e-3 weight noise on the test data and count "
            "each target's changed decisions on borderline samples.",
        ),
    ] = False,
    address: Annotated[
        str | None,
        typer.Option(
            help="Join this Ray cluster (e.g. auto, or HEAD:6379 after `ray start --head`); "
            "default: a local Ray in this process."
        ),
    ] = None,
    cpus: Annotated[
        int | None, typer.Option(min=1, help="CPUs of the local Ray (default: all cores).")
    ] = None,
    cpus_per_trial: Annotated[
        int, typer.Option(min=1, help="CPUs per trial (its Numba threads).")
    ] = 1,
    best_by: Annotated[
        str | None,
        typer.Option(help="Metric naming the best setting (default: worst_target_test)."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (summary and rows).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Train, quantize, fine-tune and evaluate a config over seeds and settings, as Ray tasks.

    Each trial (one setting, one seed) writes OUT/trials/SETTING/seedN: the normal `train` output
    in float/ (and finetune_TARGET/), the hardware models and row.json. Rerunning the same
    command skips finished trials and resumes interrupted ones from their checkpoints; failed
    trials are reported and retried on the next run. Writes OUT/results.csv, OUT/results.json and
    OUT/results.png; exits with 1 when a trial failed.
    """
    from neurodeploy.cli import sweep_plan as plan
    from neurodeploy.cli.sweep_ray import run_trials, start_ray
    from neurodeploy.cli.sweep_results import summarize, summary_table, write_results
    from neurodeploy.files import output_dir_problem
    from neurodeploy.trainer.config import load_config

    # Everything is checked before Ray starts: options, output directory, the base config.
    line = output_dir_problem(out, "--out")
    if line:
        raise ConfigError(line)
    seed_list = plan.parse_seeds(seeds)
    settings = plan.combine(
        plan.grid_settings(grid or []),
        plan.sample_settings(sample, samples, sample_seed) if sample else [],
    )
    base = load_config(config, set_ or [])
    chosen = _choose_targets(targets)
    tuned = _choose_finetune(finetune, chosen, bool(base.finetune))
    best_by = best_by or ("worst_target_test" if chosen else "float_test")
    if address is None and cpus is not None and cpus_per_trial > cpus:
        raise ConfigError(f"--cpus-per-trial {cpus_per_trial} is more than --cpus {cpus}")
    specs = plan.plan_trials(
        config,
        out,
        seeds=seed_list,
        settings=settings,
        overrides=list(set_ or []),
        targets=chosen,
        finetune=tuned,
        sensitivity=sensitivity,
        cpus=cpus_per_trial,
    )
    started = start_ray(address, cpus)
    import ray

    try:
        available = ray.cluster_resources().get("CPU", 0)
        if cpus_per_trial > available:
            raise ConfigError(
                f"--cpus-per-trial {cpus_per_trial}: the Ray cluster has {available:g} CPUs"
            )
        rows = run_trials(specs, cpus_per_trial=cpus_per_trial, progress=not quiet)
    finally:
        if started:
            ray.shutdown()
    summary = summarize(rows, settings, best_by)
    varied = list(settings[0]) if settings else []
    document: dict[str, Any] = {
        "config": str(config),
        "overrides": list(set_ or []),
        "seeds": seed_list,
        "varied": varied,
        "targets": list(chosen),
        "finetune": list(tuned),
        "summary": summary,
    }
    write_results(out, rows, varied, document)
    written = [out / "results.csv", out / "results.json"]
    from neurodeploy.cli.sweep_plot import plot_sweep

    if plot_sweep(rows, summary, chosen, out / "results.png"):
        written.append(out / "results.png")
    if json_out:
        emit_json(document | {"rows": rows})
    else:
        say(summary_table(summary, _table_columns(chosen, tuned)))
        say("wrote " + ", ".join(str(p) for p in written))
    if summary["failed"]:
        print(
            f"{summary['failed']} of {summary['trials']} trials failed (rerun to retry them)",
            file=sys.stderr,
        )
        raise typer.Exit(1)
