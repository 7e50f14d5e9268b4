"""Steps that span two stages, orchestrated here so that no stage imports another.

Fine-tuning for a target needs the model quantized for it first (quantize stage) and then trains
on that grid (trainer stage); the CLI, the demo and the benchmarks all call
:func:`finetune_for_target`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurodeploy.network import Network
from neurodeploy.quantize import map_to_target
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.trainer.config import Config
from neurodeploy.trainer.data import TrainingData, load_data
from neurodeploy.trainer.finetune import finetune

__all__ = ["finetune_for_target"]


def finetune_for_target(
    config: Config,
    model: Network,
    target: str,
    run_dir: str | Path,
    *,
    progress: bool = True,
    data: TrainingData | None = None,
    calibration_samples: int = 256,
) -> Network:
    """Quantize float ``model`` for ``target`` (scales chosen on the first
    ``calibration_samples`` training samples, delays clamped into range), then fine-tune it on
    that grid into ``run_dir``; returns the fine-tuned float model (also ``run_dir/model.h5``)."""
    data = data or load_data(config)
    calib_spikes = data.train.subset(np.arange(min(calibration_samples, len(data.train))))
    stats = Calibration.from_data(model, calib_spikes)
    start = map_to_target(model, target, stats, on_overflow="clamp")
    return finetune(config, model, start, run_dir, progress=progress, data=data)
