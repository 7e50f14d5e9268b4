"""A sweep's results: ``results.csv`` / ``results.json`` (one row per trial), the per-setting
summary (mean, sample std and standard error over seeds, the best setting) and its table."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from neurodeploy.cli.sweep_plan import setting_label, setting_name

__all__ = ["metric_columns", "summarize", "summary_table", "write_results"]

#: Row fields that are not numbers to summarise.
_INFO = ("trial", "seed", "status", "error", "traceback", "cpus")


def metric_columns(rows: list[dict[str, Any]], varied: list[str]) -> list[str]:
    """Numeric columns of the rows, in first-seen order (not the varied fields or the seed)."""
    seen: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key in _INFO or key in varied or key.startswith("n_"):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                seen.setdefault(key, None)
    return list(seen)


def _stats(values: list[float]) -> dict[str, float | int]:
    a = np.asarray(values, dtype=float)
    n = len(a)
    std = float(a.std(ddof=1)) if n > 1 else 0.0
    return {"mean": float(a.mean()), "std": std, "sem": std / math.sqrt(n), "n": n}


def summarize(
    rows: list[dict[str, Any]], settings: list[dict[str, str]], best_by: str
) -> dict[str, Any]:
    """Per setting (in plan order): trials ok/failed and every metric's mean ± std, sem over the
    successful seeds; ``best``: the setting with the highest mean ``best_by``."""
    varied = list(settings[0]) if settings else []
    metrics = metric_columns(rows, varied)
    per_setting = []
    for setting in settings:
        mine = [r for r in rows if all(r.get(k) == v for k, v in setting.items())]
        ok = [r for r in mine if r.get("status") == "ok"]
        stats = {
            m: _stats([r[m] for r in ok if isinstance(r.get(m), int | float)])
            for m in metrics
            if any(isinstance(r.get(m), int | float) for r in ok)
        }
        per_setting.append(
            {
                "setting": setting,
                "name": setting_label(setting),
                "dir": setting_name(setting),
                "trials": len(mine),
                "ok": len(ok),
                "failed": len(mine) - len(ok),
                "metrics": stats,
            }
        )
    ranked = [s for s in per_setting if best_by in s["metrics"]]
    best = max(ranked, key=lambda s: s["metrics"][best_by]["mean"], default=None)
    return {
        "trials": len(rows),
        "ok": sum(s["ok"] for s in per_setting),
        "failed": sum(s["failed"] for s in per_setting),
        "best_by": best_by,
        "best": best["name"] if best else None,
        "settings": per_setting,
        "failures": [
            {"trial": r["trial"], "error": r.get("error", "")}
            for r in rows
            if r.get("status") != "ok"
        ],
    }


def _fmt(stats: dict[str, float | int], percent: bool) -> str:
    scale = 100.0 if percent else 1.0
    return (
        f"{scale * stats['mean']:.2f} ± {scale * stats['std']:.2f} (sem {scale * stats['sem']:.2f})"
    )


def summary_table(summary: dict[str, Any], columns: list[str]) -> str:
    """Human text: one block per setting, a line per metric in ``columns``, then best/failures.

    Accuracies and gaps are in % (points for gaps); times in s, memory in MB."""
    lines = []
    for s in summary["settings"]:
        mark = "  (best)" if s["name"] == summary["best"] and len(summary["settings"]) > 1 else ""
        lines.append(f"{s['name']}: {s['ok']} of {s['trials']} trials ok{mark}")
        width = max((len(c) for c in columns), default=0)
        for column in columns:
            if column in s["metrics"]:
                unit = " %" if "_gap_" not in column else " points"
                if column in ("time_s", "cpu_s", "peak_mem_mb"):
                    unit = ""
                text = _fmt(s["metrics"][column], percent=bool(unit))
                lines.append(f"  {column:<{width}}  {text}{unit}")
    lines.append("mean ± sample std (sem = std / sqrt(n)) over the seeds of each setting")
    if summary["best"] is not None and len(summary["settings"]) > 1:
        lines.append(f"best by mean {summary['best_by']}: {summary['best']}")
    for failure in summary["failures"]:
        lines.append(f"failed: {failure['trial']}: {failure['error']}")
    return "\n".join(lines)


def write_results(
    out: Path, rows: list[dict[str, Any]], varied: list[str], document: dict[str, Any]
) -> None:
    """``OUT/results.csv`` (one row per trial; error text in the last column) and
    ``OUT/results.json`` (``document`` with the rows), each written atomically."""
    from neurodeploy.files import atomic_path

    head = ["trial", "seed", *varied, "status"]
    metrics = metric_columns(rows, varied)
    counts = sorted({k for r in rows for k in r if k.startswith("n_")})
    columns = [*head, *metrics, *counts, "cpus", "error"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    with atomic_path(out / "results.csv") as tmp:
        tmp.write_text(buffer.getvalue())
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(document | {"rows": rows}, indent=2, sort_keys=True))


def _csv_value(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value
