"""Accuracy of a shipped example on Loihi 2 with the netx-compatible grid vs the free grid.

Trains ``CONFIG`` (resumes from ``--out``), then maps the same float model with both Loihi 2 grids
(``map_loihi2(..., netx=True|False)``, calibrated on up to 500 validation or training samples)
and prints one JSON document: float accuracy, emulated accuracy per grid, whether lava-dl's netx
loader would reproduce the model (``plan_netx``) and why not, weight exponents and thresholds.

    python benchmarks/netx_grid.py examples/yinyang.toml --epochs 20 --seed 0 --out runs/netx_grid/yy0
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from neurodeploy.backends.lava_export import plan_netx
from neurodeploy.data import model_dataset
from neurodeploy.evaluation import evaluate
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.loihi2 import map_loihi2
from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.loop import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    config = load_config(args.config, [f"train.epochs={args.epochs}", f"train.seed={args.seed}"])
    model = train(config, args.out / "train")
    test = model_dataset(config.data.test, model).spikes
    spec = config.data.validation or config.data.train
    stats = Calibration.from_data(model, model_dataset(spec, model, max_samples=500).spikes)
    result = {
        "config": str(args.config),
        "epochs": args.epochs,
        "seed": args.seed,
        "test_samples": len(test),
        "float": evaluate(model, test).accuracy,
    }
    for grid in ("netx", "free"):
        hw, decisions = map_loihi2(model, stats, netx=grid == "netx")
        plan = plan_netx(hw)
        result[grid] = {
            "emulator": evaluate(hw, test, backend="emulator").accuracy,
            "netx_exact": plan.exact,
            "netx_reasons": plan.reasons,
            "weight_exp": {k: d.weight_exp for k, d in decisions.projections.items()},
            "vth": {k: d.vth for k, d in decisions.populations.items()},
            "grid": {k: d.grid for k, d in decisions.populations.items()},
        }
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
