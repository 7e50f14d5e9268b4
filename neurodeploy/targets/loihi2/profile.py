"""Loihi 2's limits: the integer ranges of Lava's bit-accurate LIF and Dense/DelayDense models."""

from __future__ import annotations

from types import MappingProxyType

from neurodeploy.network import Network
from neurodeploy.profiles import HardwareProfile, IntRange

__all__ = ["LOIHI2"]


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
