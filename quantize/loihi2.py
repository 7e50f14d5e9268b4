"""Float → Loihi 2 mapping.

Canonical float model (docs/ARCHITECTURE.md) versus Lava's fixed-point LIF::

    I = decay_syn*I + sum w s          u = trunc(u*(4095-du)/4096) + 64 * sum (w_int << weight_exp) s
    V = decay_mem*V + I + bias         v = trunc(v*(4096-dv)/4096) + u + (bias_mant << bias_exp)
    spike V > threshold                spike v > 64 * vth

With ``s`` the float value of one integer unit of u and v (the population's ``v_scale``):
``du = 4095 - round(4096 decay_syn)``, ``dv = round(4096 (1 - decay_mem))``,
``vth = round(threshold / (64 s))``, a weight is ``w_int * 2^weight_exp * 64 s`` and the bias is
``(bias_mant << bias_exp) * s``. The timing needs no offset: Loihi's (Delay)Dense latency 1 + d is
the canonical one.

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
from numpy.typing import NDArray

from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import LOIHI2
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.delays import map_delays
from neurodeploy.quantize.grid import best_step, fit_grid
from neurodeploy.quantize.mapping import MappedProjections, map_network

__all__ = ["HEADROOM_U", "HEADROOM_V", "dequantize_loihi2", "map_loihi2", "projection_grid"]

#: Calibration's largest |I| must stay below 2^23 / HEADROOM_U integer units: u wraps past 2^23,
#: which would wreck a run, so it gets a wide margin.
HEADROOM_U = 4.0
#: Calibration's largest |V| must stay below 2^23 / HEADROOM_V: v saturates (it does not wrap),
#: so a narrow margin buys finer weights.
HEADROOM_V = 1.5
_MAX_STATE = 2**23
_VTH_MAX = LOIHI2.neuron_params["vth"].high
_MANT = LOIHI2.neuron_params["bias_mant"].high


@dataclass(frozen=True)
class _Grid:
    low: int
    high: int
    multiple: int
    sign_mode: int


def projection_grid(projection: Projection) -> tuple[int, int, int]:
    """``(low, high, multiple)`` of a ``loihi2`` projection's integer weights (its sign mode)."""
    mode = projection.hw_params.get("sign_mode", 0)
    grid = {1: _Grid(-256, 254, 2, 1), 2: _Grid(0, 255, 1, 2), 3: _Grid(-255, 0, 1, 3)}.get(mode)
    grid = grid or _grid_for(projection.weights)
    drop = 8 - projection.hw_params["num_weight_bits"]
    return grid.low, grid.high, grid.multiple << drop


def _grid_for(weights: NDArray[np.floating]) -> _Grid:
    """Lava's grid with 8 weight bits: mixed signs give even integers in [-256, 254]."""
    if weights.size == 0 or weights.min() >= 0:
        return _Grid(0, 255, 1, 2)
    if weights.max() <= 0:
        return _Grid(-255, 0, 1, 3)
    return _Grid(-256, 254, 2, 1)


def map_loihi2(
    network: Network, calibration: Calibration, *, on_overflow: str = "error"
) -> tuple[Network, dict]:
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
    decisions : dict
        Per population and projection: scales, exponents, clipping and clamping counts.
    """
    return map_network(network, LOIHI2, calibration, on_overflow, _map_target)


def _map_target(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[Population, dict, MappedProjections]:
    scale, mapped = _map_incoming(network, pop, incoming, calibration)
    hw_pop, decision = _map_population(pop, scale)
    return hw_pop, decision, mapped


def _map_incoming(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[float, dict[int, tuple[Projection, dict]]]:
    """Population scale ``s`` and the integer projections into ``pop``."""
    grids = {i: _grid_for(p.weights) for i, p in incoming}
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
            {
                "weight_exp": exp,
                "sign_mode": {1: "mixed", 2: "excitatory", 3: "inhibitory"}[grid.sign_mode],
                "weight_scale": fit.step,
                "weights_clipped": fit.clipped,
                "weights_clipped_pct": 100.0 * fit.clipped / max(proj.weights.size, 1),
                "weight_rms_error": fit.rms_error,
                "weight_rms_error_rel": fit.rms_error / max_abs if max_abs else 0.0,
                **delay_decisions,
            },
        )
    return unit / 64.0, out


def _map_population(pop: Population, scale: float) -> tuple[Population, dict]:
    du = int(np.clip(4095 - round(4096 * pop.decay_syn), -1, 4095))
    dv = int(np.clip(round(4096 * (1.0 - pop.decay_mem)), 0, 4096))
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
        decay_mem=(4096 - dv) / 4096,
        decay_syn=(4095 - du) / 4096,
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
    decision = {
        "v_scale": scale,
        "du": du,
        "dv": dv,
        "vth": vth,
        "decay_syn": [pop.decay_syn, hw_pop.decay_syn],
        "decay_mem": [pop.decay_mem, hw_pop.decay_mem],
        "threshold": [pop.threshold, hw_pop.threshold],
        "bias_max_error": float(np.abs(pop.bias - hw_pop.bias).max(initial=0.0)),
    }
    return hw_pop, decision


def dequantize_loihi2(hardware: Network) -> Network:
    """The float model a ``loihi2`` hardware model approximates: weights ``w_int * weight_scale``
    (after Lava's weight preprocessing), decays ``(4096 - dv)/4096`` and ``(4095 - du)/4096``,
    threshold ``64 vth v_scale``, bias ``(bias_mant << bias_exp) v_scale``; integer delays."""
    from neurodeploy.emulator.loihi2 import effective_weights

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
                decay_mem=(4096 - int(hw["dv"][0])) / 4096,
                decay_syn=(4095 - int(hw["du"][0])) / 4096,
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
    return Network(
        dt_ms=hardware.dt_ms,
        populations=tuple(pops),
        projections=tuple(projs),
        metadata=dict(hardware.metadata),
    )
