"""The main job (`make demo`): the neurodeploy pipeline as far as it is built.

Stage 1 (issue 2): random Loihi 2 hardware models run on the bit-accurate emulator and on Lava's
fixed-point simulator, compared bit for bit in spikes and v at every step.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from neurodeploy.backends import get_backend
from neurodeploy.verification import check_agreement, random_networks

OUT = Path("runs/demo")


def agreement(n_networks: int = 12, seed: int = 2026) -> dict:
    """Emulator vs Lava on random Loihi 2 networks across regimes."""
    lava = get_backend("lava")
    start = time.perf_counter()
    with tqdm(total=n_networks, desc="emulator vs Lava", unit="net", file=sys.stderr) as bar:
        report = check_agreement(
            random_networks(seed, n_networks, n_steps=64, n_samples=2),
            lava.run,
            against="lava",
            progress=bar.update,
        )
    doc = report.to_json() | {"seed": seed, "seconds": round(time.perf_counter() - start, 1)}
    print(
        f"emulator vs Lava: {report.networks} random networks, {report.steps} sample-steps, "
        f"{report.spikes} spikes: {len(report.mismatches)} mismatches"
    )
    return doc


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    summary = {"agreement": agreement()}
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {OUT / 'summary.json'}")
    return 0 if summary["agreement"]["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
