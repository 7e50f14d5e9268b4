"""Hardware profiles as data: the integer ranges and limits a hardware model must respect.

A profile is what loading, emulating and quantizing all need to agree on, so its limits live in
the core; :mod:`neurodeploy.quantize` adds the float → integer mapping for each profile. Adding a
target means adding a :class:`HardwareProfile` to :data:`PROFILES` (and a backend).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from neurodeploy.errors import ProfileLimitError
from neurodeploy.network import Network

__all__ = ["LOIHI2", "PROFILES", "HardwareProfile", "IntRange", "check_network", "get_profile"]


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

    def check(self, network: Network) -> list[str]:
        """Every limit ``network`` breaks, one line each (empty when it fits)."""
        out: list[str] = []
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
                    out.append(f"{where}/hw_params/{key} is missing (required by profile {self.name})")
                    continue
                line = allowed.violation(f"{where}/hw_params/{key}", np.array([proj.hw_params[key]]))
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


def _loihi2_no_unknown_neuron_params(network: Network) -> list[str]:
    return [
        f"populations/{pop.name}/hw_params/{key} is not a Loihi 2 parameter"
        for pop in network.populations
        for key in pop.hw_params
        if key not in LOIHI2.neuron_params
    ]


# Ranges from Lava's bit-accurate LIF and Dense models (docs/ARCHITECTURE.md, "Loihi 2").
# du = -1 is accepted: it is how lava-dl netx expresses "no current decay" (multiplier 4096).
LOIHI2 = HardwareProfile(
    name="loihi2",
    description="Intel Loihi 2 through Lava (fixed-point LIF, Dense/DelayDense)",
    neuron_params=MappingProxyType(
        {
            "du": IntRange(-1, 4095),
            "dv": IntRange(0, 4096),
            "vth": IntRange(0, 131071),
            "bias_mant": IntRange(-4096, 4095),
            "bias_exp": IntRange(0, 7),
        }
    ),
    projection_params=MappingProxyType(
        {"weight_exp": IntRange(-8, 7), "num_weight_bits": IntRange(1, 8)}
    ),
    # 0: infer from the weights as Lava does; 1 excitatory, 2 inhibitory, 3 mixed (lava SignMode).
    optional_projection_params=MappingProxyType({"sign_mode": IntRange(0, 3)}),
    weight_range=IntRange(-256, 255),
    delay_range=IntRange(0, 62),
    max_neurons_per_core=8192,
    rules=(_loihi2_no_unknown_neuron_params,),
)

PROFILES: dict[str, HardwareProfile] = {LOIHI2.name: LOIHI2}


def get_profile(name: str) -> HardwareProfile:
    """The registered profile ``name``; ProfileLimitError naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ProfileLimitError(
            f"profile must be one of {', '.join(sorted(PROFILES))}, got {name!r}"
        ) from None


def check_network(network: Network) -> None:
    """Raise ProfileLimitError listing every limit a hardware model breaks (one per line)."""
    if network.profile is None:
        return
    problems = get_profile(network.profile).check(network)
    if problems:
        raise ProfileLimitError("\n".join(problems))
