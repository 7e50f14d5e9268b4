"""Float → Loihi 2 mapping (the conversions themselves: :mod:`neurodeploy.targets.loihi2.arithmetic`).

Two grids, one per population:

- **netx-compatible** (the default, ``netx=True``): what lava-dl's netx loader reproduces bit for
  bit. netx recomputes every layer's weight exponent from the integers in its file
  (``netx/utils.py: optimize_weight_bits``: it scales the weights up to fill 8 bits and sets
  ``weight_exp`` to minus that shift, jointly over ``weight`` and ``weight_rec`` of a recurrent
  layer), so a positive ``weight_exp`` cannot be expressed and a negative one floors each step's
  *sum*, which no per-synapse integer reproduces. Every projection therefore gets
  ``weight_exp = 0``: one integer weight unit adds ``64`` to ``u``, the population's unit
  ``L = 64 s`` is the weight step, chosen jointly for all incoming projections (importance-weighted
  squared error on calibration data over candidate steps), and ``vth = threshold / L``. The bias
  uses netx's fixed ``bias_exp = 6``. Lava infers an inhibitory sign mode for a block whose
  weights are all ≤ 0 and clips it to ``[-255, 0]``; when netx's scaling would bring such a
  block's most negative weight (a power of two) to -256, those weights move one unit toward zero.
  Blocks with negative weights use even grids (netx counts a sign bit for them). A model netx
  cannot hold whatever its integers (not a chain, or a recurrent layer with delays:
  :func:`netx_structure_problem`) keeps the free grid, and every population's ``netx_note`` says
  why. What else cannot be expressed is said in :attr:`Loihi2PopulationDecision.netx_note`, and the
  netx export refuses to write such a file. Lava's decays round toward zero, losing about half a
  v unit per step; with 64 v units per weight step that is about 1 % of a typical threshold, so
  ``vth`` is lowered by the expected loss (:func:`truncation_deficit`; on Yin-Yang seed 0 it turns
  a 2.3-point loss into none).
- **free** (``netx=False``, the grid before 0.3): the scale ``s`` is set by the primary incoming
  projection's weight grid and the largest ``weight_exp`` in 0..7 that keeps ``vth`` ≤ 131071 and
  the calibration's largest current and voltage well inside the 24-bit range: finer v for the same
  weights. Other incoming projections pick their own ``weight_exp`` on that scale. It runs
  exactly on Lava processes (``export --backend lava``), not through netx.

With the netx grid, each decision also holds what the free grid would have chosen
(``weight_exp_free``, ``weight_rms_error_free``, ``v_scale_free``), so the report shows the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from neurodeploy.network import Network, Population, Projection
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.decisions import Decisions, PopulationDecision, ProjectionDecision
from neurodeploy.quantize.delays import map_delays
from neurodeploy.quantize.grid import best_step, fit_grid
from neurodeploy.quantize.mapping import MappedProjections, map_network
from neurodeploy.targets.loihi2.arithmetic import (
    INHIBITORY,
    SIGN_MODES,
    decay_mem_from_dv,
    decay_syn_from_du,
    du_from_decay_syn,
    dv_from_decay_mem,
    effective_weights,
    infer_sign_mode,
    weight_grid,
)
from neurodeploy.targets.loihi2.profile import LOIHI2

__all__ = [
    "HEADROOM_U",
    "HEADROOM_V",
    "Loihi2PopulationDecision",
    "Loihi2ProjectionDecision",
    "map_loihi2",
    "netx_structure_problem",
    "netx_weight_problem",
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
#: netx builds every LIF with this bias exponent.
NETX_BIAS_EXP = 6


@dataclass(frozen=True, kw_only=True)
class Loihi2ProjectionDecision(ProjectionDecision):
    """Plus the projection's ``weight_exp`` and Lava sign mode; with the netx-compatible grid
    also the ``weight_exp`` and RMS weight error the free grid would have had, and how many weights
    moved one unit toward zero for netx (``netx_nudged``)."""

    weight_exp: int
    sign_mode: str
    weight_exp_free: int | None = None
    weight_rms_error_free: float | None = None
    netx_nudged: int = 0


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
    #: The grid: "netx" (netx-compatible) or "free".
    grid: str = "free"
    #: Empty when lava-dl's netx loader reproduces this population's incoming weights and bias;
    #: else why not (the netx export refuses such a model).
    netx_note: str = ""
    #: v_scale the free grid would have chosen (netx grid only).
    v_scale_free: float | None = None

    def describe(self) -> str:
        text = f"{super().describe()} vth {self.vth} du {self.du} dv {self.dv}"
        if self.netx_note:
            text += f" {self.grid} grid, NOT netx-exact ({self.netx_note})"
        elif self.grid == "netx":
            text += " netx-exact"
        return text


def map_loihi2(
    network: Network, calibration: Calibration, *, on_overflow: str = "error", netx: bool = True
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
    netx : bool
        The netx-compatible grid (default; see the module docstring), else the free grid.

    Returns
    -------
    hardware : Network
        ``loihi2`` hardware model.
    decisions : Decisions
        Per population and projection: scales, exponents, clipping and clamping counts.
    """
    if not netx:
        return map_network(network, LOIHI2, calibration, on_overflow, _map_target)
    reason = netx_structure_problem(network)
    if reason is None:
        return map_network(network, LOIHI2, calibration, on_overflow, _map_target_netx)
    # netx cannot load this model whatever the grid: keep the free grid's accuracy, and say so
    hardware, decisions = map_network(network, LOIHI2, calibration, on_overflow, _map_target)
    for name, d in decisions.populations.items():
        decisions.populations[name] = replace(d, netx_note=f"not netx-expressible: {reason}")
    return hardware, decisions


def netx_structure_problem(network: Network) -> str | None:
    """Why lava-dl 0.6.0's netx loader cannot hold ``network`` whatever its integers (None if it
    can): netx is a chain of dense layers from one input, each optionally self-recurrent, and its
    delayed recurrent layer gives the recurrent synapse the feed-forward delay matrix and no
    ``weight_exp``."""
    inputs = network.inputs
    if len(inputs) != 1:
        return f"netx has one input, the model has {len(inputs)}"
    chain = [inputs[0].name, *(p.name for p in network.populations if p.kind != "input")]
    order = {name: k for k, name in enumerate(chain)}
    for proj in network.projections:
        if not proj.is_recurrent and order[proj.target] != order[proj.source] + 1:
            return f"projection {proj.name} does not join consecutive layers"
    for pop in chain[1:]:
        incoming = [p for p in network.projections if p.target == pop]
        if any(p.is_recurrent for p in incoming) and any(
            np.any(np.rint(p.delays) != 0) for p in incoming
        ):
            return (
                f"{pop} is a recurrent layer with delays (netx gives the recurrent synapse the "
                "feed-forward delay matrix and no weight_exp); the free grid is used and only "
                "the Lava-process export runs the model exactly"
            )
    return None


def _map_target(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[Population, PopulationDecision, MappedProjections]:
    scale, mapped = _map_incoming(network, pop, incoming, calibration)
    hw_pop, decision = _map_population(pop, scale)
    return hw_pop, decision, mapped


def _map_target_netx(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[Population, PopulationDecision, MappedProjections]:
    free_scale, free = _map_incoming(network, pop, incoming, calibration)
    scale, mapped, note = _map_incoming_netx(network, pop, incoming, calibration)
    hw_pop, decision = _map_population(pop, scale, bias_exp=NETX_BIAS_EXP, correct_truncation=True)
    decision = replace(decision, grid="netx", netx_note=note, v_scale_free=free_scale)
    for i, (proj, d) in mapped.items():
        free_d = free[i][1]
        mapped[i] = (
            proj,
            replace(
                d,
                weight_exp_free=free_d.weight_exp,
                weight_rms_error_free=free_d.weight_rms_error,
            ),
        )
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


def _unit_min(pop: Population, calibration: Calibration, max_bias_exp: int) -> float:
    """Smallest unit ``L = 64 s`` the population's limits allow (u and v headroom, bias, vth)."""
    limits = [
        64 * HEADROOM_U * calibration.i_max.get(pop.name, 0.0) / _MAX_STATE,
        64 * HEADROOM_V * calibration.v_max.get(pop.name, 0.0) / _MAX_STATE,
        64 * float(np.abs(pop.bias).max(initial=0.0)) / (_MANT * 2**max_bias_exp),
        1e-300,
    ]
    if pop.kind == "lif":
        limits.append(pop.threshold / _VTH_MAX)
    return max(limits)


def _map_incoming_netx(
    network: Network,
    pop: Population,
    incoming: list[tuple[int, Projection]],
    calibration: Calibration,
) -> tuple[float, MappedProjections, str]:
    """The netx-compatible grid: every ``weight_exp`` 0, one unit for all incoming projections."""
    unit_min = _unit_min(pop, calibration, NETX_BIAS_EXP)
    if not incoming:
        unit = unit_min if pop.kind == "li" else max(unit_min, pop.threshold / 2**12)
        return unit / 64.0, {}, ""
    grids = {i: weight_grid(p.weights) for i, p in incoming}
    # netx optimises a recurrent layer's feed-forward and recurrent weights jointly
    recurrent = any(p.is_recurrent for _, p in incoming)
    blocks = [[i for i, _ in incoming]] if recurrent else [[i] for i, _ in incoming]
    for block in blocks:
        # A block with negative weights (and zeros) takes netx's signed branch: it counts one bit
        # for the sign, so its weights must be even, or num_weight_bits comes out as 9. Every
        # part then gets an even grid: inhibitory [-254, 0], excitatory [0, 254].
        if any(grids[i].low < 0 for i in block):
            for i in block:
                g = grids[i]
                grids[i] = g._replace(
                    low=max(g.low, -254 if g.high <= 0 else g.low),
                    high=min(g.high, 254),
                    multiple=2,
                )
    importance = {i: calibration.importance(network, p) for i, p in incoming}
    steps = [
        best_step(
            p.weights,
            grids[i].low,
            grids[i].high,
            importance=importance[i],
            multiple=grids[i].multiple,
        )
        for i, p in incoming
    ]
    # candidates: each projection's own best step, and log-spaced steps between them
    low, high = max(min(steps), unit_min), max(max(steps), unit_min)
    candidates = {low, high, *(max(s, unit_min) for s in steps)}
    if high > low:
        candidates.update(np.geomspace(low, high, 17).tolist())

    def fits(unit: float):
        return {
            i: fit_grid(p.weights, unit, grids[i].low, grids[i].high, grids[i].multiple)
            for i, p in incoming
        }

    def error(fitted) -> float:
        return sum(
            float((importance[i] * (p.weights - fitted[i].ints * fitted[i].step) ** 2).sum())
            for i, p in incoming
        )

    unit = min(sorted(candidates), key=lambda u: error(fits(u)))
    fitted = fits(unit)
    ints = {i: fitted[i].ints for i, _ in incoming}
    nudged = dict.fromkeys(ints, 0)
    notes = []
    for block in blocks:
        for _ in range(3):
            problem, fix = netx_weight_problem(
                [effective_weights(ints[i], 8, grids[i].sign_mode) for i in block]
            )
            if problem is None or fix is None:
                break
            for k, i in enumerate(block):
                if fix[k].any():
                    ints[i] = np.where(fix[k], ints[i] + grids[i].multiple, ints[i])
                    nudged[i] += int(fix[k].sum())
        if problem is not None:
            names = ", ".join(network.projections[i].name for i in block)
            notes.append(f"{names}: {problem}")
    out = {}
    for i, proj in incoming:
        fit = fitted[i]
        delays, delay_decisions = map_delays(proj, LOIHI2)
        hw_proj = Projection(
            source=proj.source,
            target=proj.target,
            weights=ints[i],
            delays=delays,
            weight_scale=fit.step,
            hw_params={"weight_exp": 0, "num_weight_bits": 8, "sign_mode": grids[i].sign_mode},
        )
        rms = float(np.sqrt(np.mean((proj.weights - ints[i] * fit.step) ** 2)))
        max_abs = float(np.abs(proj.weights).max(initial=0.0))
        out[i] = (
            hw_proj,
            Loihi2ProjectionDecision(
                weight_exp=0,
                sign_mode=SIGN_MODES[grids[i].sign_mode],
                weight_scale=fit.step,
                weights_clipped=fit.clipped,
                weights_clipped_pct=100.0 * fit.clipped / max(proj.weights.size, 1),
                weight_rms_error=rms,
                weight_rms_error_rel=rms / max_abs if max_abs else 0.0,
                delays=delay_decisions,
                netx_nudged=nudged[i],
            ),
        )
    return unit / 64.0, out, "; ".join(notes)


def netx_weight_problem(
    parts: list[NDArray[np.int64]],
) -> tuple[str | None, list[NDArray[np.bool_]] | None]:
    """Whether lava-dl's netx loader reproduces these per-synapse ``a_in`` contributions.

    ``parts`` are the weights of one netx layer (``[weight]``, or ``[weight, weight_rec]``, which
    netx optimises jointly), as contributions with ``weight_exp = 0``. netx scales them up by
    ``sb`` bits to fill 8 bits, sets ``weight_exp = -sb`` and a fresh ``num_weight_bits``; Lava
    then infers each Dense's sign mode and clips and truncates (the same replay as the netx
    export's check).

    Returns
    -------
    problem : str or None
        None when netx reproduces every weight, else why not.
    fix : list of bool arrays or None
        Where a weight one unit nearer zero would avoid the problem (an inhibitory block whose
        scaled minimum lands on -256, which Lava clips to -255), else None.
    """
    joint = np.hstack([np.asarray(p, np.int64) for p in parts])
    lo, hi = int(joint.min(initial=0)), int(joint.max(initial=0))
    if lo == hi == 0:
        return "all weights are zero; netx cannot scale them", None
    if hi > 255 or lo < -256 or (hi > 254 and lo < 0):
        return f"weights {lo}..{hi} exceed netx's 8-bit synapse", None
    if hi < 0:
        signed, scale = 0, 256 / -lo
    elif lo >= 0:
        signed, scale = 0, 255 / hi
    else:
        signed, scale = 1, min(127 / hi if hi > 0 else np.inf, 128 / -lo)
    sb = int(np.floor(np.log2(scale))) + signed
    n = 8
    while n > 0 and (joint % (1 << n)).any():
        n -= 1
    bits = 8 - sb - (n - signed)
    if bits > 8:
        return f"netx would need num_weight_bits={bits}, more than a synapse holds", None
    fixes, changed = [], False
    for part in parts:
        scaled = np.asarray(part, np.int64) << sb
        lava = effective_weights(scaled, bits)
        bad = lava != scaled
        if bad.any():
            changed = True
        if infer_sign_mode(scaled) == INHIBITORY and (scaled == -256).any():
            fixes.append(np.asarray(part) == int(np.asarray(part).min()))
        else:
            fixes.append(np.zeros(np.shape(part), bool))
    if not changed:
        return None, None
    usable = any(f.any() for f in fixes) and lo < -1
    return (
        f"netx re-derives weight_exp {-sb}, num_weight_bits {bits} and Lava changes weights",
        fixes if usable else None,
    )


def truncation_deficit(du: int, dv: int, horizon: int = 256) -> float:
    """Expected shortfall of v (integer units) from Lava's decays rounding toward zero.

    Each step ``u·(4095−du)/4096`` and ``v·(4096−dv)/4096`` lose on average half a unit of
    magnitude; u's loss feeds v. Under steady positive drive the loss of v after ``k`` steps
    follows ``U ← a_u U + ½``, ``V ← a_v V + U + ½``; it is evaluated at the membrane time
    constant ``k = 1/(1 − a_v)`` (at most ``horizon`` steps), a typical time to threshold. Small
    next to a threshold of many units (the free grid's finer v), it costs about 1 % of the
    threshold on the netx grid, where v has 64 units per weight step.
    """
    a_u, a_v = (4095 - du) / 4096, (4096 - dv) / 4096
    steps = horizon if a_v >= 1 else min(horizon, max(1, round(1 / (1 - a_v))))
    u_step, v_step = 0.5 * (0 < a_u < 1), 0.5 * (0 < a_v < 1)  # factor 0 or 1: exact
    u_loss = v_loss = 0.0
    for _ in range(steps):
        u_loss = a_u * u_loss + u_step
        v_loss = a_v * v_loss + u_loss + v_step
    return v_loss


def _map_population(
    pop: Population, scale: float, *, bias_exp: int | None = None, correct_truncation: bool = False
) -> tuple[Population, PopulationDecision]:
    du = du_from_decay_syn(pop.decay_syn)
    dv = dv_from_decay_mem(pop.decay_mem)
    # netx grid: lower vth by the expected truncation shortfall of v (one vth unit = 64 v units)
    offset = truncation_deficit(du, dv) / 64 if correct_truncation else 0.0
    vth = (
        _VTH_MAX
        if pop.kind == "li"
        else int(np.clip(round(pop.threshold / (64 * scale) - offset), 0, _VTH_MAX))
    )
    bias_units = pop.bias / scale
    if bias_exp is not None:  # fixed (netx)
        bias_exp = np.full(pop.size, bias_exp, np.int64)
    else:
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
