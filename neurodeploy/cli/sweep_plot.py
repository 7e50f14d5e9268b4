"""``results.png`` of a sweep: accuracy per target per setting (mean ± sem, every seed a dot) on
the test and training data, and the distribution of each target's gap to float."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_sweep"]


def plot_sweep(
    rows: list[dict[str, Any]], summary: dict[str, Any], targets: tuple[str, ...], path: Path
) -> bool:
    """Write the figure atomically; False (nothing written) when no trial succeeded."""
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurodeploy.files import atomic_path

    systems = ["float", *targets]
    splits = [s for s in ("test", "train") if any(f"float_{s}" in r for r in ok)]
    settings = [s for s in summary["settings"] if s["ok"]]
    fig, axes = plt.subplots(
        1,
        len(splits) + 1,
        figsize=(4.2 * (len(splits) + 1) + 0.3 * len(settings), 4.2),
        constrained_layout=True,
    )
    width = 0.8 / len(systems)
    for ax, split in zip(axes, splits, strict=False):
        for j, system in enumerate(systems):
            key = f"{system}_{split}"
            x = np.arange(len(settings)) + (j - (len(systems) - 1) / 2) * width
            means = [100 * s["metrics"].get(key, {}).get("mean", np.nan) for s in settings]
            sems = [100 * s["metrics"].get(key, {}).get("sem", 0.0) for s in settings]
            ax.bar(x, means, width, yerr=sems, capsize=3, label=system, alpha=0.8)
            for xi, s in zip(x, settings, strict=True):
                dots = [
                    100 * r[key]
                    for r in ok
                    if key in r and all(r.get(k) == v for k, v in s["setting"].items())
                ]
                ax.plot([xi] * len(dots), dots, "k.", ms=3)
        ax.set_xticks(np.arange(len(settings)), [s["name"] for s in settings], rotation=20)
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{split} data: mean ± sem over seeds (dots: seeds)", fontsize=9)
    axes[0].legend(fontsize=8)
    gap_ax = axes[-1]
    gaps = [
        (
            f"{t} − float ({split})",
            [100 * r[f"{t}_gap_{split}"] for r in ok if f"{t}_gap_{split}" in r],
        )
        for t in targets
        for split in splits
    ]
    gaps = [(label, values) for label, values in gaps if values]
    if gaps:
        gap_ax.boxplot([v for _, v in gaps], showmeans=True)
        for i, (_, values) in enumerate(gaps, start=1):
            gap_ax.plot(np.full(len(values), i), values, "k.", ms=3, alpha=0.6)
        gap_ax.set_xticks(np.arange(1, len(gaps) + 1), [g for g, _ in gaps], rotation=20)
        gap_ax.axhline(0.0, color="0.6", lw=0.8)
    gap_ax.set_ylabel("points")
    gap_ax.set_title(f"gap to float, all {len(ok)} trials", fontsize=9)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return True
