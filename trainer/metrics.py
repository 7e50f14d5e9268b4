"""A run's metrics: ``metrics.jsonl`` (one JSON object per epoch) and its plot, ``curve.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neurodeploy.files import atomic_path

__all__ = ["plot_curve", "read_history", "write_history"]


def read_history(path: Path, through_epoch: int) -> list[dict[str, Any]]:
    """The records of ``path`` up to epoch ``through_epoch`` ([] when there is no file)."""
    if not path.exists():
        return []
    history = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [h for h in history if h["epoch"] <= through_epoch]


def write_history(path: Path, history: list[dict[str, Any]]) -> None:
    """Write every record, one sorted-key JSON object a line (atomically)."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(h, sort_keys=True) + "\n" for h in history))


def plot_curve(path: Path, history: list[dict[str, Any]]) -> None:
    """Losses and accuracies per epoch (train, and validation and test where the run has them),
    as a PNG at ``path`` (atomically); on the training split the numbers are those of the
    (augmented) training batches."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    for key in ("validation_loss", "test_loss"):
        if key in history[0]:
            ax1.plot(epochs, [h[key] for h in history], label=key.replace("_loss", ""))
    ax1.legend()
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    for key in ("train_accuracy", "validation_accuracy", "test_accuracy"):
        if key in history[0]:
            ax2.plot(epochs, [100 * h[key] for h in history], label=key.replace("_accuracy", ""))
    if "validation_accuracy" in history[0]:  # the epoch model selection would pick
        best = min(history, key=lambda h: (-h["validation_accuracy"], h["validation_loss"]))
        ax2.axvline(best["epoch"], color="grey", linestyle=":", label="best validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.legend()
    ax1.grid(alpha=0.3)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
