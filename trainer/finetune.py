"""Quantization-aware fine-tuning: continue EventProp training with the target's precision.

Fine-tuning starts from a float model and the hardware model it was quantized to (the caller,
which orchestrates both stages, quantizes it: ``neurodeploy.cli.pipeline.finetune_for_target``).
The populations are replaced by the target's (decays, thresholds, biases as the hardware runs
them). Every batch, the float weights are rounded onto each projection's fixed integer grid and
the delays into the target's range; the forward and adjoint passes run on those, and the
gradients are applied to the float parameters unchanged (straight-through estimator). The written
model holds the grid weights and integer delays, so ``neurodeploy quantize`` finds exactly the
grid training used. The grids and the way back to float come from the target
(:mod:`neurodeploy.targets`), never from the quantize stage.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from neurodeploy.files import write_network
from neurodeploy.network import Network
from neurodeploy.targets import get_target
from neurodeploy.targets.grid import quantize_to_grid
from neurodeploy.trainer.config import Config
from neurodeploy.trainer.data import TrainingData, load_data
from neurodeploy.trainer.loop import train
from neurodeploy.trainer.state import Trainer

__all__ = ["finetune", "quantizing_transform"]


def quantizing_transform(hardware: Network):
    """The (weights, delays) → (weights, delays) map onto ``hardware``'s grids: each projection's
    weights rounded to its integer grid (fixed scale, clipped) and delays rounded into the
    target's range."""
    target = get_target(hardware.profile)
    grids = [target.projection_grid(p) for p in hardware.projections]
    scales = [p.weight_scale for p in hardware.projections]
    delay_max = target.profile.delay_range.high

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
    start: Network,
    run_dir: str | Path,
    *,
    progress: bool = True,
    data: TrainingData | None = None,
) -> Network:
    """Fine-tune float ``model`` for the target of ``start`` into ``run_dir`` (model.h5,
    checkpoints, metrics).

    ``start`` is ``model`` quantized for the target (its scales fix each projection's grid, its
    populations the target's parameters). The returned float model carries
    ``metadata["finetuned_for"]``; quantize it with ``neurodeploy quantize`` as usual.
    """
    data = data or load_data(config)
    target = get_target(start.profile)
    # The target's decays, thresholds and biases are fixed for the whole fine-tuning.
    target_pops = target.dequantize(start).populations
    begin = replace(model, populations=target_pops)
    delay_limit = target.profile.delay_range.high
    tr = Trainer.from_network(config, begin, delay_limit=delay_limit)
    transform = quantizing_transform(start)
    trained = train(
        config,
        run_dir,
        progress=progress,
        data=data,
        start_from=tr,
        transform=transform,
        metadata={
            "finetuned_for": target.name,
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
