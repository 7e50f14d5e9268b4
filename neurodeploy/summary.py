"""A network's vital statistics as plain data, for ``neurodeploy inspect`` and reports."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurodeploy.network import Network

__all__ = ["format_summary", "summarize"]


def _range(values: np.ndarray) -> list[float] | None:
    values = np.asarray(values)
    if values.size == 0:
        return None
    return [values.min().item(), values.max().item()]


def summarize(network: Network) -> dict[str, Any]:
    """Populations, projections, parameter ranges and delay histograms of ``network``."""
    pops = []
    for pop in network.populations:
        entry: dict[str, Any] = {"name": pop.name, "size": pop.size, "kind": pop.kind}
        if pop.kind != "input":
            entry |= {
                "decay_mem": pop.decay_mem,
                "decay_syn": pop.decay_syn,
                "tau_mem_ms": _tau(pop.decay_mem, network.dt_ms),
                "tau_syn_ms": _tau(pop.decay_syn, network.dt_ms),
                "threshold": pop.threshold,
                "bias_range": _range(pop.bias),
                "v_scale": pop.v_scale,
                "hw_params": {k: _range(v) for k, v in pop.hw_params.items()},
            }
        pops.append(entry)
    projs = []
    for proj in network.projections:
        delays = np.rint(proj.delays).astype(np.int64)
        counts = np.bincount(delays.ravel()) if delays.size else np.zeros(0, np.int64)
        nonzero = int(np.count_nonzero(proj.weights))
        projs.append(
            {
                "name": proj.name,
                "source": proj.source,
                "target": proj.target,
                "recurrent": proj.is_recurrent,
                "shape": list(proj.weights.shape),
                "synapses": nonzero,
                "weight_range": _range(proj.weights),
                "weight_scale": proj.weight_scale,
                "delay_range": _range(proj.delays),
                "delay_histogram": {str(d): int(c) for d, c in enumerate(counts) if c},
                "hw_params": dict(proj.hw_params),
            }
        )
    return {
        "profile": network.profile or "float",
        "dt_ms": network.dt_ms,
        "neurons": sum(p.size for p in network.populations if p.kind != "input"),
        "inputs": sum(p.size for p in network.inputs),
        "synapses": sum(p["synapses"] for p in projs),
        "populations": pops,
        "projections": projs,
        "metadata_keys": sorted(network.metadata),
    }


def _tau(decay: float, dt_ms: float) -> float | None:
    if decay <= 0.0 or decay >= 1.0:
        return None if decay <= 0.0 else math.inf
    return -dt_ms / math.log(decay)


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable text of :func:`summarize`'s output."""
    lines = [
        f"profile {summary['profile']}, dt {summary['dt_ms']} ms, {summary['inputs']} inputs, "
        f"{summary['neurons']} neurons, {summary['synapses']} synapses",
        "populations:",
    ]
    for pop in summary["populations"]:
        text = f"  {pop['name']:<12} {pop['kind']:<5} {pop['size']:>6}"
        if pop["kind"] != "input":
            text += (
                f"  decay_mem {pop['decay_mem']:.4g} decay_syn {pop['decay_syn']:.4g}"
                f"  threshold {pop['threshold']:.4g}"
            )
            hw = ", ".join(f"{k} {_fmt_range(r)}" for k, r in pop["hw_params"].items())
            if hw:
                text += f"  [{hw}]"
        lines.append(text)
    lines.append("projections:")
    for proj in summary["projections"]:
        text = (
            f"  {proj['name']:<24} {proj['shape'][0]}x{proj['shape'][1]}"
            f"{' (recurrent)' if proj['recurrent'] else ''}  {proj['synapses']} synapses"
            f"  weights {_fmt_range(proj['weight_range'])}  delays {_fmt_range(proj['delay_range'])}"
        )
        if proj["hw_params"]:
            text += "  [" + ", ".join(f"{k} {v}" for k, v in proj["hw_params"].items()) + "]"
        lines.append(text)
        hist = proj["delay_histogram"]
        if len(hist) > 1:
            lines.append("    delay histogram: " + " ".join(f"{d}:{c}" for d, c in hist.items()))
    return "\n".join(lines)


def _fmt_range(r: list[float] | None) -> str:
    if r is None:
        return "-"
    lo, hi = r
    return f"{lo:.4g}" if lo == hi else f"[{lo:.4g}, {hi:.4g}]"
