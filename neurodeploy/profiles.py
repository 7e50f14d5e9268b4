"""Hardware profiles as data: the integer ranges and limits a hardware model must respect.

A profile is what loading, emulating and quantizing all need to agree on, so its limits live in
the core. This module holds the vocabulary (:class:`HardwareProfile`, :class:`IntRange`,
:class:`ProfileOption`); each target's own profile lives in its package
(:mod:`neurodeploy.targets`), and :func:`get_profile` looks it up there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurodeploy.errors import ConfigError, ProfileLimitError
from neurodeploy.network import Network

__all__ = [
    "HardwareProfile",
    "IntRange",
    "ProfileOption",
    "check_network",
    "get_profile",
]


@dataclass(frozen=True)
class IntRange:
    """Inclusive integer range ``[low, high]``."""

    low: int
    high: int

    def __str__(self) -> str:
        return f"[{self.low}, {self.high}]"

    def violation(self, where: str, values: np.ndarray) -> str | None:
        """One line describing the first out-of-range value, or None."""
        values = np.asarray(values)
        if values.size == 0:
            return None
        lo, hi = values.min(), values.max()
        if lo >= self.low and hi <= self.high:
            return None
        bad = lo if lo < self.low else hi
        return f"{where} must be in {self}, got {bad}"


@dataclass(frozen=True, kw_only=True)
class ProfileOption:
    """One documented choice of a profile whose true value is not known for certain.

    Parameters
    ----------
    default : str, bool or int
        The most likely value; used unless a hardware model or a caller says otherwise.
    doc : str
        What the option decides and why the default was chosen.
    choices : tuple, optional
        Allowed values; None for an integer option bounded by ``low`` and ``high``.
    low, high : int, optional
        Inclusive bounds of an integer option.
    """

    default: Any
    doc: str
    choices: tuple[Any, ...] | None = None
    low: int | None = None
    high: int | None = None

    def problem(self, where: str, value: Any) -> str | None:
        """One line if ``value`` is not allowed, else None."""
        if self.choices is not None:
            # bool is an int subclass: compare type too, so True never passes for 1.
            if any(type(value) is type(c) and value == c for c in self.choices):
                return None
            return f"{where} must be one of {', '.join(map(repr, self.choices))}, got {value!r}"
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            return f"{where} must be an integer, got {value!r}"
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            return f"{where} must be in [{self.low}, {self.high}], got {value}"
        return None


@dataclass(frozen=True, kw_only=True)
class HardwareProfile:
    """Limits of one target.

    Parameters
    ----------
    name : str
        Registry key, stored in hardware model files.
    description : str
        One line for reports.
    neuron_params : mapping of str to IntRange
        Integer parameters every non-input population must carry in ``hw_params``.
    projection_params : mapping of str to IntRange
        Integer parameters every projection must carry in ``hw_params``.
    optional_projection_params : mapping of str to IntRange
        Integer projection parameters that may be present.
    weight_range, delay_range : IntRange
        Allowed integer weights and delays (steps beyond the one-step latency).
    max_neurons_per_core : int
        Resource limit used for placement summaries.
    rules : tuple of callables
        Extra design rules ``rule(network) -> list[str]`` returning one line per violation.
    options : mapping of str to ProfileOption
        Choices the target's documentation leaves open (arithmetic order, resources), each with
        its most likely value as default. A hardware model may pin values in
        ``Network.profile_options``; see :meth:`resolve_options`.
    """

    name: str
    description: str
    neuron_params: Mapping[str, IntRange]
    projection_params: Mapping[str, IntRange]
    optional_projection_params: Mapping[str, IntRange] = field(default_factory=dict)
    weight_range: IntRange
    delay_range: IntRange
    max_neurons_per_core: int
    rules: tuple[Callable[[Network], list[str]], ...] = ()
    #: Rules a model *file* must also keep (what users deploy), beyond what an in-memory model
    #: may hold: verification feeds the toolchain inputs it accepts but silently changes (e.g.
    #: Loihi 2 weights off their grid, which Lava clips and floors).
    file_rules: tuple[Callable[[Network], list[str]], ...] = ()
    options: Mapping[str, ProfileOption] = field(default_factory=dict)

    def option_problems(
        self, values: Mapping[str, Any], where: str = "profile_options"
    ) -> list[str]:
        """Unknown option names and disallowed values in ``values``, one line each."""
        if not isinstance(values, Mapping):
            return [f"{where} must be a mapping of option names to values, got {values!r}"]
        out = []
        for key, value in values.items():
            option = self.options.get(key)
            if option is None:
                known = ", ".join(sorted(self.options)) or "none"
                out.append(
                    f"{where}/{key} is not an option of profile {self.name} (options: {known})"
                )
                continue
            line = option.problem(f"{where}/{key}", value)
            if line:
                out.append(line)
        return out

    def resolve_options(
        self, network: Network | None = None, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Option values in force: defaults, then ``network.profile_options``, then
        ``overrides``.

        Raises
        ------
        ConfigError
            One line per unknown option name or disallowed value.
        """
        values = {key: option.default for key, option in self.options.items()}
        layers: list[tuple[str, Mapping[str, Any]]] = []
        if network is not None and network.profile_options:
            layers.append(("profile_options", network.profile_options))
        if overrides:
            layers.append(("options", overrides))
        problems = [line for where, layer in layers for line in self.option_problems(layer, where)]
        if problems:
            raise ConfigError("\n".join(problems))
        for _, layer in layers:
            values.update(layer)
        return values

    def check(self, network: Network) -> list[str]:
        """Every limit ``network`` breaks, one line each (empty when it fits)."""
        out: list[str] = []
        out += self.option_problems(network.profile_options, "profile_options")
        for pop in network.populations:
            if pop.kind == "input":
                continue
            where = f"populations/{pop.name}/hw_params"
            for key, allowed in self.neuron_params.items():
                if key not in pop.hw_params:
                    out.append(f"{where}/{key} is missing (required by profile {self.name})")
                    continue
                line = allowed.violation(f"{where}/{key}", pop.hw_params[key])
                if line:
                    out.append(line)
        for i, proj in enumerate(network.projections):
            where = f"projections/{i} ({proj.name})"
            for key, allowed in self.projection_params.items():
                if key not in proj.hw_params:
                    out.append(
                        f"{where}/hw_params/{key} is missing (required by profile {self.name})"
                    )
                    continue
                line = allowed.violation(
                    f"{where}/hw_params/{key}", np.array([proj.hw_params[key]])
                )
                if line:
                    out.append(line)
            for key, allowed in self.optional_projection_params.items():
                if key in proj.hw_params:
                    value = np.array([proj.hw_params[key]])
                    line = allowed.violation(f"{where}/hw_params/{key}", value)
                    if line:
                        out.append(line)
            for key, allowed in (("weights", self.weight_range), ("delays", self.delay_range)):
                line = allowed.violation(f"{where}/{key}", getattr(proj, key))
                if line:
                    out.append(line)
        for rule in self.rules:
            out += rule(network)
        return out


def get_profile(name: str) -> HardwareProfile:
    """The profile of registered target ``name``; ConfigError naming the known ones otherwise."""
    from neurodeploy.targets import get_target

    return get_target(name).profile


def check_network(network: Network) -> None:
    """Raise ProfileLimitError listing every limit a hardware model breaks (one per line)."""
    if network.profile is None:
        return
    problems = get_profile(network.profile).check(network)
    if problems:
        raise ProfileLimitError("\n".join(problems))
