"""Float → Loihi 2 mapping (the conversions themselves: :mod:`neurodeploy.targets.loihi2.arithmetic`).

Per target population the scale ``s`` is set by its primary incoming projection's weight grid
(chosen on calibration data, :func:`quantize.grid.best_step`) and the largest ``weight_exp`` in
0..7 that keeps ``vth`` ≤ 131071 and the calibration's largest current and voltage well inside the
24-bit range: finer v for the same weights. Other incoming projections pick their own
``weight_exp`` on that scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.decisions import Decisions, PopulationDecision, ProjectionDecision
from neurodeploy.quantize.delays import map_delays
from neurodeploy.quantize.grid import best_step, fit_grid
from neurodeploy.quantize.mapping import MappedProjections, map_network
from neurodeploy.targets.loihi2.arithmetic import (
    SIGN_MODES,
    decay_mem_from_dv,
    decay_syn_from_du,
    du_from_decay_syn,
    dv_from_decay_mem,
    weight_grid,
)
from neurodeploy.targets.loihi2.profile import LOIHI2

__all__ = [
    "HEADROOM_U",
    "HEADROOM_V",
    "Loihi2PopulationDecision",
    "Loihi2ProjectionDecision",
    "map_loihi2",
]

#: Calibration's largest |I| must stay below 2^23 / HEADROOM_U integer units: u wraps past 2^23,
#: which would wreck a run, so it gets a wide margin.
HEADROOM_U = 4.0
#: Calibration's largest |V| must stay below 2^23 / HEADROOM_V: v saturates (it does not wrap),
#: so a narrow margin buys finer weights.
HEADROOM_V = 1.5
_MAX_STATE = 2**23
_VTH_MAX = LOIHI2.neuron_params["vth"].high
_MANT = LOIHI2.neuron_params["bias_mant"].high


@dataclass(frozen=True, kw_only=True)
class Loihi2ProjectionDecision(ProjectionDecision):
    """Plus the projection's ``weight_exp`` and Lava sign mode."""

    weight_exp: int
    sign_mode: str


@dataclass(frozen=True, kw_only=True)
class Loihi2PopulationDecision(PopulationDecision):
    """Plus Lava's integer ``du``, ``dv``, ``vth`` and (float, hardware) pairs of the decays and
    the threshold."""

    du: int
    dv: int
    vth: int
    decay_syn: tuple[float, float]
    decay_mem: tuple[float, float]
    threshold: tuple[float, float]

    def describe(self) -> str:
        return f"{super().describe()} vth {self.vth} du {self.du} dv {self.dv}"


def map_loihi2(
    network: Network, calibration: Calibration, *, on_overflow: str = "error"
) -> tuple[Network, Decisions]:
    """Map a float network onto the Loihi 2 profile.

    Parameters
    ----------
    network : Network
        Float model (canonical semantics).
    calibration : Calibration
        Activity of the float model on calibration data.
    on_overflow : {"error", "clamp"}
        What to do with delays beyond 62 steps.

    Returns
    -------
    hardware : Network
        ``loihi2`` hardware model.
    decisions : Decisions
        Per population and projection: scales, exponents, clipping and clamping counts.
    """
    return map_network(network, LOIHI2, calibration, on_overflow, _map_target)


def _map_target(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[Population, PopulationDecision, MappedProjections]:
    scale, mapped = _map_incoming(network, pop, incoming, calibration)
    hw_pop, decision = _map_population(pop, scale)
    return hw_pop, decision, mapped


def _map_incoming(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[float, MappedProjections]:
    """Population scale ``s`` and the integer projections into ``pop``."""
    grids = {i: weight_grid(p.weights) for i, p in incoming}
    importance = {i: calibration.importance(network, p) for i, p in incoming}
    steps = {
        i: best_step(
            p.weights,
            grids[i].low,
            grids[i].high,
            importance=importance[i],
            multiple=grids[i].multiple,
        )
        for i, p in incoming
    }
    # Smallest unit L = 64 s the population's limits allow.
    limits = [
        64 * HEADROOM_U * calibration.i_max.get(pop.name, 0.0) / _MAX_STATE,
        64 * HEADROOM_V * calibration.v_max.get(pop.name, 0.0) / _MAX_STATE,
        64 * float(np.abs(pop.bias).max(initial=0.0)) / (_MANT * 2**7),
        1e-300,
    ]
    if pop.kind == "lif":
        limits.append(pop.threshold / _VTH_MAX)
    unit_min = max(limits)
    if incoming:
        primary = max(
            incoming, key=lambda ip: (not ip[1].is_recurrent, np.count_nonzero(ip[1].weights))
        )[0]
        exp = (
            int(np.clip(math.floor(math.log2(steps[primary] / unit_min)), 0, 7))
            if steps[primary] > unit_min
            else 0
        )
        unit = max(steps[primary] / 2**exp, unit_min)
    else:
        unit = unit_min if pop.kind == "li" else max(unit_min, pop.threshold / 2**12)
    out = {}
    for i, proj in incoming:
        grid = grids[i]
        best = None
        for exp in range(8):
            fit = fit_grid(proj.weights, unit * 2**exp, grid.low, grid.high, grid.multiple)
            err = float((importance[i] * (proj.weights - fit.ints * fit.step) ** 2).sum())
            if best is None or err < best[0]:
                best = (err, exp, fit)
        _, exp, fit = best
        delays, delay_decisions = map_delays(proj, LOIHI2)
        hw_proj = Projection(
            source=proj.source,
            target=proj.target,
            weights=fit.ints,
            delays=delays,
            weight_scale=fit.step,
            hw_params={"weight_exp": exp, "num_weight_bits": 8, "sign_mode": grid.sign_mode},
        )
        max_abs = float(np.abs(proj.weights).max(initial=0.0))
        out[i] = (
            hw_proj,
            Loihi2ProjectionDecision(
                weight_exp=exp,
                sign_mode=SIGN_MODES[grid.sign_mode],
                weight_scale=fit.step,
                weights_clipped=fit.clipped,
                weights_clipped_pct=100.0 * fit.clipped / max(proj.weights.size, 1),
                weight_rms_error=fit.rms_error,
                weight_rms_error_rel=fit.rms_error / max_abs if max_abs else 0.0,
                delays=delay_decisions,
            ),
        )
    return unit / 64.0, out


def _map_population(pop: Population, scale: float) -> tuple[Population, PopulationDecision]:
    du = du_from_decay_syn(pop.decay_syn)
    dv = dv_from_decay_mem(pop.decay_mem)
    vth = (
        _VTH_MAX
        if pop.kind == "li"
        else int(np.clip(round(pop.threshold / (64 * scale)), 0, _VTH_MAX))
    )
    bias_units = pop.bias / scale
    bias_exp = np.zeros(pop.size, np.int64)
    for _ in range(7):  # smallest exponent whose mantissa fits
        bias_exp += np.abs(np.rint(bias_units / 2.0**bias_exp)) > _MANT
    bias_mant = np.clip(np.rint(bias_units / 2.0**bias_exp), -_MANT - 1, _MANT).astype(np.int64)
    hw_pop = Population(
        name=pop.name,
        size=pop.size,
        kind=pop.kind,
        decay_mem=decay_mem_from_dv(dv),
        decay_syn=decay_syn_from_du(du),
        threshold=64 * vth * scale if pop.kind == "lif" else pop.threshold,
        bias=bias_mant * 2.0**bias_exp * scale,
        v_scale=scale,
        hw_params={
            "du": [du],
            "dv": [dv],
            "vth": [vth],
            "bias_mant": bias_mant,
            "bias_exp": bias_exp,
        },
    )
    decision = Loihi2PopulationDecision(
        v_scale=scale,
        du=du,
        dv=dv,
        vth=vth,
        decay_syn=(pop.decay_syn, hw_pop.decay_syn),
        decay_mem=(pop.decay_mem, hw_pop.decay_mem),
        threshold=(pop.threshold, hw_pop.threshold),
        bias_max_error=float(np.abs(pop.bias - hw_pop.bias).max(initial=0.0)),
    )
    return hw_pop, decision
