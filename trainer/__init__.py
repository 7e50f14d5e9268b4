"""EventProp training of spiking networks with learnable delays (imported as neurodeploy.trainer).

- :func:`train` / :func:`load_config`: the ``neurodeploy train`` pipeline (config -> run directory
  with checkpoints, metrics, curve and ``model.h5``).
- :class:`Engine`: one batch through the Numba kernels (forward, loss, adjoint, gradients).

The forward pass it differentiates is the core's canonical float model
(:mod:`neurodeploy.emulator.canonical`). Modules, one job each: ``config`` (the TOML recipe),
``data`` (datasets of a config), ``state`` (structure, initialisation, trainable parameters),
``kernels`` (the Numba adjoint), ``engine`` (one batch: forward, loss, adjoint), ``losses``,
``optim`` (Adam), ``loop`` (the epoch loop), ``checkpoints``, ``metrics`` (history and curve),
``progress`` (callbacks), ``finetune`` (training on a target's grid).
"""

from neurodeploy.trainer.config import Config, load_config
from neurodeploy.trainer.engine import BatchResult, Engine, RegParams
from neurodeploy.trainer.loop import train
from neurodeploy.trainer.losses import LossParams

__all__ = [
    "BatchResult",
    "Config",
    "Engine",
    "LossParams",
    "RegParams",
    "load_config",
    "train",
]
