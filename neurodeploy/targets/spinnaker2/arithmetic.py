"""SpiNNaker2 arithmetic every stage shares: float32 values, the 4-bit weight grid and the way back
to the float model (:func:`dequantize`).

A ``spinnaker2`` hardware model keeps float32 parameters in hardware units, where one integer
weight unit adds 1.0 to a current: ``alpha_decay = decay_mem``, ``exc_decay = inh_decay =
decay_syn``, ``threshold / v_scale`` and ``bias / v_scale`` of the float model it approximates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neurodeploy.network import Network, Population, Projection
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2

__all__ = ["V_RESET", "dequantize", "f32", "projection_grid"]

#: ``v_reset`` (and ``v_init``) of every exported population: the canonical reset to 0.
V_RESET = 0.0


def f32(x: float | NDArray[np.floating]) -> float | NDArray[np.float64]:
    """The float32 value of ``x``, held as float64 (hardware models store what the chip runs)."""
    out = np.asarray(x, dtype=np.float32).astype(np.float64)
    return float(out) if out.ndim == 0 else out


def projection_grid(projection: Projection) -> tuple[int, int, int]:
    """``(low, high, multiple)`` of a ``spinnaker2`` projection's integer weights."""
    return SPINNAKER2.weight_range.low, SPINNAKER2.weight_range.high, 1


def dequantize(hardware: Network) -> Network:
    """The float model a ``spinnaker2`` hardware model approximates: weights, threshold and bias
    times the population unit ``v_scale``; decays as stored (float32 values); integer delays."""
    pops = [
        pop
        if pop.kind == "input"
        else Population(
            name=pop.name,
            size=pop.size,
            kind=pop.kind,
            decay_mem=pop.decay_mem,
            decay_syn=pop.decay_syn,
            threshold=pop.threshold * pop.v_scale if np.isfinite(pop.threshold) else 1.0,
            bias=pop.bias * pop.v_scale,
        )
        for pop in hardware.populations
    ]
    projs = [
        Projection(
            source=p.source,
            target=p.target,
            weights=p.weights * p.weight_scale,
            delays=p.delays.astype(np.float64),
        )
        for p in hardware.projections
    ]
    return hardware.as_float(populations=tuple(pops), projections=tuple(projs))
