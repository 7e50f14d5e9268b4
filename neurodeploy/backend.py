"""Every way to run a model is a backend: one protocol, declared capabilities, one registry.

The core provides two backends: ``float`` (the canonical float model; a hardware model is
dequantized first) and ``emulator`` (the bit-accurate emulator of a hardware model's target).
The toolchain backends (``lava``, ``lava-loihi2``, ``spinnaker2``) live in the
:mod:`neurodeploy.backends` stage and are registered through the ``neurodeploy.backends`` entry
point group of the installed package, so the core never imports them until one is asked for by
name; a third-party package adds its own the same way, or calls :func:`register_backend`.

``evaluate``, ``verify``, ``export`` and ``deploy`` all dispatch through :func:`get_backend` and
:attr:`Backend.capabilities`, never on a backend's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from neurodeploy.errors import BackendUnavailableError, ConfigError
from neurodeploy.network import Network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import not_runnable

__all__ = [
    "ANY_HARDWARE",
    "FLOAT",
    "Backend",
    "Capabilities",
    "EmulatorBackend",
    "FloatBackend",
    "available_backends",
    "backends_for",
    "check_accepts",
    "get_backend",
    "register_backend",
    "registered_backends",
    "require_available",
]

ENTRY_POINT_GROUP = "neurodeploy.backends"
#: In :attr:`Capabilities.profiles`: float models (``profile is None``).
FLOAT = "float"
#: In :attr:`Capabilities.profiles`: a hardware model of any registered target.
ANY_HARDWARE = "*"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do.

    Attributes
    ----------
    profiles : frozenset of str
        Model profiles it runs: target names, :data:`FLOAT` for float models, :data:`ANY_HARDWARE`
        for every hardware target.
    records_v : bool
        :meth:`Backend.run` returns v (otherwise spikes only).
    exports : bool
        :meth:`Backend.export` writes what a toolchain loads.
    exports_inputs : bool
        :meth:`Backend.export` also takes input samples (``inputs=``).
    deploys : bool
        Has ``deploy(network, out_dir, inputs, *, host, sys_tick_in_s, record_v, log) -> Path``
        (results file) and ``compare(network, results, inputs) -> report`` for a board.
    """

    profiles: frozenset[str]
    records_v: bool = True
    exports: bool = False
    exports_inputs: bool = False
    deploys: bool = False

    def accepts(self, profile: str | None) -> bool:
        """True when models of ``profile`` (None: float models) run on this backend."""
        if profile is None:
            return FLOAT in self.profiles
        return profile in self.profiles or ANY_HARDWARE in self.profiles

    def describe(self) -> str:
        """The accepted models in words, e.g. ``loihi2 hardware models``."""
        parts = []
        if FLOAT in self.profiles:
            parts.append("float models")
        if ANY_HARDWARE in self.profiles:
            parts.append("hardware models of any target")
        named = sorted(self.profiles - {FLOAT, ANY_HARDWARE})
        if named:
            parts.append(f"{' and '.join(named)} hardware models")
        return " and ".join(parts) or "no models"


@runtime_checkable
class Backend(Protocol):
    """What every backend offers (plus ``export``, ``deploy`` and ``compare`` as its
    :attr:`capabilities` declare).

    Attributes
    ----------
    name : str
        Registry key.
    capabilities : Capabilities
    """

    name: str
    capabilities: Capabilities

    def is_available(self) -> bool:
        """True when :meth:`run` can work here (toolchain importable, device reachable)."""
        ...

    def unavailable_reason(self) -> str:
        """One line: why it cannot run here and what to install."""
        ...

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        """Run every sample of ``inputs``; spikes (and v) per non-input population, each shaped
        (n_samples, n_steps, size), step ``t`` as in :mod:`neurodeploy.records`."""
        ...


def check_accepts(backend: Backend, network: Network, where: str = "") -> None:
    """ConfigError in one line unless ``backend`` runs models like ``network``."""
    caps = backend.capabilities
    if caps.accepts(network.profile):
        return
    prefix = f"{where}: " if where else ""
    line = not_runnable(f"backend {backend.name!r}", caps.describe(), network)
    raise ConfigError(prefix + line)


def require_available(backend: Backend) -> None:
    """BackendUnavailableError with the backend's own reason unless it can run here."""
    if not backend.is_available():
        raise BackendUnavailableError(backend.unavailable_reason())


# ------------------------------------------------------------------------------ core backends


@dataclass(frozen=True)
class FloatBackend:
    """The canonical float model (:mod:`neurodeploy.emulator.canonical`); a hardware model runs
    as the float model it approximates (its target's ``dequantize``)."""

    name: str = "float"
    capabilities: Capabilities = Capabilities(profiles=frozenset({FLOAT, ANY_HARDWARE}))

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        from neurodeploy.emulator.canonical import simulate
        from neurodeploy.targets import dequantize

        if network.is_hardware:
            network = dequantize(network)
        return simulate(network, inputs)


@dataclass(frozen=True)
class EmulatorBackend:
    """The bit-accurate emulator of a hardware model's target (:mod:`neurodeploy.targets`)."""

    name: str = "emulator"
    capabilities: Capabilities = Capabilities(profiles=frozenset({ANY_HARDWARE}))

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        from neurodeploy.targets import get_target

        return get_target(network.profile).emulate(network, inputs, record_v=record_v)


# ------------------------------------------------------------------------------ registry

_REGISTRY: dict[str, Backend] = {}
_CORE: dict[str, Callable[[], Backend]] = {"float": FloatBackend, "emulator": EmulatorBackend}


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _problems(backend: Any) -> list[str]:
    if isinstance(backend, type) or not isinstance(backend, Backend):
        return [
            "expected a backend instance with name, capabilities, is_available, "
            f"unavailable_reason and run, got {backend!r}"
        ]
    if not isinstance(backend.capabilities, Capabilities):
        return [
            f"{backend.name}: capabilities must be a Capabilities, got {backend.capabilities!r}"
        ]
    caps = backend.capabilities
    needed = [m for flag, m in ((caps.exports, "export"), (caps.deploys, "deploy")) if flag]
    needed += ["compare"] if caps.deploys else []
    return [
        f"{backend.name}: declares it can {m} but has no {m}() method"
        for m in needed
        if not callable(getattr(backend, m, None))
    ]


def register_backend(backend: Backend, *, replace: bool = False) -> None:
    """Register ``backend`` under ``backend.name``.

    Raises ConfigError if the object lacks the :class:`Backend` members or a method its
    capabilities declare, or if the name is taken and ``replace`` is false.
    """
    problems = _problems(backend)
    if problems:
        raise ConfigError("register_backend: " + "; ".join(problems))
    if not replace and backend.name in registered_backends():
        raise ConfigError(
            f"backend {backend.name!r} is already registered; pass replace=True to replace it"
        )
    _REGISTRY[backend.name] = backend


def registered_backends() -> list[str]:
    """Names of every registered backend, available here or not, sorted."""
    return sorted({*_REGISTRY, *_CORE, *_entry_points()})


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``; ConfigError listing the known names otherwise."""
    if name not in _REGISTRY:
        factory: Callable[[], Any] | None = _CORE.get(name)
        if factory is None and name in (found := _entry_points()):
            factory = found[name].load()
        if factory is not None:
            backend = factory()
            problems = _problems(backend)
            if problems:
                raise ConfigError(f"backend {name!r} is broken: " + "; ".join(problems))
            _REGISTRY[name] = backend
    backend = _REGISTRY.get(name)
    if backend is None:
        raise ConfigError(
            f"backend must be one of {', '.join(registered_backends())}, got {name!r}"
        )
    return backend


def available_backends() -> list[str]:
    """Names of the registered backends whose :meth:`Backend.is_available` is true here, sorted."""
    return [name for name in registered_backends() if get_backend(name).is_available()]


def backends_for(profile: str | None, names: Iterable[str] | None = None) -> list[str]:
    """Registered backends that run models of ``profile`` (None: float models), sorted."""
    names = registered_backends() if names is None else names
    return [n for n in names if get_backend(n).capabilities.accepts(profile)]
