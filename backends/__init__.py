"""Deployment backends, registered by name.

A backend turns a hardware model into what one target's toolchain loads (:meth:`Backend.export`)
and, where that toolchain is present, runs it (:meth:`Backend.run`). The built-in backends are
imported lazily, so ``import neurodeploy.backends`` never imports a toolchain; a third party adds
one with :func:`register_backend`.

Built-in names: ``lava`` (Lava's fixed-point CPU simulator, ``Loihi2SimCfg``) and ``lava-loihi2``
(a Loihi 2 chip through ``Loihi2HwCfg``; needs Intel's closed lava-loihi package).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol, runtime_checkable

from neurodeploy.errors import ConfigError
from neurodeploy.network import Network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

__all__ = [
    "Backend",
    "available_backends",
    "get_backend",
    "register_backend",
    "registered_backends",
]


@runtime_checkable
class Backend(Protocol):
    """What every backend offers.

    Attributes
    ----------
    name : str
        Registry key.
    profile : str
        Hardware profile of the models it accepts (:mod:`neurodeploy.profiles`).
    """

    name: str
    profile: str

    def is_available(self) -> bool:
        """True when :meth:`run` can work here (toolchain importable, device reachable)."""
        ...

    def export(self, network: Network, out_dir: Path) -> list[Path]:
        """Write what the target's toolchain loads into ``out_dir``; return the files written."""
        ...

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        """Run every sample of ``inputs``; spikes (and v) per non-input population, each
        shaped (n_samples, n_steps, size), step ``t`` as in :mod:`neurodeploy.records`."""
        ...


_REGISTRY: dict[str, Backend] = {}

# name -> "module:factory"; resolved on first use so that no toolchain is imported up front.
_BUILTINS = {
    "lava": "neurodeploy.backends.lava:LavaBackend",
    "lava-loihi2": "neurodeploy.backends.lava:loihi2_hardware_backend",
    "spinnaker2": "neurodeploy.backends.spinnaker2:SpiNNaker2Backend",
}


def register_backend(backend: Backend, *, replace: bool = False) -> None:
    """Register ``backend`` under ``backend.name``.

    Raises ConfigError if the object lacks the :class:`Backend` members, or if the name is taken
    and ``replace`` is false.
    """
    if isinstance(backend, type) or not isinstance(backend, Backend):
        raise ConfigError(
            f"register_backend: expected a backend instance with name, profile, is_available, "
            f"export and run, got {backend!r}"
        )
    name = backend.name
    if not replace and (name in _REGISTRY or name in _BUILTINS):
        raise ConfigError(
            f"backend {name!r} is already registered; pass replace=True to replace it"
        )
    _BUILTINS.pop(name, None)
    _REGISTRY[name] = backend


def registered_backends() -> list[str]:
    """Names of every registered backend, available here or not, sorted."""
    return sorted({*_REGISTRY, *_BUILTINS})


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``; ConfigError listing the known names otherwise."""
    if name not in _REGISTRY and name in _BUILTINS:
        module, factory = _BUILTINS[name].split(":")
        _REGISTRY[name] = getattr(importlib.import_module(module), factory)()
    backend = _REGISTRY.get(name)
    if backend is None:
        raise ConfigError(
            f"backend must be one of {', '.join(registered_backends())}, got {name!r}"
        )
    return backend


def available_backends() -> list[str]:
    """Names of the registered backends whose :meth:`Backend.is_available` is true here, sorted."""
    return [name for name in registered_backends() if get_backend(name).is_available()]
