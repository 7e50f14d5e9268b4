"""Accuracy on hardware versus float, over training seeds: a thin use of ``neurodeploy sweep``.

The README's deployment table is this sweep (per seed: train, quantize for Loihi 2 without
fine-tuning, fine-tune for SpiNNaker2 with the config's ``[finetune]`` recipe and quantize, classify
the test and training files with the float model and both bit-accurate emulators, and count on the
test file how many of each target's changed decisions are *borderline*: decided differently by the
float model itself under 1e-3 relative weight noise, :mod:`neurodeploy.sensitivity`)::

    neurodeploy sweep examples/spoken_digits.toml --seeds 0-15 --finetune spinnaker2 \\
        --sensitivity --out runs/deployment_gap_wn

This script runs exactly that command (trials in parallel on a local Ray, or on a cluster with
``--address``; a rerun skips finished seeds and resumes interrupted ones), then prints the table in
the README's layout from ``OUT/results.json``. On a 60-sample test file one sample is 1.7 points,
and a recurrent network's float accuracy already moves by a sample or two under noise far finer
than any weight grid; the mean over seeds is the number to compare with a target.

Run: ``python benchmarks/deployment_gap.py [--config examples/spoken_digits.toml] [--seeds 0-7]
[--set section.field=value ...] [--out runs/deployment_gap] [--address ADDR] [--cpus N] [--json]``.
Writes ``OUT/results.{csv,json,png}`` and ``OUT/trials/base/seedN/`` (see ``neurodeploy sweep``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np

from neurodeploy.cli import main as neurodeploy

ROWS = [
    ("float", "test", "float test"),
    ("loihi2", "test", "Loihi 2 emulator test"),
    ("spinnaker2_tuned_float", "test", "SpiNNaker2 fine-tuned float test"),
    ("spinnaker2", "test", "SpiNNaker2 emulator test"),
    ("float", "train", "float train"),
    ("loihi2", "train", "Loihi 2 emulator train"),
    ("spinnaker2", "train", "SpiNNaker2 emulator train"),
]


def sweep_argv(args: argparse.Namespace) -> list[str]:
    """The ``neurodeploy sweep`` command line this benchmark is."""
    argv = ["sweep", str(args.config), "--out", str(args.out), "--seeds", args.seeds]
    argv += ["--targets", "loihi2,spinnaker2", "--finetune", "spinnaker2", "--sensitivity"]
    for item in args.overrides:
        argv += ["--set", item]
    if args.address:
        argv += ["--address", args.address]
    if args.cpus:
        argv += ["--cpus", str(args.cpus)]
    return [*argv, "--json"]


def _mean_sem(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    sem = float(a.std(ddof=1) / np.sqrt(len(a))) if len(a) > 1 else 0.0
    return float(a.mean()), sem


def table(rows: list[dict]) -> str:
    """The README's layout: accuracies per seed with mean ± sem, gaps, borderline flips."""
    ok = [r for r in rows if r["status"] == "ok"]
    lines = [f"{'accuracy (%)':<34}" + "".join(f"{'s' + str(r['seed']):>7}" for r in ok)]
    lines[0] += f"{'mean':>8}{'± sem':>7}"
    for key, split, label in ROWS:
        values = [100 * r[f"{key}_{split}"] for r in ok]
        mean, sem = _mean_sem(values)
        lines.append(f"{label:<34}{''.join(f'{v:>7.1f}' for v in values)}{mean:>8.2f}{sem:>7.2f}")
    flips = "".join(
        f"{r['loihi2_flips_borderline_test']:>4}/{r['loihi2_flips_test']:<2}" for r in ok
    )
    lines.append(f"{'Loihi 2 test flips: borderline/all':<34}{flips}")
    for name, threshold in (("loihi2", -0.5), ("spinnaker2", -2.0)):
        for split in ("test", "train", "both"):
            if split == "both":  # both files together: decisions gained or lost over all samples
                gaps = [
                    sum(r[f"{name}_gap_{f}"] * r[f"n_{f}"] for f in ("test", "train"))
                    / (r["n_test"] + r["n_train"])
                    for r in ok
                ]
            else:
                gaps = [r[f"{name}_gap_{split}"] for r in ok]
            mean, sem = _mean_sem([100 * g for g in gaps])
            lines.append(
                f"{name} - float on {split}{' files' if split == 'both' else ''}: "
                f"{mean:+.2f} ± {sem:.2f} points (mean ± sem over {len(ok)} seeds)"
            )
        meets = sum(100 * r[f"{name}_gap_test"] >= threshold for r in ok)
        lines.append(f"seeds with {name} - float >= {threshold} on test: {meets} of {len(ok)}")
    failed = [r for r in rows if r["status"] != "ok"]
    lines += [f"failed: {r['trial']}: {r.get('error', '')}" for r in failed]
    return "\n".join(lines)


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
    parser.add_argument("--address", help="Ray cluster to run on (default: a local Ray)")
    parser.add_argument("--cpus", type=int, help="CPUs of the local Ray (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the sweep's JSON document")
    args = parser.parse_args(argv)
    argv = sweep_argv(args)
    print("neurodeploy " + " ".join(argv), file=sys.stderr)
    try:
        if args.json:
            neurodeploy(argv)  # prints the sweep's one JSON document; always exits
        else:
            with contextlib.redirect_stdout(io.StringIO()):  # the table below replaces it
                neurodeploy(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        if args.json or not (args.out / "results.json").is_file() or code not in (0, 1):
            return code
    rows = json.loads((args.out / "results.json").read_text())["rows"]
    print(table(rows))
    print(
        f"wrote {args.out / 'results.json'}, {args.out / 'results.csv'}, {args.out / 'results.png'}"
    )
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
