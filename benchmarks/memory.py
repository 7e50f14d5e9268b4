"""Peak resident memory of each command a new user runs on the spoken-digit files.

Every command runs as a fresh ``neurodeploy`` process; its peak resident set size comes from the
kernel (``os.wait4``'s rusage, ``ru_maxrss``), so it includes the interpreter, NumPy, Numba and
the loaded data. The commands, in order:

- ``train``: a float model for a couple of epochs (skipped with ``--model``);
- ``quantize`` for loihi2 and for spinnaker2 (``--on-overflow clamp``: the model's delays reach 62
  steps, SpiNNaker2's 7), calibrated on the training file, with the report and its 8 noise draws;
- ``quantize`` for loihi2 calibrated on the first 50 training samples only: with calibration
  streamed in batches its peak is the same as with all 220 (``calibration_ratio``, full / 50);
- ``train --finetune`` for spinnaker2, a couple of epochs;
- ``evaluate`` of the float model (float simulation) and of both hardware models (emulator) on
  the training file (220 samples, the larger one).

Run from the repository root: ``python benchmarks/memory.py [--model MODEL.h5] [--json]``.
Files go to ``--workdir`` (a temporary directory by default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "from neurodeploy.cli import main; main()"


def peak_mb(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """Run ``neurodeploy ARGS``; return (peak resident MB, wall seconds, exit status)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr = proc.stderr.read() if proc.stderr is not None else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    # ru_maxrss is in KiB on Linux.
    return usage.ru_maxrss / 1024.0, time.perf_counter() - start, proc.returncode


def commands(args: argparse.Namespace, work: Path) -> list[tuple[str, list[str]]]:
    train = f"shd:{args.train}"
    model = str(args.model) if args.model else str(work / "float" / "model.h5")
    runs: list[tuple[str, list[str]]] = []
    if not args.model:
        runs.append(
            (
                "train",
                [
                    "train",
                    args.config,
                    "--out",
                    str(work / "float"),
                    "--quiet",
                    "--set",
                    f"train.epochs={args.epochs}",
                ],
            )
        )
    runs += [
        (
            "quantize loihi2",
            [
                "quantize", model, "--target", "loihi2", "--out", str(work / "loihi2.h5"),
                "--calibration", train,
            ],
        ),
        (
            "quantize spinnaker2",
            [
                "quantize", model, "--target", "spinnaker2", "--on-overflow", "clamp",
                "--out", str(work / "spinnaker2.h5"), "--calibration", train,
            ],
        ),
        (
            "quantize loihi2, 50 samples",
            [
                "quantize", model, "--target", "loihi2", "--out", str(work / "loihi2_50.h5"),
                "--calibration", train, "--calibration-samples", "50",
            ],
        ),
        (
            "finetune spinnaker2",
            [
                "train", args.config, "--finetune", model, "--target", "spinnaker2",
                "--out", str(work / "finetune"), "--quiet",
                "--set", f"finetune.epochs={args.epochs}",
            ],
        ),
        ("evaluate float", ["evaluate", model, "--data", train, "--backend", "float"]),
        (
            "evaluate loihi2 emulator",
            ["evaluate", str(work / "loihi2.h5"), "--data", train, "--backend", "emulator"],
        ),
        (
            "evaluate spinnaker2 emulator",
            ["evaluate", str(work / "spinnaker2.h5"), "--data", train, "--backend", "emulator"],
        ),
    ]  # fmt: skip
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="examples/spoken_digits.toml")
    ap.add_argument("--train", default="../shared/data/spoken_digits_train.h5")
    ap.add_argument("--model", type=Path, help="trained float model (default: train one)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs of training and fine-tuning")
    ap.add_argument("--workdir", type=Path, help="where models and reports go (default: temp)")
    ap.add_argument("--only", nargs="*", help="run only the commands whose names start so")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    root = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="nd_memory_") as tmp:
        work = (args.workdir or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for name, cmd in commands(args, work):
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            mb, seconds, rc = peak_mb(cmd, root)
            rows.append({"command": name, "peak_mb": round(mb, 1), "seconds": round(seconds, 1)})
            if rc != 0:
                rows[-1]["exit_status"] = rc
            if not args.json:
                print(f"{name:<32} {mb:8.1f} MB  {seconds:7.1f} s" + (f"  exit {rc}" if rc else ""))
    result: dict = {"runs": rows}
    peaks = {r["command"]: r["peak_mb"] for r in rows}
    if "quantize loihi2" in peaks and "quantize loihi2, 50 samples" in peaks:
        result["calibration_ratio"] = round(
            peaks["quantize loihi2"] / peaks["quantize loihi2, 50 samples"], 3
        )
    if args.json:
        print(json.dumps(result, indent=2))
    elif "calibration_ratio" in result:
        print(f"peak with 220 / with 50 calibration samples: {result['calibration_ratio']}")


if __name__ == "__main__":
    main()
