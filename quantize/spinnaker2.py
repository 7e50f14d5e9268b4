"""Float → SpiNNaker2 (``lif_curr_exp``) mapping.

SpiNNaker2 keeps neuron state in float32 and has no per-projection weight exponent: every
projection into a population shares the population's unit ``s`` (float value of one integer
weight), so weights are ``w_int * s`` with ``w_int`` in [-15, 15] (4-bit magnitude, sign = synapse
type) and the float32 parameters are, in those units, ``threshold / s``, ``bias / s`` and the
decays themselves (``alpha_decay = decay_mem``, ``exc_decay = inh_decay = decay_syn``). The delay
field 0..7 arrives after field + 1 ticks: the canonical ``t + 1 + d`` with ``d = field``.

``s`` is chosen on calibration data to minimise the activity-weighted squared weight error over
all incoming projections together (:func:`neurodeploy.quantize.grid.best_step`).
"""

from __future__ import annotations

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import SPINNAKER2
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.delays import map_delays
from neurodeploy.quantize.grid import best_step, fit_grid
from neurodeploy.quantize.mapping import MappedProjections, map_network

__all__ = ["dequantize_spinnaker2", "map_spinnaker2", "projection_grid"]


def _f32(x: float | np.ndarray) -> float | np.ndarray:
    """The float32 value, held as float64 (hardware models store what the chip runs)."""
    out = np.asarray(x, dtype=np.float32).astype(np.float64)
    return float(out) if out.ndim == 0 else out


def projection_grid(projection: Projection) -> tuple[int, int, int]:
    """``(low, high, multiple)`` of a ``spinnaker2`` projection's integer weights."""
    return SPINNAKER2.weight_range.low, SPINNAKER2.weight_range.high, 1


def map_spinnaker2(
    network: Network, calibration: Calibration, *, on_overflow: str = "error"
) -> tuple[Network, dict]:
    """Map a float network onto the SpiNNaker2 profile; see the module docstring.

    Returns the ``spinnaker2`` hardware model and the per-population and per-projection decisions.
    """
    return map_network(network, SPINNAKER2, calibration, on_overflow, _map_target)


def _map_target(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[Population, dict, MappedProjections]:
    low, high = SPINNAKER2.weight_range.low, SPINNAKER2.weight_range.high
    mapped: MappedProjections = {}
    if incoming:
        weights = np.concatenate([p.weights.ravel() for _, p in incoming])
        importance = np.concatenate(
            [
                np.broadcast_to(calibration.importance(network, p), p.weights.shape).ravel()
                for _, p in incoming
            ]
        )
        unit = best_step(weights, low, high, importance=importance)
    else:
        unit = max(abs(pop.threshold), 1.0) / 64.0
    hw_pop = Population(
        name=pop.name,
        size=pop.size,
        kind=pop.kind,
        decay_mem=_f32(pop.decay_mem),
        decay_syn=_f32(pop.decay_syn),
        threshold=_f32(pop.threshold / unit),
        bias=_f32(pop.bias / unit),
        v_scale=unit,
    )
    decision = {
        "v_scale": unit,
        "alpha_decay": hw_pop.decay_mem,
        "exc_decay": hw_pop.decay_syn,
        "threshold_hw": hw_pop.threshold,
        "bias_max_error": float(np.abs(pop.bias - hw_pop.bias * unit).max(initial=0.0)),
    }
    for i, proj in incoming:
        fit = fit_grid(proj.weights, unit, low, high)
        delays, delay_decisions = map_delays(proj, SPINNAKER2)
        max_abs = float(np.abs(proj.weights).max(initial=0.0))
        hw_proj = Projection(
            source=proj.source,
            target=proj.target,
            weights=fit.ints,
            delays=delays,
            weight_scale=unit,
        )
        mapped[i] = (
            hw_proj,
            {
                "weight_scale": unit,
                "weights_clipped": fit.clipped,
                "weights_clipped_pct": 100.0 * fit.clipped / max(proj.weights.size, 1),
                "weight_rms_error": fit.rms_error,
                "weight_rms_error_rel": fit.rms_error / max_abs if max_abs else 0.0,
                "weights_zeroed": int(((fit.ints == 0) & (proj.weights != 0)).sum()),
                **delay_decisions,
            },
        )
    return hw_pop, decision, mapped


def dequantize_spinnaker2(hardware: Network) -> Network:
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
    return Network(
        dt_ms=hardware.dt_ms,
        populations=tuple(pops),
        projections=tuple(projs),
        metadata=dict(hardware.metadata),
    )
