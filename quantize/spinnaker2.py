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

from dataclasses import dataclass

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.decisions import Decisions, PopulationDecision, ProjectionDecision
from neurodeploy.quantize.delays import map_delays
from neurodeploy.quantize.grid import best_step, fit_grid
from neurodeploy.quantize.mapping import MappedProjections, map_network
from neurodeploy.targets.spinnaker2.arithmetic import f32
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2

__all__ = ["SpiNNaker2PopulationDecision", "SpiNNaker2ProjectionDecision", "map_spinnaker2"]


@dataclass(frozen=True, kw_only=True)
class SpiNNaker2ProjectionDecision(ProjectionDecision):
    """Plus the non-zero float weights that rounded to 0 (no synapse on the chip)."""

    weights_zeroed: int


@dataclass(frozen=True, kw_only=True)
class SpiNNaker2PopulationDecision(PopulationDecision):
    """Plus the float32 parameters the chip runs (hardware units)."""

    alpha_decay: float
    exc_decay: float
    threshold_hw: float

    def describe(self) -> str:
        return (
            f"{super().describe()} threshold {self.threshold_hw:.6g} alpha {self.alpha_decay:.6g}"
        )


def map_spinnaker2(
    network: Network, calibration: Calibration, *, on_overflow: str = "error"
) -> tuple[Network, Decisions]:
    """Map a float network onto the SpiNNaker2 profile; see the module docstring.

    Returns the ``spinnaker2`` hardware model and the per-population and per-projection decisions.
    """
    return map_network(network, SPINNAKER2, calibration, on_overflow, _map_target)


def _map_target(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[Population, PopulationDecision, MappedProjections]:
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
        decay_mem=f32(pop.decay_mem),
        decay_syn=f32(pop.decay_syn),
        threshold=f32(pop.threshold / unit),
        bias=f32(pop.bias / unit),
        v_scale=unit,
    )
    decision = SpiNNaker2PopulationDecision(
        v_scale=unit,
        alpha_decay=hw_pop.decay_mem,
        exc_decay=hw_pop.decay_syn,
        threshold_hw=hw_pop.threshold,
        bias_max_error=float(np.abs(pop.bias - hw_pop.bias * unit).max(initial=0.0)),
    )
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
            SpiNNaker2ProjectionDecision(
                weight_scale=unit,
                weights_clipped=fit.clipped,
                weights_clipped_pct=100.0 * fit.clipped / max(proj.weights.size, 1),
                weight_rms_error=fit.rms_error,
                weight_rms_error_rel=fit.rms_error / max_abs if max_abs else 0.0,
                weights_zeroed=int(((fit.ints == 0) & (proj.weights != 0)).sum()),
                delays=delay_decisions,
            ),
        )
    return hw_pop, decision, mapped
