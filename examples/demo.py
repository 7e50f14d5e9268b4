"""The main job (`make demo`): the whole neurodeploy pipeline on Yin-Yang, in a few minutes.

train (EventProp) → quantize for Loihi 2 → fine-tune and quantize for SpiNNaker2 → export both →
evaluate float, Loihi 2 emulator, Lava's fixed-point simulator (a test subset) and SpiNNaker2
emulator → check emulator == Lava bit for bit → summary table, ``runs/demo/summary.json`` and PNGs.

Rerunning resumes: training and fine-tuning continue from their checkpoints.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from neurodeploy.backends import get_backend
from neurodeploy.data import model_dataset
from neurodeploy.emulator import run as emulate
from neurodeploy.evaluation import evaluate, output_population
from neurodeploy.files import atomic_path, write_network
from neurodeploy.quantize import quantize
from neurodeploy.quantize.report import write_report
from neurodeploy.readout import accuracy, predict
from neurodeploy.records import first_mismatch
from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.finetune import finetune
from neurodeploy.trainer.loop import train

CONFIG = Path(__file__).with_name("yinyang.toml")


def _step(message: str) -> float:
    print(f"\n== {message}", file=sys.stderr)
    return time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument("--epochs", type=int, default=20, help="Yin-Yang training epochs")
    parser.add_argument("--finetune-epochs", type=int, default=4)
    parser.add_argument("--lava-samples", type=int, default=100, help="test samples run in Lava")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    t = _step(f"train Yin-Yang with EventProp ({args.epochs} epochs)")
    config = load_config(CONFIG, [f"train.epochs={args.epochs}"])
    model = train(config, out / "train")
    timings["train_s"] = time.perf_counter() - t

    test = model_dataset("yinyang:test", model).spikes
    calibration = model_dataset("yinyang:validation", model, max_samples=500).spikes

    t = _step("quantize for Loihi 2 (calibrated on 500 validation samples)")
    loihi = quantize(model, "loihi2", calibration=calibration)
    write_network(loihi.hardware, out / "loihi2.h5")
    write_report(loihi.report, out, stem="loihi2.quantization")
    timings["quantize_loihi2_s"] = time.perf_counter() - t

    t = _step(
        f"fine-tune for SpiNNaker2 (4-bit weights, {args.finetune_epochs} epochs) and quantize"
    )
    ft_config = load_config(
        CONFIG,
        [f"train.epochs={args.finetune_epochs}", "train.lr=0.0005", "train.silent_boost=0.0"],
    )
    tuned = finetune(ft_config, model, "spinnaker2", out / "finetune_spinnaker2")
    spinnaker = quantize(tuned, "spinnaker2", calibration=calibration)
    write_network(spinnaker.hardware, out / "spinnaker2.h5")
    write_report(spinnaker.report, out, stem="spinnaker2.quantization")
    timings["finetune_spinnaker2_s"] = time.perf_counter() - t

    t = _step("export: Lava / netx (Loihi 2) and the SpiNNaker2 deploy bundle")
    lava = get_backend("lava")
    lava_files = lava.export(loihi.hardware, out / "export" / "loihi2")
    s2_files = get_backend("spinnaker2").export(
        spinnaker.hardware, out / "export" / "spinnaker2", inputs=test.subset(slice(0, 20))
    )
    timings["export_s"] = time.perf_counter() - t

    t = _step(f"evaluate on {len(test)} test samples (Lava on the first {args.lava_samples})")
    float_eval = evaluate(model, test)
    loihi_eval = evaluate(loihi.hardware, test, backend="emulator")
    s2_eval = evaluate(spinnaker.hardware, test, backend="emulator")
    subset = test.subset(slice(0, args.lava_samples))
    emulated = emulate(loihi.hardware, subset, record_v=True)
    ran_in_lava = lava.run(loihi.hardware, subset, record_v=True)
    mismatch = first_mismatch(emulated, ran_in_lava)
    out_pop = output_population(loihi.hardware)
    v_scale = loihi.hardware.population(out_pop).v_scale
    lava_acc = accuracy(
        predict(ran_in_lava[out_pop], loihi.hardware.metadata["readout"], v_scale), subset.labels
    )
    emu_subset_acc = accuracy(
        predict(emulated[out_pop], loihi.hardware.metadata["readout"], v_scale), subset.labels
    )
    timings["evaluate_s"] = time.perf_counter() - t

    _raster(out / "raster.png", model, loihi.hardware, spinnaker.hardware, test.subset([0]))
    summary = {
        "float_accuracy": float_eval.accuracy,
        "loihi2_emulator_accuracy": loihi_eval.accuracy,
        "lava_accuracy": lava_acc,
        "lava_bit_exact": mismatch is None,
        "spinnaker2_emulator_accuracy": s2_eval.accuracy,
        "spinnaker2_finetuned_float_accuracy": evaluate(tuned, test).accuracy,
        "loihi2_emulator_accuracy_on_lava_subset": emu_subset_acc,
        "lava_samples": len(subset),
        "lava_first_mismatch": None if mismatch is None else str(mismatch),
        "test_samples": len(test),
        "files": {
            "float_model": str(out / "train" / "model.h5"),
            "loihi2_model": str(out / "loihi2.h5"),
            "spinnaker2_model": str(out / "spinnaker2.h5"),
            "exports": [str(p) for p in [*lava_files, *s2_files]],
            "pngs": sorted(str(p) for p in out.rglob("*.png")),
        },
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    _print_table(summary)
    print(f"\nwrote {out / 'summary.json'}")
    return 0 if summary["lava_bit_exact"] else 1


def _print_table(s: dict) -> None:
    rows = [
        ("float model (EventProp)", s["float_accuracy"], s["test_samples"]),
        ("Loihi 2 emulator", s["loihi2_emulator_accuracy"], s["test_samples"]),
        ("Lava fixed-point simulator", s["lava_accuracy"], s["lava_samples"]),
        (
            "  Loihi 2 emulator, same samples",
            s["loihi2_emulator_accuracy_on_lava_subset"],
            s["lava_samples"],
        ),
        (
            "SpiNNaker2 fine-tuned float",
            s["spinnaker2_finetuned_float_accuracy"],
            s["test_samples"],
        ),
        ("SpiNNaker2 emulator", s["spinnaker2_emulator_accuracy"], s["test_samples"]),
    ]
    print(f"\n{'Yin-Yang test accuracy':<36} {'accuracy':>9} {'samples':>8}")
    for name, acc, n in rows:
        print(f"{name:<36} {100 * acc:>8.2f}% {n:>8}")
    verdict = "bit-exact" if s["lava_bit_exact"] else f"MISMATCH: {s['lava_first_mismatch']}"
    print(f"emulator vs Lava (spikes and v, every step): {verdict}")


def _raster(path: Path, model, loihi, spinnaker, sample) -> None:
    """Hidden-layer spikes of one test sample: float model, Loihi 2 and SpiNNaker2 emulators."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurodeploy.trainer.simulate import simulate

    runs = {
        "float": simulate(model, sample),
        "Loihi 2 emulator": emulate(loihi, sample),
        "SpiNNaker2 emulator": emulate(spinnaker, sample),
    }
    hidden = next(p.name for p in model.populations if p.kind == "lif")
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True, constrained_layout=True)
    for ax, (name, rec) in zip(axes, runs.items(), strict=True):
        t, i = np.nonzero(rec[hidden].spikes[0])
        ax.scatter(t * model.dt_ms, i, s=3, color="k")
        ax.set_title(f"{name}: {len(t)} spikes")
        ax.set_xlabel("time (ms)")
    axes[0].set_ylabel(f"{hidden} neuron")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
