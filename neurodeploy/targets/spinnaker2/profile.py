"""SpiNNaker2's limits (py-spinnaker2 ``lif_curr_exp``) and the choices its documentation leaves open."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from neurodeploy.network import Network
from neurodeploy.profiles import HardwareProfile, IntRange, ProfileOption

__all__ = ["SPINNAKER2"]

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
