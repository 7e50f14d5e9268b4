"""Progress of a training run, reported through callbacks.

:func:`neurodeploy.trainer.loop.train` calls a :class:`Progress` at the start of every epoch, after
every batch and after every epoch (once its checkpoint and metrics are written). The base class
does nothing; :class:`ConsoleProgress` (``progress=True``) draws a tqdm bar per epoch and prints one
line of metrics per epoch on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["ConsoleProgress", "Progress", "as_progress"]


class Progress:
    """Training callbacks; override any of them. Every method does nothing here."""

    def on_resume(self, epoch: int, epochs: int, run_dir: Any) -> None:
        """The run in ``run_dir`` resumes after ``epoch`` (of ``epochs``) from its checkpoint."""

    def on_epoch_start(self, epoch: int, epochs: int, n_batches: int) -> None:
        """Epoch ``epoch`` of ``epochs`` begins; it has ``n_batches`` batches."""

    def on_batch(self, epoch: int, batch: int, mean_loss: float) -> None:
        """Batch ``batch`` (0-based) is done; ``mean_loss`` is the epoch's loss per sample so far."""

    def on_epoch(self, record: Mapping[str, Any]) -> None:
        """The epoch is done, checkpointed and in metrics.jsonl; ``record`` is its metrics line."""


class ConsoleProgress(Progress):
    """A tqdm bar per epoch (only on a terminal) and one metrics line per epoch, on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._n_batches = 0

    def on_resume(self, epoch: int, epochs: int, run_dir: Any) -> None:
        if epoch >= epochs:
            print(f"{run_dir}: all {epochs} epochs are done; writing the model", file=sys.stderr)
        else:
            print(f"resuming {run_dir} from epoch {epoch} of {epochs}", file=sys.stderr)

    def on_epoch_start(self, epoch: int, epochs: int, n_batches: int) -> None:
        from tqdm import tqdm

        self._n_batches = n_batches
        # disable=None: no bar when stderr is not a terminal (logs, CI); the epoch line remains.
        self._bar = tqdm(
            total=n_batches,
            desc=f"epoch {epoch}/{epochs}",
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
            disable=None,
        )

    def on_batch(self, epoch: int, batch: int, mean_loss: float) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        self._bar.set_postfix(loss=f"{mean_loss:.3f}")
        if batch + 1 >= self._n_batches:
            self._close()

    def on_epoch(self, record: Mapping[str, Any]) -> None:
        self._close()
        parts = [f"{k}={v:.4f}" for k, v in record.items() if k.endswith(("accuracy", "loss"))]
        print(f"epoch {record['epoch']}: " + " ".join(parts), file=sys.stderr)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def as_progress(progress: bool | Progress | None) -> Progress:
    """``True``: a :class:`ConsoleProgress`; ``False``/``None``: silent; anything else (an object
    with the three :class:`Progress` methods): itself."""
    if progress is None or isinstance(progress, bool):
        return ConsoleProgress() if progress else Progress()
    return progress
