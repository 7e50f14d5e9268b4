"""Accuracy on hardware versus float, over training seeds: the deployment targets of a config.

For each seed: train the config (resumed when the run exists), quantize for Loihi 2 without
fine-tuning, fine-tune for SpiNNaker2 with the config's ``[finetune]`` recipe and quantize, then
classify the test file and the training file with the float model and with both bit-accurate
emulators. On the test file it also runs the float model under 1e-3 relative weight noise
(:mod:`neurodeploy.sensitivity`) and counts how many of the samples the Loihi 2 model decides
differently are *borderline*, i.e. decided differently by the float model itself under that noise.

On a 60-sample test file one sample is 1.7 points, and a recurrent network's float accuracy
already moves by a sample or two under noise far finer than any weight grid; the mean over seeds
is the number to compare with a target.

Run: ``python benchmarks/deployment_gap.py [--config examples/spoken_digits.toml] [--seeds 0-7]
[--set section.field=value ...] [--out runs/deployment_gap] [--json]``; a rerun reuses the trained
and fine-tuned models found in OUT. Writes ``OUT/deployment_gap.{json,png}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from neurodeploy.cli.pipeline import finetune_for_target
from neurodeploy.data import model_dataset
from neurodeploy.evaluation import evaluate
from neurodeploy.files import atomic_path, read_network, write_network
from neurodeploy.quantize import quantize
from neurodeploy.sensitivity import sensitivity
from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.loop import train

ROWS = [
    ("float", "test", "float test"),
    ("loihi2", "test", "Loihi 2 emulator test"),
    ("spinnaker2_float", "test", "SpiNNaker2 fine-tuned float test"),
    ("spinnaker2", "test", "SpiNNaker2 emulator test"),
    ("float", "train", "float train"),
    ("loihi2", "train", "Loihi 2 emulator train"),
    ("spinnaker2", "train", "SpiNNaker2 emulator train"),
]


def seeds(text: str) -> list[int]:
    """``"0-7"`` or ``"0,3,5"`` → list of ints."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def one_seed(config_path: Path, seed: int, out: Path, overrides: list[str]) -> dict:
    config = load_config(config_path, [*overrides, f"train.seed={seed}"])
    path = out / f"seed{seed}"
    model = (
        read_network(path / "float" / "model.h5")
        if (path / "float" / "model.h5").is_file()
        else train(config, path / "float", progress=False)
    )
    files = {
        name: model_dataset(spec, model).spikes
        for name, spec in [("test", config.data.test), ("train", config.data.train)]
    }
    loihi = quantize(model, "loihi2", calibration=files["train"], sensitivity_draws=0).hardware
    write_network(loihi, path / "loihi2.h5")
    tuned_path = path / "finetune_spinnaker2" / "model.h5"
    tuned = (
        read_network(tuned_path)
        if tuned_path.is_file()
        else finetune_for_target(
            config.for_finetuning(), model, "spinnaker2", tuned_path.parent, progress=False
        )
    )
    spinnaker = quantize(
        tuned, "spinnaker2", calibration=files["train"], sensitivity_draws=0
    ).hardware
    write_network(spinnaker, path / "spinnaker2.h5")
    result: dict = {"seed": seed}
    for name, spikes in files.items():
        runs = {
            "float": evaluate(model, spikes),
            "loihi2": evaluate(loihi, spikes, backend="emulator"),
            "spinnaker2_float": evaluate(tuned, spikes),
            "spinnaker2": evaluate(spinnaker, spikes, backend="emulator"),
        }
        result[name] = {k: v.accuracy for k, v in runs.items()} | {"n": len(spikes)}
        if name == "test":
            noise = sensitivity(model, spikes)
            flips = runs["float"].predicted != runs["loihi2"].predicted
            result[name]["loihi2_flips"] = int(flips.sum())
            result[name]["loihi2_flips_borderline"] = int((flips & noise.borderline).sum())
            result[name]["float_noise"] = noise.to_json()
    return result


def summarize(results: list[dict]) -> dict:
    """Mean and standard error over seeds of every accuracy and of the gaps to float."""
    out: dict = {}
    for key, split, _ in ROWS:
        values = np.array([r[split][key] for r in results])
        out[f"{split}/{key}"] = _mean_sem(values)
    for key in ("loihi2", "spinnaker2"):
        for split in ("test", "train"):
            gap = np.array([r[split][key] - r[split]["float"] for r in results])
            out[f"{split}/{key}_minus_float"] = _mean_sem(gap)
    for key in ("loihi2", "spinnaker2"):
        # Both files together: correct decisions gained or lost over all their samples.
        gap = np.array(
            [
                sum((r[f][key] - r[f]["float"]) * r[f]["n"] for f in ("test", "train"))
                / sum(r[f]["n"] for f in ("test", "train"))
                for r in results
            ]
        )
        out[f"both/{key}_minus_float"] = _mean_sem(gap)
    out["test/float_under_noise"] = _mean_sem(
        np.array([r["test"]["float_noise"]["accuracy_under_noise"]["mean"] for r in results])
    )
    out["test/loihi2_flips"] = int(sum(r["test"]["loihi2_flips"] for r in results))
    out["test/loihi2_flips_borderline"] = int(
        sum(r["test"]["loihi2_flips_borderline"] for r in results)
    )
    return out


def _mean_sem(values: np.ndarray) -> dict:
    sem = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "sem": sem}


def print_table(results: list[dict], summary: dict) -> None:
    header = f"{'accuracy (%)':<34}" + "".join(f"{'s' + str(r['seed']):>7}" for r in results)
    print(header + f"{'mean':>8}{'± sem':>7}")
    for key, split, label in ROWS:
        cells = "".join(f"{100 * r[split][key]:>7.1f}" for r in results)
        s = summary[f"{split}/{key}"]
        print(f"{label:<34}{cells}{100 * s['mean']:>8.2f}{100 * s['sem']:>7.2f}")
    flips = "".join(
        f"{r['test']['loihi2_flips_borderline']:>4}/{r['test']['loihi2_flips']:<2}" for r in results
    )
    print(f"{'Loihi 2 test flips: borderline/all':<34}{flips}")
    for name in ("loihi2", "spinnaker2"):
        for split in ("test", "train", "both"):
            s = summary[f"{split}/{name}_minus_float"]
            print(
                f"{name} - float on {split}{' files' if split == 'both' else ''}: "
                f"{100 * s['mean']:+.2f} ± {100 * s['sem']:.2f} points (mean ± sem over seeds)"
            )


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    jitter = np.linspace(-0.15, 0.15, len(results))  # one x offset per seed
    for ax, split in zip(axes, ("test", "train"), strict=True):
        for i, key in enumerate(("float", "loihi2", "spinnaker2")):
            values = [100 * r[split][key] for r in results]
            ax.scatter(i + jitter, values, zorder=2)
            ax.hlines(np.mean(values), i - 0.25, i + 0.25, color="k")
            ax.text(i, np.mean(values), f" {np.mean(values):.1f}", va="bottom", ha="center")
        for j in range(len(results)):
            ax.plot(
                np.arange(3) + jitter[j],
                [100 * results[j][split][k] for k in ("float", "loihi2", "spinnaker2")],
                color="0.8",
                lw=0.8,
                zorder=0,
            )
        ax.set_xticks([0, 1, 2], ["float", "Loihi 2 emulator", "SpiNNaker2 emulator"])
        ax.set_title(f"{split} file, {len(results)} seeds (lines: one seed)")
    axes[0].set_ylabel("accuracy (%)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("examples/spoken_digits.toml"))
    parser.add_argument("--seeds", default="0-7")
    parser.add_argument("--out", type=Path, default=Path("runs/deployment_gap"))
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        help="config override section.field=value, as for `neurodeploy train` (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for seed in seeds(args.seeds):
        print(f"seed {seed} ...", file=sys.stderr, flush=True)
        results.append(one_seed(args.config, seed, args.out, args.overrides))
    summary = summarize(results)
    report = {
        "config": str(args.config),
        "overrides": args.overrides,
        "seeds": results,
        "summary": summary,
    }
    with atomic_path(args.out / "deployment_gap.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    plot(results, args.out / "deployment_gap.png")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(results, summary)
        print(f"wrote {args.out / 'deployment_gap.json'} and {args.out / 'deployment_gap.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
