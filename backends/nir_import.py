"""NIR graph → float network description (docs/nir.md, "Import").

Neuron nodes (``LIF``, ``CubaLIF``, ``LI``, ``CubaLI``, ``IF``) become populations and ``Input``
nodes input populations; every path of ``Linear``, ``Affine``, ``Scale``, ``Delay`` and
``Flatten`` nodes between two of them is multiplied out into one projection (``weights[post,
pre]``, integer ``delays[post, pre]`` in steps). Each neuron is read as the forward-Euler step of
its differential equation at the file's step ``h`` (the time step in the file's time unit), with
the current updated before v and the canonical one-step latency on every edge into a neuron:

    decay_syn = 1 - h / tau_syn      (0 for LIF, LI, IF: no synaptic filter)
    decay_mem = 1 - h / tau_mem      (1 for IF)
    weight    = W * (h / tau_syn) * w_in * (h / tau_mem) * r      (per post neuron)
    bias      = (h / tau_mem) * v_leak   (+ Affine biases times the same gain)

What NIR does not carry (dt, readout rule, output population) comes from options and is kept in
the model (``Network.readout``, ``Network.output``, provenance in ``metadata["nir"]``). A graph the
canonical model cannot express raises ConfigError in one line naming the node, its type and why.
The recognisable conventions of snnTorch and Norse exporters are detected and reported
(:data:`CONVENTIONS`).
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError, ModelFileError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.readout import check_readout

from .nir_export import METADATA_KEY, load_nir

__all__ = [
    "CONVENTIONS",
    "NirImport",
    "NirSemanticsWarning",
    "detect_convention",
    "from_nir_graph",
    "import_nir",
]

#: How the file's time constants and gains were written:
#: ``nir``: time constants in the unit of ``dt`` given (ms by NIR's docs), gains as the equations say;
#: ``snntorch``: snnTorch 1.0 (``tau = 1e-4 s / (1 - beta)``, ``r = tau_mem / 1e-4``): step 1e-4;
#: ``norse``: Norse 1.1 (``tau`` written as ``dt * tau`` in s, ``r = w_in = 1``, current jumps by the
#: input): step ``(source dt in s)**2``, input gain into the current 1.
CONVENTIONS = ("auto", "nir", "snntorch", "norse")
SNNTORCH_DT_S = 1e-4
NORSE_DT_S = 1e-3
_NEURONS = ("LIF", "CubaLIF", "LI", "CubaLI", "IF")
_PASS = ("Linear", "Affine", "Scale", "Delay", "Flatten", "Input", "Output")
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


class NirSemanticsWarning(UserWarning):
    """A known difference between the exporting library's simulation and the imported model."""


@dataclass(frozen=True)
class NirImport:
    """An imported model and what the import noticed.

    Attributes
    ----------
    network : Network
        The float model.
    convention : str
        The convention applied (never ``auto``).
    warnings : list of str
        Known semantic differences from the exporting library, one line each.
    """

    network: Network
    convention: str
    warnings: list[str] = field(default_factory=list)


def _type(node: Any) -> str:
    return type(node).__name__


def _fail(name: str, node: Any, reason: str) -> ConfigError:
    return ConfigError(f"NIR node {name!r} ({_type(node)}): {reason}")


def _arr(value: Any) -> NDArray[np.float64]:
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).reshape(-1)


def _shape_size(shape: Any) -> int:
    return int(np.prod(np.asarray(shape, dtype=np.int64))) if np.size(shape) else 1


def _flatten(
    graph: Any, nir: Any, prefix: str = ""
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Nodes and edges of ``graph`` with nested graphs inlined: a subgraph's Input and Output nodes
    become pass-through nodes named ``<sub>.<node>``; edges into (out of) the subgraph go to its
    Input (from its Output)."""
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    entry: dict[str, str] = {}
    exit_: dict[str, str] = {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, nir, full + ".")
            ins = [n for n, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [n for n, v in node.nodes.items() if isinstance(v, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise _fail(full, node, "a nested graph needs exactly one Input and one Output")
            for n in (ins[0], outs[0]):
                sub_nodes[f"{full}.{n}"] = _Pass()
            nodes.update(sub_nodes)
            edges += sub_edges
            entry[full], exit_[full] = f"{full}.{ins[0]}", f"{full}.{outs[0]}"
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        src, dst = prefix + src, prefix + dst
        edges.append((exit_.get(src, src), entry.get(dst, dst)))
    return nodes, edges


class _Pass:
    """Identity node (the Input and Output of a nested graph)."""


@dataclass
class _Neuron:
    """One neuron node read at step h: canonical parameters and per-neuron input gain."""

    kind: str
    size: int
    decay_mem: float
    decay_syn: float
    threshold: float
    gain: NDArray[np.float64]  # (size,) weight multiplier
    bias: NDArray[np.float64]  # (size,) V units per step
    syn_filter: bool  # a synaptic current filter (Cuba*) with decay_syn != 0


def _uniform(name: str, node: Any, key: str, values: NDArray[np.float64]) -> float:
    if not np.all(values == values[0]):
        raise _fail(
            name,
            node,
            f"{key} differs between neurons ({values.min():g}..{values.max():g}); "
            "the canonical model has one value per population",
        )
    return float(values[0])


def _decay(name: str, node: Any, key: str, tau: float, h: float) -> float:
    if not tau > 0:
        raise _fail(name, node, f"{key} must be > 0, got {tau:g}")
    if h > tau * (1 + 1e-12):
        raise _fail(
            name,
            node,
            f"{key} = {tau:g} is shorter than the step {h:g}: the Euler step would not decay "
            "(choose a smaller --dt-ms or the right --convention)",
        )
    return min(max(1.0 - h / tau, 0.0), 1.0)


def _read_neuron(name: str, node: Any, h: float, convention: str) -> _Neuron:
    t = _type(node)
    size = _shape_size(next(iter(node.output_type.values())))
    ones = np.ones(size)
    if t in ("LIF", "CubaLIF", "IF"):
        v_reset = _arr(node.v_reset) * ones
        if np.any(v_reset != 0):
            raise _fail(name, node, "v_reset must be 0 (the canonical model resets to 0)")
    r = _arr(node.r) * ones
    if t == "IF":
        return _Neuron(
            kind="lif",
            size=size,
            decay_mem=1.0,
            decay_syn=0.0,
            threshold=_uniform(name, node, "v_threshold", _arr(node.v_threshold) * ones),
            gain=r if convention == "norse" else h * r,  # Norse's IAFCell: v += input
            bias=np.zeros(size),
            syn_filter=False,
        )
    tau_key = "tau" if t in ("LIF", "LI") else "tau_mem"
    tau_mem = _uniform(name, node, tau_key, _arr(getattr(node, tau_key)) * ones)
    decay_mem = _decay(name, node, tau_key, tau_mem, h)
    g_mem = h / tau_mem
    v_leak = _arr(node.v_leak) * ones
    decay_syn, g_syn = 0.0, np.ones(size)
    if t.startswith("Cuba"):
        tau_syn = _uniform(name, node, "tau_syn", _arr(node.tau_syn) * ones)
        decay_syn = _decay(name, node, "tau_syn", tau_syn, h)
        w_in = _arr(node.w_in) * ones
        # Norse's current jumps by the input itself, whatever w_in says (ecosystem.md §6.4).
        g_syn = np.ones(size) if convention == "norse" else (h / tau_syn) * w_in
    spiking = t in ("LIF", "CubaLIF")
    threshold = (
        _uniform(name, node, "v_threshold", _arr(node.v_threshold) * ones) if spiking else 1.0
    )
    return _Neuron(
        kind="lif" if spiking else "li",
        size=size,
        decay_mem=decay_mem,
        decay_syn=decay_syn,
        threshold=threshold,
        gain=g_syn * g_mem * r,
        bias=g_mem * v_leak,
        syn_filter=decay_syn != 0.0,
    )


def _neuron_params(graph_nodes: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(n, v) for n, v in graph_nodes.items() if _type(v) in _NEURONS]


def detect_convention(nodes: Mapping[str, Any]) -> str | None:
    """``snntorch`` when every neuron has ``r * 1e-4 == tau_mem`` (snnTorch's hard-coded dt),
    ``norse`` when every time constant is below 1e-3 with ``r == 1`` (Norse writes ``dt * tau``),
    else None."""
    neurons = [(n, v) for n, v in _neuron_params(nodes) if _type(v) != "IF"]
    if not neurons:
        return None
    taus = [_arr(v.tau if _type(v) in ("LIF", "LI") else v.tau_mem) for _, v in neurons]
    rs = [_arr(v.r) for _, v in neurons]
    if all(np.allclose(r * SNNTORCH_DT_S, t, rtol=1e-6) for r, t in zip(rs, taus, strict=True)):
        return "snntorch"
    if all(np.all(t < 1e-3) and np.all(r == 1) for r, t in zip(rs, taus, strict=True)):
        return "norse"
    return None


def _metadata_record(graph: Any) -> dict[str, Any] | None:
    raw = (graph.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf8")
    try:
        record = json.loads(str(raw))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _population_name(name: str, taken: set[str]) -> str:
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:60]
    if not _NAME_OK.match(out):
        out = ("n_" + out)[:60]
    base, k = out, 1
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def from_nir_graph(
    graph: Any,
    *,
    dt_ms: float | None = None,
    convention: str = "auto",
    source_dt_s: float | None = None,
    readout: str | None = None,
    output: str | None = None,
    n_classes: int | None = None,
    source: str = "<graph>",
    notes: list[str] | None = None,
) -> NirImport:
    """Convert a ``nir.NIRGraph`` into a float :class:`Network`.

    Parameters
    ----------
    graph : nir.NIRGraph
    dt_ms : float or None
        The network's time step in ms; None: the file's ``neurodeploy`` record, or (snnTorch)
        0.1 ms, or (Norse) ``source_dt_s`` in ms; ConfigError when none applies.
    convention : {"auto", "nir", "snntorch", "norse"}
        How the file's parameters were written (:data:`CONVENTIONS`); ``auto`` detects snnTorch
        and Norse files (with a warning) and otherwise reads ``nir``.
    source_dt_s : float or None
        Norse only: the step (s) the Norse model ran at (default 1e-3).
    readout : str or None
        Decision rule; None: ``first_spike`` for a spiking output, ``max_voltage`` otherwise.
    output : str or None
        NIR name of the output neuron node; None: the node feeding the graph's only ``Output``.
    n_classes : int or None
        Checked against the output population's size when given.
    source : str
        Where the graph came from (for provenance).
    notes : list of str, optional
        Warnings found before the conversion (e.g. while reading the file).

    Returns
    -------
    NirImport
    """
    nir = load_nir()
    if convention not in CONVENTIONS:
        raise ConfigError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    nodes, edges = _flatten(graph, nir)
    for name, node in nodes.items():
        if isinstance(node, _Pass) or _type(node) in _NEURONS + _PASS:
            continue
        raise _fail(name, node, _unsupported_reason(_type(node)))
    record = _metadata_record(graph)
    notes = list(notes or [])
    detected = detect_convention(nodes)
    if convention == "auto":
        convention = detected or "nir"
        if detected:
            notes.append(_detected_note(detected))
    if convention == "snntorch":
        notes += _snntorch_notes(nodes, edges)
    if dt_ms is None:
        if record and "dt_ms" in record:
            dt_ms = float(record["dt_ms"])
        elif convention == "snntorch":
            dt_ms = SNNTORCH_DT_S * 1e3
        elif convention == "norse":
            dt_ms = (source_dt_s or NORSE_DT_S) * 1e3
        else:
            raise ConfigError(
                f"{source}: NIR does not carry the time step; pass --dt-ms (the file's time "
                "constants are read in ms unless --convention says otherwise)"
            )
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise ConfigError(f"dt_ms must be finite and > 0, got {dt_ms!r}")
    # h: the step in the file's time unit.
    if convention == "snntorch":
        h = SNNTORCH_DT_S
    elif convention == "norse":
        h = (source_dt_s or NORSE_DT_S) ** 2
    else:
        if record is not None and record.get("time_unit", "ms") != "ms":
            raise ConfigError(f"{source}: unknown time unit {record.get('time_unit')!r}")
        h = float(dt_ms)

    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        for end in (src, dst):
            if end not in nodes:
                raise ConfigError(f"NIR edge {src!r} -> {dst!r}: no node named {end!r}")
        succs[src].append(dst)
        preds[dst].append(src)

    taken: set[str] = set()
    pop_name: dict[str, str] = {}
    inputs = [n for n, v in nodes.items() if _type(v) == "Input"]
    if not inputs:
        raise ConfigError(f"{source}: the graph has no Input node")
    neurons: dict[str, _Neuron] = {}
    for n in inputs:
        pop_name[n] = _population_name(n, taken)
    for n, v in _neuron_params(nodes):
        neurons[n] = _read_neuron(n, v, h, convention)
        pop_name[n] = _population_name(n, taken)

    # Propagate every source population (and every Affine bias) through pass-through nodes.
    size_of = {n: _shape_size(next(iter(nodes[n].input_type.values()))) for n in inputs}
    size_of.update({n: neurons[n].size for n in neurons})
    contrib: dict[tuple[str, str], dict[int, NDArray[np.float64]]] = {}
    bias_in: dict[str, NDArray[np.float64]] = {}

    def walk(start: str, value: dict[int, NDArray[np.float64]], origin: str, seen: tuple) -> None:
        for nxt in succs[start]:
            node = nodes[nxt]
            t = "Pass" if isinstance(node, _Pass) else _type(node)
            if nxt in neurons:
                _deposit(nxt, origin, value)
                continue
            if t == "Output":
                continue
            if t == "Input":
                raise _fail(nxt, node, "an Input node has incoming edges")
            if nxt in seen:
                raise _fail(nxt, node, "a cycle without a neuron node on it")
            walk(nxt, _apply(nxt, node, t, value), origin, (*seen, nxt))

    def _apply(
        name: str, node: Any, t: str, value: dict[int, NDArray[np.float64]]
    ) -> dict[int, NDArray[np.float64]]:
        n_in = next(iter(value.values())).shape[0]
        if t in ("Linear", "Affine"):
            w = np.asarray(node.weight, dtype=np.float64)
            if w.ndim != 2 or w.shape[1] != n_in:
                raise _fail(name, node, f"weight shape {w.shape} does not take {n_in} inputs")
            return {d: w @ m for d, m in value.items()}
        if t == "Scale":
            s = _arr(node.scale) * np.ones(n_in)
            return {d: s[:, None] * m for d, m in value.items()}
        if t == "Delay":
            steps = _delay_steps(name, node, n_in)
            out: dict[int, NDArray[np.float64]] = {}
            for d, m in value.items():
                for k in np.unique(steps):
                    part = np.where((steps == k)[:, None], m, 0.0)
                    out[d + int(k)] = out.get(d + int(k), 0.0) + part
            return out
        return value  # Flatten (C-order reshape of the flat vector), pass-through

    def _delay_steps(name: str, node: Any, n_in: int) -> NDArray[np.int64]:
        delay = _arr(node.delay)
        if delay.size == 1:
            delay = np.full(n_in, delay[0])
        if delay.size != n_in:
            raise _fail(name, node, f"{delay.size} delays for {n_in} channels")
        steps = delay / h
        rounded = np.rint(steps)
        if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)) or np.any(rounded < 0):
            raise _fail(name, node, f"delays must be non-negative multiples of the step {h:g}")
        return rounded.astype(np.int64)

    def _deposit(target: str, origin: str, value: dict[int, NDArray[np.float64]]) -> None:
        n_post = neurons[target].size
        for d, m in value.items():
            if m.shape[0] != n_post:
                raise _fail(
                    target, nodes[target], f"receives {m.shape[0]} channels, has {n_post} neurons"
                )
            if origin.startswith("bias:"):
                bias_in[target] = bias_in.get(target, 0.0) + m[:, 0]
                continue
            slot = contrib.setdefault((origin, target), {})
            slot[d] = slot.get(d, 0.0) + m

    for n in [*inputs, *neurons]:
        walk(n, {0: np.eye(size_of[n])}, n, ())
    for n, v in nodes.items():
        if _type(v) == "Affine":
            b = _arr(v.bias)
            if np.any(b != 0):
                walk(n, {0: b[:, None]}, "bias:" + n, (n,))

    populations = [Population(name=pop_name[n], size=size_of[n], kind="input") for n in inputs]
    exact = (record or {}).get("populations", {})
    for n, nr in neurons.items():
        bias = nr.bias.copy()
        if n in bias_in:
            if nr.syn_filter:
                raise _fail(
                    n,
                    nodes[n],
                    "an Affine bias into a synaptic current that decays (tau_syn > dt) has no "
                    "canonical form; fold it into v_leak or use a Linear",
                )
            bias = bias + nr.gain * bias_in[n]
        decay_mem, decay_syn, threshold = nr.decay_mem, nr.decay_syn, nr.threshold
        if n in exact:
            decay_mem, decay_syn, threshold, bias = _snap(
                exact[n], decay_mem, decay_syn, threshold, bias, spiking=nr.kind == "lif"
            )
        populations.append(
            Population(
                name=pop_name[n],
                size=nr.size,
                kind=nr.kind,  # type: ignore[arg-type]
                decay_mem=decay_mem,
                decay_syn=decay_syn,
                threshold=threshold,
                bias=bias,
            )
        )
    projections = []
    for (origin, target), by_delay in contrib.items():
        gain = neurons[target].gain
        if record is not None:
            gain = np.where(np.abs(gain - 1.0) <= 1e-12, 1.0, gain)
        weights, delays = _merge(origin, target, by_delay)
        projections.append(
            Projection(
                source=pop_name[origin],
                target=pop_name[target],
                weights=weights * gain[:, None],
                delays=delays.astype(np.float64),
            )
        )

    out_name = _output_node(nodes, preds, neurons, output)
    out_pop = pop_name[out_name]
    out_size = neurons[out_name].size
    if n_classes is not None and n_classes != out_size:
        raise ConfigError(
            f"--classes {n_classes}: the output population {out_pop!r} has {out_size} neurons"
        )
    if readout is None:
        readout = (record or {}).get("readout") or (
            "first_spike" if neurons[out_name].kind == "lif" else "max_voltage"
        )
    check_readout(readout)
    metadata = {
        "nir": {
            "source": source,
            "convention": convention,
            "detected_convention": detected,
            "step_in_file_units": h,
            "node_names": {pop_name[n]: n for n in [*inputs, *neurons]},
            "classes": out_size,
            "nir_version": getattr(nir, "__version__", None),
            "warnings": notes,
        }
    }
    network = Network(
        dt_ms=float(dt_ms),
        populations=tuple(populations),
        projections=tuple(projections),
        readout=readout,
        output=out_pop,
        metadata=metadata,
    ).validate()
    for line in notes:
        warnings.warn(line, NirSemanticsWarning, stacklevel=2)
    return NirImport(network=network, convention=convention, warnings=notes)


def _snap(
    exact: Mapping[str, Any],
    decay_mem: float,
    decay_syn: float,
    threshold: float,
    bias: NDArray,
    *,
    spiking: bool,
) -> tuple[float, float, float, NDArray]:
    """The values neurodeploy's exporter recorded, where the graph's own parameters give them
    back up to float rounding (1e-9 relative); the graph's values otherwise. The threshold of a
    non-spiking population (no NIR field; it never acts) is taken from the record."""

    def close(a: Any, b: Any) -> bool:
        return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))

    try:
        dm, ds, th = float(exact["decay_mem"]), float(exact["decay_syn"]), float(exact["threshold"])
        b = np.asarray(exact["bias"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        return decay_mem, decay_syn, threshold, bias
    return (
        dm if close(dm, decay_mem) else decay_mem,
        ds if close(ds, decay_syn) else decay_syn,
        th if close(th, threshold) or not spiking else threshold,
        b if b.shape == bias.shape and close(b, bias) else bias,
    )


def _merge(
    origin: str, target: str, by_delay: Mapping[int, NDArray[np.float64]]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """One weight and one delay per synapse; ConfigError when a synapse has two delays."""
    keys = sorted(by_delay)
    stack = np.stack([by_delay[k] for k in keys])  # (n_delays, post, pre)
    nonzero = stack != 0
    count = nonzero.sum(axis=0)
    if np.any(count > 1):
        i, j = (int(x) for x in np.argwhere(count > 1)[0])
        ds = [keys[k] for k in np.flatnonzero(nonzero[:, i, j])]
        raise ConfigError(
            f"NIR paths {origin!r} -> {target!r}: synapse (post {i}, pre {j}) is reached with "
            f"delays {ds} steps; the canonical model has one delay per synapse"
        )
    weights = stack.sum(axis=0)
    delays = np.asarray(keys, dtype=np.int64)[nonzero.argmax(axis=0)]
    return weights, np.where(count > 0, delays, 0)


def _output_node(
    nodes: Mapping[str, Any],
    preds: Mapping[str, list[str]],
    neurons: Mapping[str, _Neuron],
    output: str | None,
) -> str:
    if output is not None:
        if output not in neurons:
            raise ConfigError(
                f"--output must name a neuron node ({', '.join(neurons) or 'none'}), got {output!r}"
            )
        return output
    outs = [n for n, v in nodes.items() if _type(v) == "Output"]
    if len(outs) != 1:
        names = ", ".join(outs) or "none"
        raise ConfigError(
            f"the graph has {len(outs)} Output nodes ({names}); neurodeploy reads one output "
            "population (pass --output NODE to pick a neuron node)"
        )

    def feeder(name: str, seen: tuple[str, ...] = ()) -> str:
        ps = preds[name]
        if len(ps) != 1:
            raise _fail(name, nodes[name], f"must be fed by one neuron node, has {len(ps)} inputs")
        p = ps[0]
        if p in neurons:
            return p
        node = nodes[p]
        if (isinstance(node, _Pass) or _type(node) == "Flatten") and p not in seen:
            return feeder(p, (*seen, p))
        raise _fail(outs[0], nodes[outs[0]], f"is fed by {p!r} ({_type(node)}), not a neuron node")

    return feeder(outs[0])


def _unsupported_reason(t: str) -> str:
    if t.startswith("Conv"):
        return "convolutions are not supported (the canonical model has dense projections only)"
    if "Pool" in t:
        return "pooling is not supported (the canonical model has dense projections only)"
    if t == "Threshold":
        return "a bare Threshold has no canonical form (use LIF or IF)"
    if t == "I":
        return "a non-spiking integrator without leak is not supported (use LI or IF)"
    return f"node type {t} is not supported"


def _snntorch_notes(nodes: Mapping[str, Any], edges: list[tuple[str, str]]) -> list[str]:
    """What snnTorch 1.0's late "zero" reset changes, per kind of node (docs/nir.md)."""
    late = sorted(
        n
        for n, v in nodes.items()
        if _type(v) == "CubaLIF" or (_type(v) == "LIF" and _on_cycle(n, edges))
    )
    leaky = sorted(n for n, v in nodes.items() if _type(v) == "LIF" and n not in late)
    out = []
    if late:
        out.append(
            f"snnTorch Synaptic/RLeaky nodes ({', '.join(late)}) reset one step late: their v is 0 in "
            "the step after a spike whatever the input; the imported model resets in the spiking "
            "step (spikes differ; docs/nir.md)"
        )
    if leaky:
        out.append(
            f"snnTorch Leaky nodes ({', '.join(leaky)}) record v before its reset in a spiking step; "
            "the imported model records 0 there (same spikes)"
        )
    out.append("snnTorch's 'subtract' reset has no NIR form: the file always says reset to 0")
    return out


def _on_cycle(name: str, edges: list[tuple[str, str]]) -> bool:
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    stack, seen = list(succ.get(name, [])), set()
    while stack:
        n = stack.pop()
        if n == name:
            return True
        if n not in seen:
            seen.add(n)
            stack += succ.get(n, [])
    return False


def _detected_note(convention: str) -> str:
    if convention == "snntorch":
        return (
            "detected snnTorch's export convention (r * 1e-4 == tau_mem: dt hard-coded to 1e-4 s); "
            "reading time constants at a step of 1e-4 (pass --convention nir to override)"
        )
    return (
        "detected Norse's export convention (time constants < 1e-3 written as dt * tau, r == 1); "
        "reading at a step of dt**2 with the input jumping into the current "
        "(pass --convention nir to override, --source-dt-s for a dt other than 1e-3 s)"
    )


def import_nir(
    path: str | os.PathLike[str],
    *,
    dt_ms: float | None = None,
    convention: str = "auto",
    source_dt_s: float | None = None,
    readout: str | None = None,
    output: str | None = None,
    n_classes: int | None = None,
) -> NirImport:
    """Read a ``.nir`` file (``nir.read``, type checks on) and convert it; see
    :func:`from_nir_graph`. ModelFileError naming the file when it cannot be read."""
    nir = load_nir()
    path = Path(path)
    notes: list[str] = []
    try:
        try:
            graph = nir.read(path)
        except ValueError as exc:
            if "type" not in str(exc).lower():
                raise
            # Peers' files often fail NIR's shape inference (snnTorch #410); the conversion
            # checks every shape itself, naming the node.
            graph = nir.read(path, type_check=False)
            notes.append(f"nir.read's type check failed ({str(exc).splitlines()[0]}); read without")
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except Exception as exc:  # nir raises assorted errors on malformed files
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{path}: not a readable NIR file ({line})") from None
    return from_nir_graph(
        graph,
        dt_ms=dt_ms,
        convention=convention,
        source_dt_s=source_dt_s,
        readout=readout,
        output=output,
        n_classes=n_classes,
        source=path.name,
        notes=notes,
    )
