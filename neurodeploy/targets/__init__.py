"""Hardware targets: one package each, one registry naming what each provides.

A :class:`Target` is everything the stages share about one chip: its profile (limits, as data),
its bit-accurate emulator, the conversions back to the float model (:attr:`Target.dequantize`),
the weight grid of a hardware projection (:attr:`Target.projection_grid`, which quantization and
fine-tuning both use), a random-model generator for verification, and the names of what the
stages register for it: the float → integer mapping (``"module:function"``, resolved only by
:mod:`neurodeploy.quantize`, so the core imports no stage) and its backends
(:mod:`neurodeploy.backend`).

Targets are found through the ``neurodeploy.targets`` entry point group of installed packages
(the built-in ``loihi2`` and ``spinnaker2`` are declared in neurodeploy's own pyproject.toml) and
imported on first use; :func:`register_target` adds one at run time. docs/ARCHITECTURE.md lists
the files a new target touches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from neurodeploy.errors import ConfigError
from neurodeploy.network import Network, Projection
from neurodeploy.profiles import HardwareProfile
from neurodeploy.records import Recording

__all__ = ["Target", "dequantize", "get_target", "register_target", "target_names"]


@dataclass(frozen=True, eq=False)
class Target:
    """What one hardware target provides.

    Attributes
    ----------
    profile : HardwareProfile
        Limits; ``profile.name`` is the target's registry key and the ``profile`` of its models.
    emulate : callable
        ``emulate(network, inputs, *, record_v, record_u) -> Recording``, bit-accurate.
    dequantize : callable
        Hardware model -> the float model (canonical semantics) it approximates.
    projection_grid : callable
        Hardware projection -> ``(low, high, multiple)`` of its integer weights.
    random_network : callable
        ``random_network(rng, *, regime) -> Network``: a random valid hardware model.
    regimes : tuple of str
        The regimes :attr:`random_network` knows, in the order verification cycles through them.
    mapping : str
        ``"module:function"`` of the float -> hardware mapping, resolved by ``neurodeploy.quantize``.
    """

    profile: HardwareProfile
    emulate: Callable[..., Recording]
    dequantize: Callable[[Network], Network]
    projection_grid: Callable[[Projection], tuple[int, int, int]]
    random_network: Callable[..., Network]
    regimes: tuple[str, ...]
    mapping: str

    @property
    def name(self) -> str:
        return self.profile.name

    def random_model(self, rng: np.random.Generator, regime: str | None = None) -> Network:
        """A random hardware model of this target (regime drawn if None)."""
        return self.random_network(rng, regime=regime)


ENTRY_POINT_GROUP = "neurodeploy.targets"
_REGISTRY: dict[str, Target] = {}


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def register_target(target: Target, *, replace: bool = False) -> None:
    """Register ``target`` under ``target.name``; ConfigError if the name is taken."""
    if not isinstance(target, Target):
        raise ConfigError(f"register_target: expected a Target, got {target!r}")
    if not replace and target.name in target_names():
        raise ConfigError(
            f"target {target.name!r} is already registered; pass replace=True to replace it"
        )
    _REGISTRY[target.name] = target


def target_names() -> list[str]:
    """Names of every registered target, sorted."""
    return sorted({*_REGISTRY, *_entry_points()})


def get_target(name: str | None) -> Target:
    """The target registered as ``name``; ConfigError naming the known ones otherwise."""
    if isinstance(name, str) and name not in _REGISTRY and name in (found := _entry_points()):
        loaded = found[name].load()
        if not isinstance(loaded, Target) or loaded.name != name:
            raise ConfigError(f"target entry point {name!r} does not name a Target called {name!r}")
        _REGISTRY[name] = loaded
    target = _REGISTRY.get(name)  # type: ignore[arg-type]
    if target is None:
        raise ConfigError(f"profile must be one of {', '.join(target_names())}, got {name!r}")
    return target


def dequantize(hardware: Network) -> Network:
    """The float model (canonical semantics) that hardware model ``hardware`` approximates.

    Quantization-aware fine-tuning trains through ``dequantize(quantize(model))``; comparing a
    float run of it with the emulator isolates the target's arithmetic from its grid.
    """
    return get_target(hardware.profile).dequantize(hardware).validate()
