"""Loihi 2's limits: the integer ranges of Lava's bit-accurate LIF and Dense/DelayDense models."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

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


def _loihi2_weights_on_their_grid(network: Network) -> list[str]:
    """Each projection's integer weights on the grid Lava's Dense keeps them on unchanged: 8 bits
    for the sign mode (mixed [-256, 254] even, excitatory [0, 255], inhibitory [-255, 0]) with the
    low ``8 - num_weight_bits`` bits (of the magnitude) zero. Lava would clip or floor any other
    value silently, so the model would not run what it says."""
    from neurodeploy.targets.loihi2.arithmetic import SIGN_MODES, projection_grid

    out = []
    for i, proj in enumerate(network.projections):
        bits = proj.hw_params.get("num_weight_bits")
        mode = proj.hw_params.get("sign_mode", 0)
        if bits is None or not 1 <= bits <= 8 or not 0 <= mode <= 3 or not proj.weights.size:
            continue  # reported by the ranges
        if not np.issubdtype(proj.weights.dtype, np.integer):
            continue  # reported by the structure check
        low, high, multiple = projection_grid(proj)
        w = proj.weights.astype(np.int64)
        bad = (w < low) | (w > high) | (w % multiple != 0)
        if bad.any():
            index = tuple(int(x) for x in np.argwhere(bad)[0])
            kind = SIGN_MODES.get(mode, "inferred") if mode else "inferred"
            out.append(
                f"projections/{i} ({proj.name})/weights must be multiples of {multiple} in "
                f"[{low}, {high}] (num_weight_bits {bits}, sign mode {kind}), got {w[index]} at "
                f"{index}"
            )
    return out


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
    file_rules=(_loihi2_weights_on_their_grid,),
)
