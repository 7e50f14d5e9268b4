"""Hardware profiles as data: the integer ranges and limits a hardware model must respect.

A profile is what loading, emulating and quantizing all need to agree on, so its limits live in
the core; :mod:`neurodeploy.quantize` adds the float → integer mapping for each profile. Adding a
target means adding a :class:`HardwareProfile` to :data:`PROFILES` (and a backend).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from neurodeploy.errors import ConfigError, ProfileLimitError
from neurodeploy.network import Network

__all__ = [
    "LOIHI2",
    "PROFILES",
    "PROFILE_OPTIONS_KEY",
    "SPINNAKER2",
    "HardwareProfile",
    "IntRange",
    "ProfileOption",
    "check_network",
    "get_profile",
]

#: Metadata key under which a hardware model pins values of its profile's options.
PROFILE_OPTIONS_KEY = "profile_options"


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
        ``metadata["profile_options"]``; see :meth:`resolve_options`.
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
    options: Mapping[str, ProfileOption] = field(default_factory=dict)

    def option_problems(
        self, values: Mapping[str, Any], where: str = PROFILE_OPTIONS_KEY
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
        """Option values in force: defaults, then ``network.metadata["profile_options"]``, then
        ``overrides``.

        Raises
        ------
        ConfigError
            One line per unknown option name or disallowed value.
        """
        values = {key: option.default for key, option in self.options.items()}
        layers: list[tuple[str, Mapping[str, Any]]] = []
        if network is not None and PROFILE_OPTIONS_KEY in network.metadata:
            layers.append(
                (f"metadata/{PROFILE_OPTIONS_KEY}", network.metadata[PROFILE_OPTIONS_KEY])
            )
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
        if PROFILE_OPTIONS_KEY in network.metadata:
            out += self.option_problems(
                network.metadata[PROFILE_OPTIONS_KEY], f"metadata/{PROFILE_OPTIONS_KEY}"
            )
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
    # 0: infer from the weights as Lava does; 1 mixed, 2 excitatory, 3 inhibitory (lava SignMode).
    optional_projection_params=MappingProxyType({"sign_mode": IntRange(0, 3)}),
    weight_range=IntRange(-256, 255),
    delay_range=IntRange(0, 62),
    max_neurons_per_core=8192,
    rules=(_loihi2_no_unknown_neuron_params,),
)


# --------------------------------------------------------------------------------------------
# SpiNNaker2 (py-spinnaker2, neuron model lif_curr_exp). docs/ARCHITECTURE.md, "SpiNNaker2
# arithmetic", states the update; a spinnaker2 hardware model stores the float32 parameters in
# the ordinary Population fields (all in hardware units, where one integer weight unit is 1.0):
#
#   Population.decay_mem  -> alpha_decay          Population.threshold -> threshold
#   Population.decay_syn  -> exc_decay, inh_decay Population.bias      -> i_offset (per neuron)
#   Population.v_scale    -> float V units per hardware V unit
#   Projection.weights    -> integers in [-15, 15]; the sign picks the excitatory or inhibitory
#                            synapse type, |w| is the 4-bit weight field
#   Projection.delays     -> the 3-bit delay field 0..7; a spike at tick t arrives at t + 1 + d,
#                            the canonical timing (hardware delay = field + 1)
#   Projection.weight_scale -> float weight per integer weight unit
#
# Every float parameter must be exactly representable in float32: the hardware model then holds
# the numbers the chip runs, with no rounding left to any tool on the way.

_SPINNAKER2_FLOAT_FIELDS = ("decay_mem", "decay_syn", "threshold")


def _float32_problem(where: str, values: np.ndarray) -> str | None:
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        as32 = values.astype(np.float32)
    bad = ~np.isfinite(as32) | (as32.astype(np.float64) != values)
    if not bad.any():
        return None
    index = int(np.flatnonzero(bad.ravel())[0])
    value = values.ravel()[index]
    suffix = f" at index {index}" if values.ndim else ""
    return (
        f"{where} must be a finite float32 value (store float(numpy.float32(x))), "
        f"got {value!r}{suffix}"
    )


def _spinnaker2_float32_params(network: Network) -> list[str]:
    out = []
    for pop in network.populations:
        if pop.kind == "input":
            continue
        where = f"populations/{pop.name}"
        for key in _SPINNAKER2_FLOAT_FIELDS:
            line = _float32_problem(f"{where}/{key}", np.float64(getattr(pop, key)))
            if line:
                out.append(line)
        line = _float32_problem(f"{where}/bias", pop.bias)
        if line:
            out.append(line)
    return out


def _spinnaker2_no_hw_params(network: Network) -> list[str]:
    out = [
        f"populations/{pop.name}/hw_params/{key} is not a SpiNNaker2 parameter "
        "(spinnaker2 models keep their float32 parameters in the population fields)"
        for pop in network.populations
        for key in pop.hw_params
    ]
    out += [
        f"projections/{i} ({proj.name})/hw_params/{key} is not a SpiNNaker2 parameter"
        for i, proj in enumerate(network.projections)
        for key in proj.hw_params
    ]
    return out


# Choices hardware.md (Part B, C.2) marks UNVERIFIED, each with its most likely value.
_SPINNAKER2_OPTIONS = {
    "update_order": ProfileOption(
        default="currents_first",
        choices=("currents_first", "voltage_first"),
        doc="currents_first: I_exc, I_inh take this tick's input, then v uses the new currents "
        "(the canonical order, as hardware.md B.4 writes the lif_curr_exp update); "
        "voltage_first: v uses last tick's currents, which are updated afterwards. UNVERIFIED.",
    ),
    "threshold_op": ProfileOption(
        default=">",
        choices=(">", ">="),
        doc="Spike when v > threshold (as Loihi 2 and the canonical model) or v >= threshold. "
        "UNVERIFIED.",
    ),
    "reset": ProfileOption(
        default="reset_to_v_reset",
        choices=("reset_to_v_reset", "reset_by_subtraction"),
        doc="py-spinnaker2 reset mode after a spike: v = v_reset (= 0.0, the canonical reset) or "
        "v = v - threshold. Exported as the population parameter 'reset'.",
    ),
    "i_offset": ProfileOption(
        default="after_decay",
        choices=("after_decay", "before_decay"),
        doc="after_decay: v = alpha*v + I + i_offset (the canonical order, implied by the s2_nir and "
        "Fugu parameter mappings); "
        "before_decay: v = alpha*(v + i_offset) + I. UNVERIFIED.",
    ),
    "current_sum": ProfileOption(
        default="difference_first",
        choices=("difference_first", "left_to_right"),
        doc="Float32 rounding sequence of the input: difference_first adds (I_exc - I_inh); "
        "left_to_right adds I_exc, then subtracts I_inh. UNVERIFIED.",
    ),
    "fma": ProfileOption(
        default=False,
        choices=(False, True),
        doc="True if the compiler fuses each 'decay*x + y' into one Cortex-M4F VFMA (a single "
        "rounding). False (no contraction) is the default. UNVERIFIED.",
    ),
    "t_refrac_key": ProfileOption(
        default="t_refrac",
        choices=("t_refrac", "t_refract"),
        doc="Spelling of the refractory parameter written to lif_curr_exp params (examples use "
        "both; the refractory period is always 0 ticks). UNVERIFIED.",
    ),
    "max_atoms_per_core": ProfileOption(
        default=250,
        low=1,
        high=256,
        doc="Neurons per PE: 250 in the NESTML LIFApplication subclass; the 8-bit target field "
        "of a synapse word caps it at 256. UNVERIFIED for the stock lif_curr_exp app.",
    ),
    "synapse_memory_bytes": ProfileOption(
        default=45056,
        low=1,
        high=131072,
        doc="Bytes per PE for synapse rows: the app memory map puts data_spec_addr at 0x10000 "
        "and log_addr at 0x1B000 (44 KiB between them) in a 128 KiB SRAM. UNVERIFIED.",
    ),
    "pes_per_chip": ProfileOption(
        default=152,
        low=1,
        high=152,
        doc="Processing elements (PEs) on one SpiNNaker2 chip. UNVERIFIED (secondhand figure).",
    ),
}

SPINNAKER2 = HardwareProfile(
    name="spinnaker2",
    description="SpiNNaker2 through py-spinnaker2 (float32 lif_curr_exp, 4-bit weights, 3-bit delays)",
    neuron_params=MappingProxyType({}),
    projection_params=MappingProxyType({}),
    weight_range=IntRange(-15, 15),
    delay_range=IntRange(0, 7),
    max_neurons_per_core=250,
    rules=(_spinnaker2_float32_params, _spinnaker2_no_hw_params),
    options=MappingProxyType(_SPINNAKER2_OPTIONS),
)

PROFILES: dict[str, HardwareProfile] = {LOIHI2.name: LOIHI2, SPINNAKER2.name: SPINNAKER2}


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
