"""Quantization-aware fine-tuning: continue EventProp training with the target's precision.

The starting model is quantized once for the target (scales chosen on calibration samples), and
its populations are replaced by the target's (decays, thresholds, biases as the hardware runs them).
Every batch, the float weights are rounded onto each projection's fixed integer grid and the delays
into the target's range; the forward and adjoint passes run on those, and the gradients are applied
to the float parameters unchanged (straight-through estimator). The written model holds the grid
weights and integer delays, so ``neurodeploy quantize`` finds exactly the grid training used.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from neurodeploy.files import write_network
from neurodeploy.network import Network
from neurodeploy.profiles import get_profile
from neurodeploy.quantize import DEQUANTIZERS, GRIDS, MAPPERS
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.grid import quantize_to_grid
from neurodeploy.trainer.config import Config
from neurodeploy.trainer.loop import Trainer, TrainingData, load_data, train

__all__ = ["finetune", "quantizing_transform"]


def quantizing_transform(hardware: Network):
    """The (weights, delays) → (weights, delays) map onto ``hardware``'s grids: each projection's
    weights rounded to its integer grid (fixed scale, clipped) and delays rounded into the
    target's range."""
    grids = [GRIDS[hardware.profile](p) for p in hardware.projections]
    scales = [p.weight_scale for p in hardware.projections]
    delay_max = get_profile(hardware.profile).delay_range.high

    def transform(
        weights: list[NDArray], delays: list[NDArray]
    ) -> tuple[list[NDArray], list[NDArray]]:
        snapped = [
            quantize_to_grid(w, s, *grid)[0] * s
            for w, s, grid in zip(weights, scales, grids, strict=True)
        ]
        return snapped, [np.clip(np.rint(d), 0, delay_max) for d in delays]

    return transform


def finetune(
    config: Config,
    model: Network,
    target: str,
    run_dir: str | Path,
    *,
    progress: bool = True,
    data: TrainingData | None = None,
    calibration_samples: int = 256,
) -> Network:
    """Fine-tune float ``model`` for ``target`` into ``run_dir`` (model.h5, checkpoints, metrics).

    The returned float model carries ``metadata["finetuned_for"] = target``; quantize it with
    ``neurodeploy quantize`` for the target as usual.
    """
    from neurodeploy.trainer.simulate import simulate

    data = data or load_data(config)
    calib_spikes = data.train.subset(np.arange(min(calibration_samples, len(data.train))))
    stats = Calibration.from_recording(model, calib_spikes, simulate(model, calib_spikes))
    mapper, dequantizer = MAPPERS[target], DEQUANTIZERS[target]
    # The target's decays, thresholds and biases are fixed for the whole fine-tuning.
    start_hw, _ = mapper(model, stats, on_overflow="clamp")
    target_pops = dequantizer(start_hw).populations
    start = replace(model, populations=target_pops)
    delay_limit = get_profile(target).delay_range.high
    tr = Trainer.from_network(config, start, delay_limit=delay_limit)
    transform = quantizing_transform(start_hw)
    trained = train(
        config,
        run_dir,
        progress=progress,
        data=data,
        start_from=tr,
        transform=transform,
        metadata={
            "finetuned_for": target,
            "finetuned_from": dict(model.metadata.get("metrics", {})),
        },
    )
    # The model is what the forward pass used: weights on the target's grid, integer delays.
    weights, delays = transform(
        [p.weights for p in trained.projections], [p.delays for p in trained.projections]
    )
    projs = tuple(
        replace(p, weights=w, delays=d)
        for p, w, d in zip(trained.projections, weights, delays, strict=True)
    )
    snapped = replace(trained, projections=projs)
    write_network(snapped, Path(run_dir) / "model.h5")
    return snapped
