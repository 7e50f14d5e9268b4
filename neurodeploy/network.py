"""The network description every stage reads and writes.

A :class:`Network` is a time step, an ordered tuple of :class:`Population` and a tuple of
:class:`Projection`. The float model (``profile is None``) is what the trainer writes; a hardware
model (``profile`` names a :mod:`neurodeploy.profiles` entry) holds integers for one target plus the
scale factors that map them back to float units.

Canonical time-step semantics (docs/ARCHITECTURE.md), per step ``t`` and non-input neuron::

    I[t] = decay_syn * I[t-1] + sum_j w_ij * s_j[t - 1 - d_ij]
    V[t] = decay_mem * V[t-1] + I[t] + bias
    spike if V[t] > threshold, then V[t] = 0        (kind "lif"; "li" never spikes)

The data model does no I/O and imports neither h5py nor numba.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import NetworkError
from neurodeploy.readout import READOUTS

__all__ = [
    "KINDS",
    "MAX_DELAY_STEPS",
    "MAX_FLOAT_MAGNITUDE",
    "MAX_NEURONS",
    "Network",
    "Population",
    "Projection",
    "decay_from_tau",
]

KINDS = ("input", "lif", "li")
PopulationKind = Literal["input", "lif", "li"]
#: Largest delay (steps beyond the one-step latency) any model may hold: every runner keeps a ring
#: of this many slots per neuron, so an absurd delay would exhaust memory before failing.
MAX_DELAY_STEPS = 65535
#: Most neurons one population may have (a bound that keeps a damaged size from allocating
#: terabytes; far above what any supported target or the trainer handles).
MAX_NEURONS = 10_000_000
#: Largest magnitude of a float model's weights, biases and thresholds: far beyond any trained
#: value, and small enough that sums over a layer and a quantizer's scales stay finite.
MAX_FLOAT_MAGNITUDE = 1e12
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


def decay_from_tau(tau_ms: float, dt_ms: float) -> float:
    """Per-step decay factor ``exp(-dt/tau)`` (unitless) for a time constant in ms."""
    return math.exp(-dt_ms / tau_ms)


def _frozen_mapping(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


def _frozen_array(values: Any, dtype: Any = None) -> NDArray[Any]:
    """A read-only array holding ``values``: copied unless it already is a read-only array
    owning its data (one this module made), so that no caller's array can change a network."""
    if (
        isinstance(values, np.ndarray)
        and not values.flags.writeable
        and values.flags.owndata
        and (dtype is None or values.dtype == dtype)
    ):
        return values
    out = np.array(values, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equality of field values: arrays by shape and values, mappings item by item."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _Described:
    """Value semantics for the network description: ``==`` compares every field (arrays by
    value), ``hash`` uses the cheap identifying fields (:attr:`_key`). Instances are immutable:
    frozen fields, read-only arrays, mapping proxies."""

    _key: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, k) for k in self._key)))


@dataclass(frozen=True, kw_only=True, eq=False)
class Population(_Described):
    """A group of neurons sharing one model.

    Parameters
    ----------
    name : str
        Unique within the network; letters, digits, ``_ . -``.
    size : int
        Number of neurons.
    kind : {"input", "lif", "li"}
        Spike source, spiking LIF, or non-spiking leaky integrator (readout).
    decay_mem, decay_syn : float
        Per-step decays of V and I (unitless, in [0, 1]); ``exp(-dt/tau)``.
    threshold : float
        Firing threshold in V units (lif only).
    bias : ndarray, shape (size,)
        Constant input added to V every step, in V units.
    v_scale : float
        Float V units per integer V unit (hardware models; 1.0 for float models).
    hw_params : mapping of str to int ndarray
        Integer parameters of the hardware profile (e.g. Loihi 2 ``du, dv, vth, bias_mant, bias_exp``),
        each of shape (1,) or (size,). Empty for float models.
    """

    name: str
    size: int
    kind: PopulationKind
    decay_mem: float = 1.0
    decay_syn: float = 1.0
    threshold: float = 1.0
    bias: NDArray[np.float64] | None = None
    v_scale: float = 1.0
    hw_params: Mapping[str, NDArray[np.int64]] = field(default_factory=dict)

    _key = ("name", "size", "kind")

    def __post_init__(self) -> None:
        bias = np.zeros(self.size) if self.bias is None else self.bias
        object.__setattr__(self, "bias", _frozen_array(bias, np.float64))
        hw = {k: _frozen_array(np.atleast_1d(v)) for k, v in dict(self.hw_params).items()}
        object.__setattr__(self, "hw_params", MappingProxyType(hw))

    @property
    def is_spiking(self) -> bool:
        return self.kind == "lif"

    def problems(self) -> list[str]:
        """Structural problems of this population, one line each (empty when valid)."""
        where = f"populations/{self.name}"
        out: list[str] = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            out.append(f"{where}: name must match {_NAME.pattern}, got {self.name!r}")
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int | np.integer)
            or not 1 <= self.size <= MAX_NEURONS
        ):
            out.append(f"{where}/size must be an integer in [1, {MAX_NEURONS}], got {self.size!r}")
            return out
        if self.kind not in KINDS:
            out.append(f"{where}/kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for key in ("decay_mem", "decay_syn"):
            value = getattr(self, key)
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                out.append(f"{where}/{key} must be in [0, 1], got {value!r}")
        if not math.isfinite(self.threshold):
            out.append(f"{where}/threshold must be finite, got {self.threshold!r}")
        if not (math.isfinite(self.v_scale) and self.v_scale > 0):
            out.append(f"{where}/v_scale must be finite and > 0, got {self.v_scale!r}")
        out += _check_array(f"{where}/bias", self.bias, (self.size,))
        for key, value in self.hw_params.items():
            if value.shape not in ((1,), (self.size,)):
                out.append(
                    f"{where}/hw_params/{key} must have shape (1,) or ({self.size},), "
                    f"got {value.shape}"
                )
            elif not np.issubdtype(value.dtype, np.integer):
                out.append(f"{where}/hw_params/{key} must be integer, got dtype {value.dtype}")
        return out


@dataclass(frozen=True, kw_only=True, eq=False)
class Projection(_Described):
    """All synapses from one population onto another (``source == target`` for recurrent).

    Parameters
    ----------
    source, target : str
        Population names.
    weights : ndarray, shape (n_post, n_pre)
        Float weights in I units per spike, or integer hardware weights.
    delays : ndarray, shape (n_post, n_pre)
        Extra delay in time steps beyond the one-step latency; float while training,
        non-negative integers in a hardware model.
    weight_scale : float
        Float weight per integer weight unit (hardware models; 1.0 for float models).
    hw_params : mapping of str to int
        Integer projection parameters of the hardware profile (e.g. Loihi 2 ``weight_exp``,
        ``num_weight_bits``, ``sign_mode``). Empty for float models.
    """

    source: str
    target: str
    weights: NDArray[Any]
    delays: NDArray[Any] | None = None
    weight_scale: float = 1.0
    hw_params: Mapping[str, int] = field(default_factory=dict)

    _key = ("source", "target")

    def __post_init__(self) -> None:
        weights = _frozen_array(self.weights)
        object.__setattr__(self, "weights", weights)
        if self.delays is None:
            delays = np.zeros(weights.shape, dtype=weights.dtype if weights.ndim == 2 else float)
        else:
            delays = self.delays
        object.__setattr__(self, "delays", _frozen_array(delays))
        object.__setattr__(
            self, "hw_params", _frozen_mapping({k: int(v) for k, v in dict(self.hw_params).items()})
        )

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    @property
    def is_recurrent(self) -> bool:
        return self.source == self.target

    @property
    def max_delay(self) -> int:
        """Largest delay in steps (rounded), 0 for an empty projection."""
        return int(np.rint(self.delays.max())) if self.delays.size else 0


@dataclass(frozen=True, kw_only=True, eq=False)
class Network(_Described):
    """A spiking network: time step, populations in order, projections, metadata.

    Parameters
    ----------
    dt_ms : float
        Time step in ms.
    populations : tuple of Population
        In order; inputs first by convention.
    projections : tuple of Projection
    profile : str or None
        Hardware profile name for a hardware model, None for a float model.
    readout : str or None
        How a class is read from the output population (:data:`neurodeploy.readout.READOUTS`);
        None for a network that is not a classifier.
    output : str or None
        The population classes are read from; None: the last non-input population
        (:attr:`output_population`).
    profile_options : mapping
        Values pinned for the profile's options (hardware models only; see
        :meth:`neurodeploy.profiles.HardwareProfile.resolve_options`).
    metadata : mapping
        JSON-serialisable provenance: dataset, training config, metrics, versions.
    """

    dt_ms: float
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...] = ()
    profile: str | None = None
    readout: str | None = None
    output: str | None = None
    profile_options: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    _key = ("dt_ms", "profile")

    def __post_init__(self) -> None:
        object.__setattr__(self, "populations", tuple(self.populations))
        object.__setattr__(self, "projections", tuple(self.projections))
        object.__setattr__(self, "metadata", _frozen_mapping(self.metadata))
        object.__setattr__(self, "profile_options", _frozen_mapping(self.profile_options))

    @property
    def is_hardware(self) -> bool:
        return self.profile is not None

    def population(self, name: str) -> Population:
        """The population called ``name``; NetworkError if there is none."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise NetworkError(
            f"no population named {name!r}; have {[p.name for p in self.populations]}"
        )

    def index(self, name: str) -> int:
        """Position of population ``name`` in :attr:`populations`."""
        return [p.name for p in self.populations].index(name)

    @property
    def output_population(self) -> str:
        """Name of the population classes are read from (:attr:`output`, or the last non-input)."""
        if self.output is not None:
            return self.output
        others = [p.name for p in self.populations if p.kind != "input"]
        if not others:
            raise NetworkError("the network has no non-input population to read classes from")
        return others[-1]

    def as_float(self, **changes: Any) -> Network:
        """A float model (no profile, no profile options) with this network's readout, output
        and metadata, and ``changes`` applied (e.g. ``populations=``, ``projections=``)."""
        return replace(self, profile=None, profile_options={}, **changes)

    @property
    def inputs(self) -> tuple[Population, ...]:
        return tuple(p for p in self.populations if p.kind == "input")

    def incoming(self, name: str) -> tuple[Projection, ...]:
        """Projections whose target is ``name``, in network order."""
        return tuple(p for p in self.projections if p.target == name)

    def with_metadata(self, **updates: Any) -> Network:
        """A copy with ``updates`` merged into the metadata."""
        return replace(self, metadata={**self.metadata, **updates})

    def problems(self) -> list[str]:
        """Structural problems, one line each (empty when valid). Profile ranges are not checked
        here; see :func:`neurodeploy.profiles.check_network`."""
        out: list[str] = []
        if not (
            isinstance(self.dt_ms, float | int) and math.isfinite(self.dt_ms) and self.dt_ms > 0
        ):
            out.append(f"dt_ms must be finite and > 0, got {self.dt_ms!r}")
        if not self.populations:
            out.append("populations: a network needs at least one population")
        names = [p.name for p in self.populations]
        for name in sorted({n for n in names if names.count(n) > 1}):
            out.append(f"populations/{name}: name is used more than once")
        for pop in self.populations:
            out += pop.problems()
            if (
                not self.is_hardware
                and pop.kind == "lif"
                and math.isfinite(pop.threshold)
                and pop.threshold <= 0
            ):
                out.append(
                    f"populations/{pop.name}/threshold must be > 0 for a lif population of a "
                    f"float model (V starts at 0 and would spike every step), got {pop.threshold!r}"
                )
            if not self.is_hardware:
                out += _magnitude(f"populations/{pop.name}/threshold", np.array([pop.threshold]))
                out += _magnitude(f"populations/{pop.name}/bias", pop.bias)
        sizes = {p.name: p.size for p in self.populations}
        kinds = {p.name: p.kind for p in self.populations}
        if self.readout is not None and self.readout not in READOUTS:
            out.append(f"readout must be one of {', '.join(READOUTS)}, got {self.readout!r}")
        if self.output is not None and kinds.get(self.output, "input") == "input":
            allowed = ", ".join(n for n, k in kinds.items() if k != "input") or "none"
            out.append(f"output must name a non-input population ({allowed}), got {self.output!r}")
        if self.profile_options and self.profile is None:
            out.append("profile_options: only a hardware model (with a profile) has them")
        bad_sizes = {
            p.name
            for p in self.populations
            if isinstance(p.size, bool)
            or not isinstance(p.size, int | np.integer)
            or not 1 <= p.size <= MAX_NEURONS
        }
        seen: set[tuple[str, str]] = set()
        for i, proj in enumerate(self.projections):
            where = f"projections/{i} ({proj.name})"
            unknown = [n for n in (proj.source, proj.target) if n not in sizes]
            if unknown:
                out.append(f"{where}: unknown population {unknown[0]!r}; known: {', '.join(names)}")
                continue
            if any(n in bad_sizes for n in (proj.source, proj.target)):
                continue  # the population's size is the problem, reported above
            if kinds[proj.target] == "input":
                out.append(f"{where}: target {proj.target!r} is an input population")
            if (proj.source, proj.target) in seen:
                out.append(f"{where}: a second projection between the same populations")
            seen.add((proj.source, proj.target))
            shape = (sizes[proj.target], sizes[proj.source])
            out += _check_array(f"{where}/weights", proj.weights, shape)
            if not self.is_hardware and proj.weights.shape == shape:
                out += _magnitude(f"{where}/weights", proj.weights)
            out += _check_array(f"{where}/delays", proj.delays, shape)
            if (
                proj.delays.shape == shape
                and proj.delays.size
                and np.issubdtype(proj.delays.dtype, np.number)
                and np.isfinite(proj.delays).all()
            ):
                if (proj.delays < 0).any():
                    out.append(f"{where}/delays must be >= 0 steps, got min {proj.delays.min()}")
                if proj.delays.max() > MAX_DELAY_STEPS:
                    out.append(
                        f"{where}/delays must be <= {MAX_DELAY_STEPS} steps, "
                        f"got {proj.delays.max()}"
                    )
            if not (math.isfinite(proj.weight_scale) and proj.weight_scale > 0):
                out.append(
                    f"{where}/weight_scale must be finite and > 0, got {proj.weight_scale!r}"
                )
            if self.is_hardware:
                for key in ("weights", "delays"):
                    value = getattr(proj, key)
                    if value.shape == shape and not _is_integral(value):
                        out.append(f"{where}/{key} must be integers in a hardware model")
        return out

    def validate(self) -> Network:
        """Return self, or raise NetworkError listing every structural problem (one per line)."""
        problems = self.problems()
        if problems:
            raise NetworkError("\n".join(problems))
        return self


def _check_array(where: str, value: NDArray[Any], shape: tuple[int, ...]) -> list[str]:
    if value.shape != shape:
        return [f"{where} must have shape {shape}, got {value.shape}"]
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
        return [f"{where} must be numeric, got dtype {value.dtype}"]
    if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
        bad = np.argwhere(~np.isfinite(value))[0]
        return [
            f"{where} must be finite, got {value[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        ]
    return []


def _magnitude(where: str, value: NDArray[Any]) -> list[str]:
    """One line if a finite numeric ``value`` holds a magnitude above MAX_FLOAT_MAGNITUDE."""
    if not value.size or not np.issubdtype(value.dtype, np.number):
        return []
    with np.errstate(invalid="ignore"):
        big = np.abs(value.astype(np.float64)) > MAX_FLOAT_MAGNITUDE
    if not big.any():
        return []
    index = tuple(int(i) for i in np.argwhere(big)[0])
    return [
        f"{where} must be at most {MAX_FLOAT_MAGNITUDE:g} in magnitude, got "
        f"{value[index]} at index {index}"
    ]


def _is_integral(value: NDArray[Any]) -> bool:
    if np.issubdtype(value.dtype, np.integer):
        return True
    return bool(np.isfinite(value).all() and (np.rint(value) == value).all())
