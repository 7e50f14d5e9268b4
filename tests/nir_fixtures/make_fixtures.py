"""Build the peer NIR fixtures: small models exported by snnTorch's and Norse's own NIR exporters,
with each library's own simulation of them on fixed inputs.

Run in the optional peers environment (``make nir-peers`` creates ``.venv-peers`` with torch,
snnTorch 1.0.0, Norse 1.1.0, nirtorch and nir, then runs this script)::

    .venv-peers/bin/python tests/nir_fixtures/make_fixtures.py

For each model it writes ``<name>.nir`` (the library's export, unchanged) and ``<name>.npz``
(no pickle): ``inputs`` uint8 (samples, steps, channels); per recorded layer, keyed by the NIR node
name the exporter gave it, ``spikes__<node>`` uint8 and ``v__<node>`` float64 (samples, steps,
size) as the library computed them, and ``shift__<node>``: how many steps later the same event
happens in neurodeploy's canonical model (its one-step latency per layer where the library has
none); ``library``, ``version``, ``dt_s`` and ``notes`` describe the run. Simulations run in
float64 (Norse) or float32 (snnTorch, whose spike function returns float32). Norse cannot export recurrent cells (``LIFRecurrentCell`` becomes a ``None`` node and
``nir.write`` fails); the script records that failure in ``norse_recurrent.txt``.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import nir
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
N_IN, N_HID, N_OUT = 6, 10, 4
N_SAMPLES, N_STEPS = 4, 60
SEED = 7

torch.set_default_dtype(torch.float64)


def _inputs() -> np.ndarray:
    rng = np.random.default_rng(SEED)
    return (rng.random((N_SAMPLES, N_STEPS, N_IN)) < 0.3).astype(np.uint8)


def _linear(n_in: int, n_out: int, *, bias: bool, seed: int, scale: float) -> torch.nn.Linear:
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(n_out, n_in, generator=g) * scale + 0.15)
        if bias:
            layer.bias.copy_(torch.randn(n_out, generator=g) * 0.05)
    return layer


def _save(
    name: str,
    graph: nir.NIRGraph,
    library: str,
    version: str,
    dt_s: float,
    records: dict[str, tuple[np.ndarray, np.ndarray, int]],
    notes: str,
) -> None:
    nir.write(HERE / f"{name}.nir", graph)
    nir.read(HERE / f"{name}.nir")  # the file must pass nir's own type checks
    arrays: dict[str, np.ndarray] = {
        "inputs": _inputs(),
        "library": np.array(library),
        "version": np.array(version),
        "dt_s": np.array(dt_s),
        "notes": np.array(notes),
    }
    for node, (spikes, v, shift) in records.items():
        arrays[f"spikes__{node}"] = spikes.astype(np.uint8)
        arrays[f"v__{node}"] = v.astype(np.float64)
        arrays[f"shift__{node}"] = np.array(shift)
    np.savez_compressed(HERE / f"{name}.npz", **arrays)
    counts = {k: int(s.sum()) for k, (s, _, _) in records.items()}
    print(f"{name}: nodes {sorted(graph.nodes)}; spikes per layer {counts}")


def _neuron_nodes(graph: nir.NIRGraph) -> list[str]:
    kinds = (nir.LIF, nir.CubaLIF, nir.LI, nir.CubaLI, nir.IF)
    return [n for n, v in graph.nodes.items() if isinstance(v, kinds)]


def _by_depth(graph: nir.NIRGraph) -> list[str]:
    """Neuron nodes in the order a feed-forward signal reaches them (nirtorch names are ints)."""
    names = _neuron_nodes(graph)
    return sorted(names, key=lambda n: (len(n), n))


# ------------------------------------------------------------------------------ snnTorch


def snntorch_models() -> None:
    import snntorch as snn
    from snntorch import utils as snn_utils
    from snntorch.export_nir import export_to_nir

    version = snn.__version__
    # snnTorch's spike function returns float32 (``.float()``), so its models run in float32.
    torch.set_default_dtype(torch.float32)
    x = torch.from_numpy(_inputs()).float()

    def leaky(n: int, beta: float) -> snn.Leaky:
        return snn.Leaky(
            beta=torch.full((n,), beta),
            threshold=torch.ones(n),
            reset_mechanism="zero",
            init_hidden=True,
        )

    def synaptic(n: int, alpha: float, beta: float) -> snn.Synaptic:
        return snn.Synaptic(
            alpha=torch.full((n,), alpha),
            beta=torch.full((n,), beta),
            threshold=torch.ones(n),
            reset_mechanism="zero",
            init_hidden=True,
        )

    # Feed-forward Leaky (LIF), with and without biases; Synaptic (CubaLIF).
    for name, bias, cell in (
        ("snntorch_leaky", False, "leaky"),
        ("snntorch_leaky_affine", True, "leaky"),
        ("snntorch_synaptic", False, "synaptic"),
    ):
        torch.manual_seed(0)
        l1 = _linear(N_IN, N_HID, bias=bias, seed=1, scale=0.5)
        l2 = _linear(N_HID, N_OUT, bias=bias, seed=2, scale=0.4)
        if cell == "leaky":
            n1, n2 = leaky(N_HID, 0.9), leaky(N_OUT, 0.85)
        else:
            n1, n2 = synaptic(N_HID, 0.7, 0.9), synaptic(N_OUT, 0.6, 0.85)
        net = torch.nn.Sequential(l1, n1, l2, n2)
        graph = export_to_nir(net, torch.zeros(N_IN))
        recs = {k: ([], []) for k in ("1", "3")}
        snn_utils.reset(net)
        with torch.no_grad():
            for t in range(N_STEPS):
                s1 = n1(l1(x[:, t]))
                s2 = n2(l2(s1))
                for k, s, n in (("1", s1, n1), ("3", s2, n2)):
                    recs[k][0].append(s.numpy().copy())
                    recs[k][1].append(n.mem.numpy().copy())
        nodes = _by_depth(graph)
        records = {
            node: (np.stack(recs[k][0], 1), np.stack(recs[k][1], 1), depth)
            for depth, (node, k) in enumerate(zip(nodes, ("1", "3"), strict=True), start=1)
        }
        _save(
            name,
            graph,
            "snntorch",
            version,
            1e-4,
            records,
            "snnTorch: no latency between layers (canonical: one step per layer, shift = depth); "
            "reset 'zero' applied one step late (reset_delay).",
        )

    # Recurrent: RLeaky (all-to-all, with the recurrent Linear's bias) -> Linear -> Leaky.
    torch.manual_seed(0)
    l1 = _linear(N_IN, N_HID, bias=False, seed=3, scale=0.5)
    rl = snn.RLeaky(
        beta=torch.full((N_HID,), 0.9),
        threshold=torch.ones(N_HID),
        linear_features=N_HID,
        reset_mechanism="zero",
        init_hidden=True,
    )
    with torch.no_grad():
        g = torch.Generator().manual_seed(4)
        rl.recurrent.weight.copy_(torch.randn(N_HID, N_HID, generator=g) * 0.2)
        rl.recurrent.bias.zero_()
    l2 = _linear(N_HID, N_OUT, bias=False, seed=5, scale=0.4)
    n2 = leaky(N_OUT, 0.85)
    net = torch.nn.Sequential(l1, rl, l2, n2)
    graph = export_to_nir(net, torch.zeros(N_IN))
    r_s, r_m, o_s, o_m = [], [], [], []
    snn_utils.reset(net)
    with torch.no_grad():
        for t in range(N_STEPS):
            s1 = rl(l1(x[:, t]))
            s2 = n2(l2(s1))
            r_s.append(s1.numpy().copy())
            r_m.append(rl.mem.numpy().copy())
            o_s.append(s2.numpy().copy())
            o_m.append(n2.mem.numpy().copy())
    hidden, out = _recurrent_and_output(graph)
    _save(
        "snntorch_rleaky",
        graph,
        "snntorch",
        version,
        1e-4,
        {
            hidden: (np.stack(r_s, 1), np.stack(r_m, 1), 1),
            out: (np.stack(o_s, 1), np.stack(o_m, 1), 2),
        },
        "snnTorch RLeaky: recurrence with one step (as canonical), feed-forward without; "
        "reset one step late.",
    )

    # Recurrent CubaLIF: RSynaptic (its recurrent Linear's bias zeroed: a constant into a decaying
    # current has no canonical form) -> Linear -> Leaky.
    l1 = _linear(N_IN, N_HID, bias=False, seed=6, scale=0.4)
    rs = snn.RSynaptic(
        alpha=torch.full((N_HID,), 0.6),
        beta=torch.full((N_HID,), 0.9),
        threshold=torch.ones(N_HID),
        linear_features=N_HID,
        reset_mechanism="zero",
        init_hidden=True,
    )
    with torch.no_grad():
        g = torch.Generator().manual_seed(7)
        rs.recurrent.weight.copy_(torch.randn(N_HID, N_HID, generator=g) * 0.15)
        rs.recurrent.bias.zero_()
    l2 = _linear(N_HID, N_OUT, bias=False, seed=8, scale=0.4)
    n2 = leaky(N_OUT, 0.85)
    net = torch.nn.Sequential(l1, rs, l2, n2)
    graph = export_to_nir(net, torch.zeros(N_IN))
    r_s, r_m, o_s, o_m = [], [], [], []
    snn_utils.reset(net)
    with torch.no_grad():
        for t in range(N_STEPS):
            s1 = rs(l1(x[:, t]))
            s2 = n2(l2(s1))
            r_s.append(s1.numpy().copy())
            r_m.append(rs.mem.numpy().copy())
            o_s.append(s2.numpy().copy())
            o_m.append(n2.mem.numpy().copy())
    hidden, out = _recurrent_and_output(graph)
    _save(
        "snntorch_rsynaptic",
        graph,
        "snntorch",
        version,
        1e-4,
        {
            hidden: (np.stack(r_s, 1), np.stack(r_m, 1), 1),
            out: (np.stack(o_s, 1), np.stack(o_m, 1), 2),
        },
        "snnTorch RSynaptic: recurrence with one step, feed-forward without; reset one step late.",
    )
    torch.set_default_dtype(torch.float64)


def _recurrent_and_output(graph: nir.NIRGraph) -> tuple[str, str]:
    """(recurrent neuron node, output neuron node), nested graphs named ``<sub>.<node>``."""
    names: list[str] = []
    for n, v in graph.nodes.items():
        if isinstance(v, nir.NIRGraph):
            names += [f"{n}.{m}" for m in _neuron_nodes(v)]
        elif isinstance(v, (nir.LIF, nir.CubaLIF, nir.LI, nir.CubaLI, nir.IF)):
            names.append(n)
    out_edges = {a for a, b in graph.edges if isinstance(graph.nodes[b], nir.Output)}
    out = next(n for n in names if n in out_edges)
    hidden = next(n for n in names if n != out)
    return hidden, out


# ------------------------------------------------------------------------------ Norse


def norse_models() -> None:
    import norse
    from norse.torch import LIBoxCell, LIFBoxCell, LIFCell, SequentialState
    from norse.torch.functional.leaky_integrator_box import LIBoxParameters
    from norse.torch.functional.lif import LIFParameters
    from norse.torch.functional.lif_box import LIFBoxParameters
    from norse.torch.utils.export_nir import to_nir

    version = getattr(norse, "__version__", "1.1.0")
    x = torch.from_numpy(_inputs()).double()
    dt = 1e-3

    def lif(n: int, tau_mem_ms: float, tau_syn_ms: float) -> LIFCell:
        return LIFCell(
            LIFParameters(
                tau_mem_inv=torch.full((n,), 1e3 / tau_mem_ms),
                tau_syn_inv=torch.full((n,), 1e3 / tau_syn_ms),
                v_leak=torch.zeros(n),
                v_th=torch.full((n,), 0.5),
                v_reset=torch.zeros(n),
            )
        )

    def run(net: torch.nn.Module, layers: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        out: dict[int, tuple[list, list]] = {i: ([], []) for i in layers}
        with torch.no_grad():
            state: list = [None] * len(net)
            for t in range(N_STEPS):
                h = x[:, t]
                for i, layer in enumerate(net):
                    if isinstance(layer, torch.nn.Linear):
                        h = layer(h)
                        continue
                    h, state[i] = layer(h, state[i])
                    v = state[i].v
                    spiking = not isinstance(layer, LIBoxCell)
                    out[i][0].append(h.numpy().copy() if spiking else np.zeros(v.shape))
                    out[i][1].append(v.numpy().copy())
        return [(np.stack(out[i][0], 1), np.stack(out[i][1], 1)) for i in layers]

    # CubaLIF (LIFCell) feed-forward: the current jumps by the input, then v integrates it.
    l1 = _linear(N_IN, N_HID, bias=False, seed=11, scale=3.0)
    l2 = _linear(N_HID, N_OUT, bias=False, seed=12, scale=3.0)
    cells = [lif(N_HID, 12.5, 5.0), lif(N_OUT, 20.0, 8.0)]
    seq = torch.nn.Sequential(l1, cells[0], l2, cells[1])
    graph = to_nir(SequentialState(l1, cells[0], l2, cells[1]), torch.zeros(N_IN), dt=dt)
    recs = run(seq, [1, 3])
    nodes = _by_depth(graph)
    _save(
        "norse_lif",
        graph,
        "norse",
        version,
        dt,
        {n: (s, v, depth) for depth, (n, (s, v)) in enumerate(zip(nodes, recs, strict=True), 1)},
        "Norse LIFCell: tau written as dt*tau, r = w_in = 1 while the current jumps by the input; "
        "no latency between layers (shift = depth).",
    )

    # Box cells (LIF, LI nodes): no synaptic current, v sees the input in the same step.
    l1 = _linear(N_IN, N_HID, bias=True, seed=13, scale=8.0)
    l2 = _linear(N_HID, N_OUT, bias=False, seed=14, scale=8.0)
    c1 = LIFBoxCell(
        LIFBoxParameters(
            tau_mem_inv=torch.full((N_HID,), 1e3 / 12.5),
            v_leak=torch.zeros(N_HID),
            v_th=torch.full((N_HID,), 0.5),
            v_reset=torch.zeros(N_HID),
        )
    )
    c2 = LIBoxCell(
        LIBoxParameters(tau_mem_inv=torch.full((N_OUT,), 1e3 / 20.0), v_leak=torch.zeros(N_OUT))
    )
    seq = torch.nn.Sequential(l1, c1, l2, c2)
    graph = to_nir(SequentialState(l1, c1, l2, c2), torch.zeros(N_IN), dt=dt)
    recs = run(seq, [1, 3])
    nodes = _by_depth(graph)
    _save(
        "norse_box",
        graph,
        "norse",
        version,
        dt,
        {n: (s, v, depth) for depth, (n, (s, v)) in enumerate(zip(nodes, recs, strict=True), 1)},
        "Norse LIFBoxCell/LIBoxCell: no latency between layers (shift = depth); tau as dt*tau.",
    )

    # IAFCell (IF) then LIFBoxCell (LIF): v += input; the LIF node makes the convention detectable.
    from norse.torch import IAFCell
    from norse.torch.functional.iaf import IAFParameters

    l1 = _linear(N_IN, N_HID, bias=False, seed=15, scale=0.6)
    l2 = _linear(N_HID, N_OUT, bias=False, seed=16, scale=8.0)
    c1 = IAFCell(IAFParameters(v_th=torch.full((N_HID,), 1.0), v_reset=torch.zeros(N_HID)))
    c2 = LIFBoxCell(
        LIFBoxParameters(
            tau_mem_inv=torch.full((N_OUT,), 1e3 / 20.0),
            v_leak=torch.zeros(N_OUT),
            v_th=torch.full((N_OUT,), 0.5),
            v_reset=torch.zeros(N_OUT),
        )
    )
    seq = torch.nn.Sequential(l1, c1, l2, c2)
    graph = to_nir(SequentialState(l1, c1, l2, c2), torch.zeros(N_IN), dt=dt)
    recs = run(seq, [1, 3])
    nodes = _by_depth(graph)
    _save(
        "norse_iaf",
        graph,
        "norse",
        version,
        dt,
        {n: (s, v, depth) for depth, (n, (s, v)) in enumerate(zip(nodes, recs, strict=True), 1)},
        "Norse IAFCell (IF, v += input) then LIFBoxCell (LIF); no latency between layers.",
    )

    # Recurrent cells do not export.
    from norse.torch import LIFRecurrentCell

    try:
        g = to_nir(SequentialState(LIFRecurrentCell(N_IN, N_HID)), torch.zeros(N_IN), dt=dt)
        nir.write(HERE / "norse_recurrent_probe.nir", g)
        message = "exported (unexpected)"
    except Exception as exc:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        (HERE / "norse_recurrent_probe.nir").unlink(missing_ok=True)
    (HERE / "norse_recurrent.txt").write_text(
        f"norse {version}: to_nir(LIFRecurrentCell) then nir.write -> {message}\n"
    )
    print(f"norse recurrent export: {message}")


# ------------------------------------------------------------------------------ Sinabs


def sinabs_models() -> None:
    """Sinabs IAF (exported as ``IF``; the reset and spike rule are not exported): single spikes
    and reset to 0 here, the behaviour the file describes. Sinabs has no dt: one step per unit."""
    import sinabs
    import sinabs.layers as sl
    from sinabs import to_nir
    from sinabs.activation import MembraneReset, SingleSpike

    torch.set_default_dtype(torch.float32)
    x = torch.from_numpy(_inputs()).float()
    l1 = _linear(N_IN, N_HID, bias=False, seed=21, scale=0.6)
    l2 = _linear(N_HID, N_OUT, bias=False, seed=22, scale=0.6)

    def iaf() -> sl.IAFSqueeze:
        return sl.IAFSqueeze(
            batch_size=1,  # one sample at a time: input (steps, channels)
            spike_threshold=1.0,
            spike_fn=SingleSpike,
            reset_fn=MembraneReset(),
            record_states=True,
        )

    n1, n2 = iaf(), iaf()
    net = torch.nn.Sequential(l1, n1, l2, n2)
    graph = to_nir(net, torch.zeros(1, N_IN))
    out = {1: ([], []), 2: ([], [])}
    with torch.no_grad():
        for sample in x:
            for layer in (n1, n2):
                layer.reset_states()
            s1 = n1(l1(sample))
            s2 = n2(l2(s1))
            for k, s, layer in ((1, s1, n1), (2, s2, n2)):
                out[k][0].append(s.numpy().copy())
                out[k][1].append(layer.recordings["v_mem"].reshape(N_STEPS, -1).numpy().copy())
    s1, s2 = (np.stack(out[k][0]) for k in (1, 2))
    v1, v2 = (np.stack(out[k][1]) for k in (1, 2))
    records = {}
    nodes = _by_depth(graph)
    for depth, (node, s, v) in enumerate(zip(nodes, (s1, s2), (v1, v2), strict=True), 1):
        records[node] = (s, v, depth)
    _save(
        "sinabs_iaf",
        graph,
        "sinabs",
        sinabs.__version__,
        1.0,
        records,
        "Sinabs IAF, SingleSpike, MembraneReset: v += input, spike if v >= threshold, reset to 0 "
        "in the same step; no latency between layers (shift = depth). Sinabs' defaults "
        "(MultiSpike, MembraneSubtract) export to the same file.",
    )


if __name__ == "__main__":
    failed = False
    only = set(sys.argv[1:])  # e.g. `sinabs` to rebuild one library's fixtures
    for make in (snntorch_models, norse_models, sinabs_models):
        if only and make.__name__.split("_")[0] not in only:
            continue
        try:
            torch.set_default_dtype(torch.float64)
            make()
        except Exception:
            traceback.print_exc()
            failed = True
    sys.exit(1 if failed else 0)
