"""One trial of a sweep: train, fine-tune and quantize per target, evaluate; one result row.

:func:`run_trial` is what a Ray task runs (it needs no Ray itself). The trial's directory holds the
normal ``train`` output in ``float/`` (and ``finetune_<target>/`` for fine-tuned targets), so an
interrupted trial resumes from the trainer's checkpoints, and a model already written is reused.
The trial is finished when ``row.json`` exists with ``status == "ok"``; it is written atomically.
Every exception stays inside the trial: the row then says ``status: failed`` and the error.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from neurodeploy.cli.sweep_plan import TrialSpec

__all__ = ["error_line", "finished_row", "run_trial", "spec_key"]


def spec_key(spec: TrialSpec) -> dict[str, Any]:
    """What a row's numbers depend on besides the seed (not the CPUs): a finished row counts only
    for the same key, so changing ``--set``, ``--targets``, ``--finetune`` or ``--sensitivity``
    reruns the trial (the trainer then resumes or refuses its run directory)."""
    return {
        "config": spec.config,
        "overrides": list(spec.overrides),
        "targets": list(spec.targets),
        "finetune": list(spec.finetune),
        "sensitivity": spec.sensitivity,
    }


def finished_row(spec: TrialSpec) -> dict[str, Any] | None:
    """The trial's row if it finished successfully before with the same :func:`spec_key`."""
    try:
        row = json.loads(spec.row_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(row, dict) or row.get("status") != "ok":
        return None
    return row if row.get("spec") == spec_key(spec) else None


def run_trial(spec: TrialSpec) -> dict[str, Any]:
    """Run the trial's pipeline with ``spec.cpus`` Numba threads; never raises (but for
    KeyboardInterrupt/SystemExit). Returns the row, also written to ``spec.row_path``."""
    row: dict[str, Any] = {
        "trial": spec.name,
        "seed": spec.seed,
        **spec.setting,
        "status": "ok",
    }
    wall, cpu = time.perf_counter(), time.process_time()
    with _PeakMemory() as memory:
        try:
            os.chdir(spec.cwd)
            _set_threads(spec.cpus)
            row |= _pipeline(spec)
        except Exception as exc:
            row["status"] = "failed"
            row["error"] = error_line(exc)
            row["traceback"] = traceback.format_exc(limit=-8)
    row["time_s"] = round(time.perf_counter() - wall, 3)
    row["cpu_s"] = round(time.process_time() - cpu, 3)
    row["peak_mem_mb"] = round(memory.peak_mb, 1)
    row["cpus"] = spec.cpus
    row["spec"] = spec_key(spec)
    try:
        _write_row(spec.row_path, row)
    except Exception as exc:  # the driver still gets the row and writes the tables
        row["status"] = "failed"
        row["error"] = f"{spec.row_path}: {error_line(exc)}"
    return row


def error_line(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", "; ")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _write_row(path: Path, row: dict[str, Any]) -> None:
    from neurodeploy.files import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(row, indent=2, sort_keys=True))


def _set_threads(cpus: int) -> None:
    import numba

    numba.set_num_threads(max(1, min(cpus, numba.config.NUMBA_NUM_THREADS)))


def _pipeline(spec: TrialSpec) -> dict[str, Any]:
    """Train (or reuse), fine-tune where asked, quantize, evaluate: the row's numbers."""
    from neurodeploy.cli.pipeline import finetune_for_target
    from neurodeploy.evaluation import evaluate
    from neurodeploy.files import write_network
    from neurodeploy.quantize import quantize
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.data import load_data
    from neurodeploy.trainer.loop import train

    config = load_config(spec.config, [*spec.overrides, f"train.seed={spec.seed}"])
    data = load_data(config)
    run = Path(spec.run_dir)
    # Always through the trainer: it resumes from the last checkpoint (nothing to do when the run
    # is complete), continues when the config asks for more epochs, and refuses a run directory
    # that was started with another config.
    model = train(config, run / "float", progress=False, data=data)
    splits = {"train": data.train}
    test = data.test if data.test is not None else data.validation
    if test is not None:
        splits["test"] = test
    out: dict[str, Any] = {f"n_{k}": len(s) for k, s in splits.items()}
    floats = {k: evaluate(model, s) for k, s in splits.items()}
    out |= {f"float_{k}": e.accuracy for k, e in floats.items()}
    noise = None
    if spec.sensitivity and test is not None:
        from neurodeploy.sensitivity import sensitivity

        noise = sensitivity(model, test, reference=floats["test"].predicted)
        out["float_noise_test"] = noise.to_json()["accuracy_under_noise"]["mean"]
        out["borderline_test"] = int(noise.borderline.sum())
    for target in spec.targets:
        source = model
        if target in spec.finetune:
            source = finetune_for_target(
                config.for_finetuning(),
                model,
                target,
                run / f"finetune_{target}",
                progress=False,
                data=data,
            )
            for k, s in splits.items():
                out[f"{target}_tuned_float_{k}"] = evaluate(source, s).accuracy
        hardware = quantize(source, target, calibration=data.train, sensitivity_draws=0).hardware
        write_network(hardware, run / f"{target}.h5")
        for k, s in splits.items():
            result = evaluate(hardware, s, backend="emulator")
            out[f"{target}_{k}"] = result.accuracy
            out[f"{target}_gap_{k}"] = result.accuracy - floats[k].accuracy
            if k == "test" and noise is not None:
                flips = result.predicted != floats["test"].predicted
                out[f"{target}_flips_test"] = int(flips.sum())
                out[f"{target}_flips_borderline_test"] = int((flips & noise.borderline).sum())
    if spec.targets and test is not None:
        out["worst_target_test"] = min(out[f"{t}_test"] for t in spec.targets)
    return out


class _PeakMemory:
    """Peak resident memory of this process while the block runs (sampled every 0.1 s).

    Ray reuses worker processes, so the process's lifetime maximum (``ru_maxrss``) would include
    earlier trials; sampling /proc/self/statm gives this trial's. Elsewhere: ``ru_maxrss``."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _rss_mb(self) -> float:
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self._rss_mb())
            if self._stop.wait(0.1):
                return

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())
