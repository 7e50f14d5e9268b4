"""Loihi 2 arithmetic every stage shares: sign modes, effective weights, weight grids, the decay,
threshold and bias conversions, and the way back to the float model (:func:`dequantize`).

Canonical float model (docs/ARCHITECTURE.md) versus Lava's fixed-point LIF::

    I = decay_syn*I + sum w s          u = trunc(u*(4095-du)/4096) + 64 * sum (w_int << weight_exp) s
    V = decay_mem*V + I + bias         v = trunc(v*(4096-dv)/4096) + u + (bias_mant << bias_exp)
    spike V > threshold                spike v > 64 * vth

With ``s`` the float value of one integer unit of u and v (the population's ``v_scale``):
``du = 4095 - round(4096 decay_syn)``, ``dv = round(4096 (1 - decay_mem))``,
``vth = round(threshold / (64 s))``, a weight is ``w_int * 2^weight_exp * 64 s`` and the bias is
``(bias_mant << bias_exp) * s``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from neurodeploy.network import Network, Population, Projection

__all__ = [
    "EXCITATORY",
    "INHIBITORY",
    "MIXED",
    "SIGN_MODES",
    "WeightGrid",
    "bias_int32",
    "decay_mem_from_dv",
    "decay_syn_from_du",
    "dequantize",
    "du_from_decay_syn",
    "dv_from_decay_mem",
    "effective_weights",
    "infer_sign_mode",
    "projection_grid",
    "weight_grid",
]

#: lava.utils.weightutils.SignMode values; 0 in ``hw_params["sign_mode"]`` means "infer from the
#: weights" (Lava's default).
MIXED, EXCITATORY, INHIBITORY = 1, 2, 3
SIGN_MODES = {MIXED: "mixed", EXCITATORY: "excitatory", INHIBITORY: "inhibitory"}


def infer_sign_mode(weights: NDArray[np.number]) -> int:
    """Lava's rule: excitatory if no weight is negative (all-zero included), inhibitory if none
    is positive, mixed otherwise."""
    if weights.size == 0 or weights.min() >= 0:
        return EXCITATORY
    if weights.max() <= 0:
        return INHIBITORY
    return MIXED


def effective_weights(
    weights: NDArray[np.integer], num_weight_bits: int, sign_mode: int = 0
) -> NDArray[np.int64]:
    """The integer weights Lava's Dense actually uses, shape of ``weights``.

    Clip to 8 bits for the sign mode (mixed [-256, 255], excitatory [0, 255], inhibitory [-255, 0]),
    then drop the low ``8 - num_weight_bits + is_mixed`` bits with a floor (of the magnitude for
    inhibitory weights). ``sign_mode`` 0 infers it from ``weights``.
    """
    mode = sign_mode or infer_sign_mode(np.asarray(weights))
    w = np.asarray(weights, dtype=np.int64)
    if mode == INHIBITORY:
        w = -w
    w = np.clip(w, -256 if mode == MIXED else 0, 255)
    drop = 8 - num_weight_bits + (1 if mode == MIXED else 0)
    w = (w >> drop) << drop
    return -w if mode == INHIBITORY else w


class WeightGrid(NamedTuple):
    """Integers ``low..high`` in steps of ``multiple`` that a projection's weights can take."""

    low: int
    high: int
    multiple: int
    sign_mode: int


_GRIDS = {
    MIXED: WeightGrid(-256, 254, 2, MIXED),
    EXCITATORY: WeightGrid(0, 255, 1, EXCITATORY),
    INHIBITORY: WeightGrid(-255, 0, 1, INHIBITORY),
}


def weight_grid(weights: NDArray[np.number], sign_mode: int = 0) -> WeightGrid:
    """Lava's 8-bit grid for the sign mode (inferred from ``weights`` when 0): mixed signs give
    even integers in [-256, 254]."""
    return _GRIDS[sign_mode or infer_sign_mode(np.asarray(weights))]


def projection_grid(projection: Projection) -> tuple[int, int, int]:
    """``(low, high, multiple)`` of a ``loihi2`` projection's integer weights (its sign mode and
    ``num_weight_bits``)."""
    grid = weight_grid(projection.weights, projection.hw_params.get("sign_mode", 0))
    drop = 8 - projection.hw_params["num_weight_bits"]
    return grid.low, grid.high, grid.multiple << drop


def du_from_decay_syn(decay_syn: float) -> int:
    """Lava's current decay ``du`` (-1 allowed: no decay) closest to ``decay_syn``."""
    return int(np.clip(4095 - round(4096 * decay_syn), -1, 4095))


def dv_from_decay_mem(decay_mem: float) -> int:
    """Lava's voltage decay ``dv`` closest to ``decay_mem``."""
    return int(np.clip(round(4096 * (1.0 - decay_mem)), 0, 4096))


def decay_syn_from_du(du: int) -> float:
    """The per-step current decay Lava applies for ``du``: ``(4095 - du) / 4096``."""
    return (4095 - int(du)) / 4096


def decay_mem_from_dv(dv: int) -> float:
    """The per-step voltage decay Lava applies for ``dv``: ``(4096 - dv) / 4096``."""
    return (4096 - int(dv)) / 4096


def bias_int32(bias_mant: NDArray[np.int64], bias_exp: NDArray[np.int64]) -> NDArray[np.int64]:
    """``bias_mant << bias_exp`` (floor ``>>`` for a negative exponent), as Lava computes it in
    int32 (wrapped)."""
    shifted = np.where(
        bias_exp >= 0, bias_mant << np.maximum(bias_exp, 0), bias_mant >> np.maximum(-bias_exp, 0)
    )
    return ((shifted + 2**31) % 2**32) - 2**31


def dequantize(hardware: Network) -> Network:
    """The float model a ``loihi2`` hardware model approximates: weights ``w_int * weight_scale``
    (after Lava's weight preprocessing), decays ``(4096 - dv)/4096`` and ``(4095 - du)/4096``,
    threshold ``64 vth v_scale``, bias ``(bias_mant << bias_exp) v_scale``; integer delays."""
    pops = []
    for pop in hardware.populations:
        if pop.kind == "input":
            pops.append(pop)
            continue
        hw = {k: np.broadcast_to(v, (pop.size,)) for k, v in pop.hw_params.items()}
        pops.append(
            Population(
                name=pop.name,
                size=pop.size,
                kind=pop.kind,
                decay_mem=decay_mem_from_dv(hw["dv"][0]),
                decay_syn=decay_syn_from_du(hw["du"][0]),
                threshold=64 * int(hw["vth"][0]) * pop.v_scale
                if pop.kind == "lif"
                else pop.threshold,
                bias=hw["bias_mant"] * 2.0 ** hw["bias_exp"].astype(np.float64) * pop.v_scale,
            )
        )
    projs = [
        Projection(
            source=p.source,
            target=p.target,
            weights=effective_weights(
                p.weights, p.hw_params["num_weight_bits"], p.hw_params.get("sign_mode", 0)
            )
            * p.weight_scale,
            delays=p.delays.astype(np.float64),
        )
        for p in hardware.projections
    ]
    return hardware.as_float(populations=tuple(pops), projections=tuple(projs))
