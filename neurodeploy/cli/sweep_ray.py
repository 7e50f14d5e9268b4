"""Running a sweep's trials as Ray tasks: a local in-process Ray, or a cluster (``address``).

Trials already finished (their row says ``ok``) are not submitted again. Each task asks Ray for
``cpus_per_trial`` CPUs and sets Numba's thread count to that. A task whose worker dies (killed,
out of memory) becomes a failed row here; the others go on. Progress on stderr: a tqdm bar with
trials done / running / failed and the ETA on a terminal, else one line per finished trial.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from neurodeploy.cli.sweep_plan import TrialSpec
from neurodeploy.cli.sweep_trial import error_line, finished_row, run_trial
from neurodeploy.errors import ConfigError

__all__ = ["run_trials", "start_ray"]


def start_ray(address: str | None, cpus: int | None) -> bool:
    """Connect to Ray unless this process already is; returns whether we started it (and so
    should shut it down). Without ``address``: a local Ray with ``cpus`` (default: all cores)."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "neurodeploy sweep needs Ray: pip install 'neurodeploy[sweep]' (make test installs it)"
        ) from None
    if ray.is_initialized():
        return False
    # No usage-stats prompt or upload, and nothing on the driver's terminal but our progress.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": True,
        "logging_level": "ERROR",
    }
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=cpus or os.cpu_count() or 1, **kwargs)
    return True


def run_trials(
    specs: list[TrialSpec],
    *,
    cpus_per_trial: int = 1,
    progress: bool = True,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of every trial in ``specs`` order: earlier finished rows as they are, the others run
    on the connected Ray. ``on_row`` is called for each new row as it arrives."""
    import ray

    rows: dict[int, dict[str, Any]] = {}
    todo: list[int] = []
    for i, spec in enumerate(specs):
        row = finished_row(spec)
        if row is None:
            todo.append(i)
        else:
            rows[i] = row
    if not todo:
        return [rows[i] for i in range(len(specs))]
    task = ray.remote(num_cpus=cpus_per_trial, max_retries=0)(run_trial)
    pending = {task.remote(specs[i]): i for i in todo}
    slots = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_trial))
    bar = _Progress(len(specs), len(specs) - len(todo), enabled=progress)
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as exc:  # the worker died: the trial failed, not the sweep
                    row = _lost_row(specs[i], exc)
                rows[i] = row
                if on_row is not None:
                    on_row(row)
                bar.finished(row)
            bar.update(running=min(len(pending), slots))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        bar.close()
    return [rows[i] for i in range(len(specs))]


def _lost_row(spec: TrialSpec, exc: Exception) -> dict[str, Any]:
    cause = getattr(exc, "cause", None) or exc
    return {
        "trial": spec.name,
        "seed": spec.seed,
        **spec.setting,
        "status": "failed",
        "error": f"the trial's worker was lost ({error_line(cause)})"[:2000],
        "cpus": spec.cpus,
    }


class _Progress:
    """tqdm on stderr when it is a terminal, else a line per finished trial."""

    def __init__(self, total: int, done: int, *, enabled: bool) -> None:
        self.failed = 0
        self.enabled = enabled
        self.start = time.monotonic()
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc="trials", unit="trial", file=sys.stderr)
            self.bar.set_postfix_str("running 0, failed 0")

    def finished(self, row: dict[str, Any]) -> None:
        self.failed += row.get("status") != "ok"
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled:
            status = row.get("status")
            detail = f": {row.get('error', '')}" if status != "ok" else ""
            print(f"trial {row['trial']} {status}{detail}", file=sys.stderr, flush=True)

    def update(self, *, running: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"running {running}, failed {self.failed}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
