"""Float network description → NIR graph (docs/nir.md, "Export").

Every non-input population becomes a ``CubaLIF`` (kind ``lif``) or ``CubaLI`` (kind ``li``) whose
Euler step at ``dt`` is the canonical step: ``tau = dt / (1 - decay)`` (ms), ``r = tau_mem / dt``
and ``w_in = tau_syn / dt`` (unit input gains), ``v_leak = bias * tau_mem / dt``, ``v_reset = 0``.
Each projection is split into one branch per distinct integer delay ``d``: a ``Linear`` holding
the synapses of that delay (the others zero), followed, for ``d > 0``, by a per-channel
``Delay(d * dt)`` into the target. Edges into one node are summed, so the branches add up to the
projection. The canonical one-step latency is not a node: it is the reading rule of every edge
into a neuron (docs/nir.md), recorded with ``dt`` in the graph's ``neurodeploy`` metadata.

A hardware model is exported as the float model it approximates
(:func:`neurodeploy.targets.dequantize`). ``nir`` is imported lazily.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from neurodeploy.emulator.canonical_layout import round_delays
from neurodeploy.errors import BackendUnavailableError
from neurodeploy.network import Network, Population

__all__ = ["INSTALL_HINT", "METADATA_KEY", "export_nir", "load_nir", "to_nir_graph"]

INSTALL_HINT = "the nir package is not installed: pip install 'nir>=1.0,<1.1'"
#: Graph metadata key holding neurodeploy's JSON record (dt, latency, exact parameters).
METADATA_KEY = "neurodeploy"
#: Version of the JSON record under :data:`METADATA_KEY`.
RECORD_VERSION = 1


def load_nir() -> Any:
    """The ``nir`` module; BackendUnavailableError saying what to install when it is missing."""
    try:
        import nir
    except ImportError:
        raise BackendUnavailableError(INSTALL_HINT) from None
    return nir


def _tau(decay: float, dt_ms: float) -> float:
    """Time constant (ms) whose Euler step at ``dt_ms`` decays by ``decay``: dt / (1 - decay)."""
    return float("inf") if decay >= 1.0 else dt_ms / (1.0 - decay)


def _neuron(nir: Any, pop: Population, dt_ms: float) -> Any:
    n = pop.size
    tau_syn = np.full(n, _tau(pop.decay_syn, dt_ms))
    tau_mem = np.full(n, _tau(pop.decay_mem, dt_ms))
    # Unit gains: (dt / tau_syn) * w_in = 1 and (dt / tau_mem) * r = 1 (inf / inf never occurs:
    # a decay of 1 gives tau = inf and then r = w_in = inf, which NIR readers reject, so use 1e300).
    tau_syn = np.minimum(tau_syn, 1e300)
    tau_mem = np.minimum(tau_mem, 1e300)
    r = tau_mem / dt_ms
    w_in = tau_syn / dt_ms
    v_leak = np.asarray(pop.bias, dtype=np.float64) * tau_mem / dt_ms
    if pop.kind == "lif":
        return nir.CubaLIF(
            tau_syn=tau_syn,
            tau_mem=tau_mem,
            r=r,
            v_leak=v_leak,
            v_threshold=np.full(n, float(pop.threshold)),
            v_reset=np.zeros(n),
            w_in=w_in,
        )
    return nir.CubaLI(tau_syn=tau_syn, tau_mem=tau_mem, r=r, v_leak=v_leak, w_in=w_in)


def _record(network: Network) -> dict[str, Any]:
    """The JSON record: dt, latency, and the exact float parameters (to undo tau rounding)."""
    return {
        "version": RECORD_VERSION,
        "dt_ms": float(network.dt_ms),
        "time_unit": "ms",
        "latency_steps": 1,
        "readout": network.readout,
        "output": network.output_population,
        "populations": {
            p.name: {
                "decay_mem": float(p.decay_mem),
                "decay_syn": float(p.decay_syn),
                "threshold": float(p.threshold),
                "bias": [float(b) for b in p.bias],
            }
            for p in network.populations
            if p.kind != "input"
        },
    }


def to_nir_graph(network: Network) -> Any:
    """The NIR graph (``nir.NIRGraph``) of a float model (a hardware model: of its dequantized
    float model). Node names: population names, ``<source>__<target>__d<k>`` for the weights of
    delay ``k`` (steps) and ``...__delay`` for its ``Delay`` node, ``output`` for the Output."""
    nir = load_nir()
    if network.is_hardware:
        from neurodeploy.targets import dequantize

        network = dequantize(network)
    network.validate()
    dt = float(network.dt_ms)
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    for pop in network.populations:
        if pop.kind == "input":
            nodes[pop.name] = nir.Input(input_type={"input": np.array([pop.size])})
        else:
            nodes[pop.name] = _neuron(nir, pop, dt)
    for proj in network.projections:
        weights = np.asarray(proj.weights, dtype=np.float64)
        delays = round_delays(proj.delays)
        distinct = sorted({int(d) for d in np.unique(delays[weights != 0])}) or [0]
        n_post = weights.shape[0]
        for d in distinct:
            name = f"{proj.source}__{proj.target}__d{d}"
            nodes[name] = nir.Linear(weight=np.where(delays == d, weights, 0.0))
            edges.append((proj.source, name))
            if d == 0:
                edges.append((name, proj.target))
            else:
                nodes[name + "__delay"] = nir.Delay(delay=np.full(n_post, d * dt))
                edges += [(name, name + "__delay"), (name + "__delay", proj.target)]
    out = network.output_population
    size = network.population(out).size
    out_node = "output"
    while out_node in nodes:
        out_node += "_"
    nodes[out_node] = nir.Output(output_type={"output": np.array([size])})
    edges.append((out, out_node))
    metadata = {METADATA_KEY: json.dumps(_record(network), sort_keys=True)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def export_nir(network: Network, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``network`` as a NIR file: ``out`` itself when it ends in ``.nir``, otherwise
    ``out/model.nir`` (the folder is created). Returns the written paths; the file is read back
    with ``nir.read`` (type checks on) before returning."""
    nir = load_nir()
    out = Path(out)
    path = out if out.suffix == ".nir" else out / "model.nir"
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = to_nir_graph(network)
    tmp = path.with_name(path.name + ".tmp")
    nir.write(tmp, graph)
    nir.read(tmp)
    os.replace(tmp, path)
    return [path]
