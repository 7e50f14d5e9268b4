"""EventProp training of spiking networks with learnable delays (imported as neurodeploy.trainer).

- :func:`train` / :func:`load_config`: the ``neurodeploy train`` pipeline (config -> run directory
  with checkpoints, metrics, curve and ``model.h5``).
- :func:`simulate` / :func:`iter_recordings`: float simulation of any float Network (canonical
  semantics), recorded per population for :mod:`neurodeploy.readout`.
- :class:`Engine`: one batch through the Numba kernels (forward, loss, adjoint, gradients).

Modules: ``kernels`` (Numba only), ``model`` (packing), ``engine``, ``losses``, ``optim``,
``config``, ``loop``, ``simulate``.
"""

from neurodeploy.trainer.config import Config, load_config
from neurodeploy.trainer.engine import BatchResult, Engine, RegParams
from neurodeploy.trainer.loop import train
from neurodeploy.trainer.losses import LossParams
from neurodeploy.trainer.simulate import iter_recordings, simulate

__all__ = [
    "BatchResult",
    "Config",
    "Engine",
    "LossParams",
    "RegParams",
    "iter_recordings",
    "load_config",
    "simulate",
    "train",
]
