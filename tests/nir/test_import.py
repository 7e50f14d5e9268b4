"""Each NIR primitive becomes the canonical step as docs/nir.md writes it; graphs the canonical
model cannot express fail in one line naming the node, its type and the reason."""

from __future__ import annotations

import itertools

import nir
import numpy as np
import pytest

from neurodeploy.backends.nir_import import NirSemanticsWarning, detect_convention, from_nir_graph
from neurodeploy.emulator.canonical import simulate
from neurodeploy.errors import ConfigError
from neurodeploy.spikes import SpikeData

DT = 0.5  # ms; the file's time constants in ms (NIR's documented unit)


def _inp(n: int) -> nir.Input:
    return nir.Input(input_type={"input": np.array([n])})


def _out(n: int) -> nir.Output:
    return nir.Output(output_type={"output": np.array([n])})


def _graph(nodes: dict, edges: list) -> nir.NIRGraph:
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _chain(*middle: tuple[str, object], n_in: int = 3, n_out: int = 2) -> nir.NIRGraph:
    nodes = {"in": _inp(n_in), **dict(middle), "out": _out(n_out)}
    names = ["in", *[m[0] for m in middle], "out"]
    return _graph(nodes, list(itertools.pairwise(names)))


def _lif(n: int, tau: float = 10.0, r: float = 2.0, v_leak: float = 0.0, thr: float = 1.0):
    return nir.LIF(
        tau=np.full(n, tau),
        r=np.full(n, r),
        v_leak=np.full(n, v_leak),
        v_threshold=np.full(n, thr),
        v_reset=np.zeros(n),
    )


def _cubalif(n: int, **kw):
    p = {"tau_syn": 5.0, "tau_mem": 10.0, "r": 2.0, "v_leak": 0.0, "thr": 1.0, "w_in": 3.0} | kw
    return nir.CubaLIF(
        tau_syn=np.full(n, p["tau_syn"]),
        tau_mem=np.full(n, p["tau_mem"]),
        r=np.full(n, p["r"]),
        v_leak=np.full(n, p["v_leak"]),
        v_threshold=np.full(n, p["thr"]),
        v_reset=np.zeros(n),
        w_in=np.full(n, p["w_in"]),
    )


W = np.array([[0.5, -0.25, 1.0], [0.125, 0.75, -0.5]])


def _import(graph: nir.NIRGraph, **kw):
    return from_nir_graph(graph, dt_ms=kw.pop("dt_ms", DT), convention="nir", **kw).network


def test_lif_is_an_euler_step_without_synaptic_filter():
    net = _import(_chain(("w", nir.Linear(weight=W)), ("lif", _lif(2, v_leak=0.2))))
    pop = net.population("lif")
    assert (pop.kind, pop.decay_syn, pop.threshold) == ("lif", 0.0, 1.0)
    assert pop.decay_mem == pytest.approx(1 - DT / 10.0, abs=1e-15)
    np.testing.assert_allclose(pop.bias, DT / 10.0 * 0.2)
    np.testing.assert_allclose(net.projections[0].weights, W * 2.0 * DT / 10.0)
    assert net.readout == "first_spike" and net.output == "lif"


def test_cubalif_folds_w_in_and_r_into_the_weights():
    net = _import(_chain(("w", nir.Linear(weight=W)), ("h", _cubalif(2))))
    pop = net.population("h")
    assert pop.decay_syn == pytest.approx(1 - DT / 5.0)
    assert pop.decay_mem == pytest.approx(1 - DT / 10.0)
    np.testing.assert_allclose(net.projections[0].weights, W * (DT / 5.0) * 3.0 * (DT / 10.0) * 2.0)


def test_li_and_cubali_are_non_spiking_readouts():
    li = nir.LI(tau=np.full(2, 4.0), r=np.ones(2), v_leak=np.zeros(2))
    net = _import(_chain(("w", nir.Linear(weight=W)), ("li", li)))
    assert net.population("li").kind == "li" and net.readout == "max_voltage"
    cli = nir.CubaLI(
        tau_syn=np.full(2, 2.0),
        tau_mem=np.full(2, 4.0),
        r=np.ones(2),
        v_leak=np.zeros(2),
        w_in=np.ones(2),
    )
    net = _import(_chain(("w", nir.Linear(weight=W)), ("cli", cli)), readout="sum_voltage")
    pop = net.population("cli")
    assert (
        pop.kind == "li" and pop.decay_syn == pytest.approx(0.75) and net.readout == "sum_voltage"
    )


def test_if_integrates_without_leak_and_runs_as_expected():
    node = nir.IF(r=np.full(2, 4.0), v_threshold=np.full(2, 1.5), v_reset=np.zeros(2))
    net = _import(_chain(("w", nir.Linear(weight=np.ones((2, 3)) * 0.25)), ("if", node)))
    pop = net.population("if")
    assert (pop.decay_mem, pop.decay_syn) == (1.0, 0.0)
    raster = np.zeros((1, 6, 3), np.uint8)
    raster[0, :, 0] = 1  # channel 0 spikes every step: v grows by 0.25 * 4 * DT = 0.5 per step
    rec = simulate(net, SpikeData.from_dense(raster))["if"]
    np.testing.assert_allclose(rec.v[0, :, 0], [0, 0.5, 1.0, 1.5, 0.0, 0.5])
    np.testing.assert_array_equal(rec.spikes[0, :, 0], [0, 0, 0, 0, 1, 0])


def test_affine_scale_flatten_and_delay_multiply_out_into_one_projection():
    graph = _chain(
        ("flat", nir.Flatten(start_dim=0, end_dim=0, input_type={"input": np.array([3])})),
        ("aff", nir.Affine(weight=W, bias=np.array([0.1, -0.2]))),
        ("scale", nir.Scale(scale=np.array([2.0, 0.5]))),
        ("delay", nir.Delay(delay=np.array([0.0, 3 * DT]))),
        ("lif", _lif(2, r=1.0)),
    )
    net = _import(graph)
    proj = net.projections[0]
    g = DT / 10.0
    np.testing.assert_allclose(proj.weights, W * np.array([[2.0], [0.5]]) * g)
    np.testing.assert_array_equal(proj.delays, [[0, 0, 0], [3, 3, 3]])
    np.testing.assert_allclose(net.population("lif").bias, np.array([0.2, -0.1]) * g)


def test_a_recurrent_cycle_and_a_nested_graph():
    sub = nir.NIRGraph(
        nodes={
            "input": _inp(2),
            "lif": _lif(2),
            "rec": nir.Linear(weight=np.array([[0.0, 0.5], [0.5, 0.0]])),
            "output": _out(2),
        },
        edges=[("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")],
        type_check=False,
    )
    graph = _graph(
        {"in": _inp(3), "w": nir.Linear(weight=W), "r": sub, "out": _out(2)},
        [("in", "w"), ("w", "r"), ("r", "out")],
    )
    net = _import(graph)
    names = {(p.source, p.target) for p in net.projections}
    assert names == {("in", "r.lif"), ("r.lif", "r.lif")}
    assert net.output == "r.lif"


def test_paths_with_two_delays_for_one_synapse_are_refused():
    graph = _graph(
        {
            "in": _inp(3),
            "a": nir.Linear(weight=W),
            "b": nir.Linear(weight=W),
            "d": nir.Delay(delay=np.full(2, 2 * DT)),
            "lif": _lif(2),
            "out": _out(2),
        },
        [("in", "a"), ("in", "b"), ("b", "d"), ("a", "lif"), ("d", "lif"), ("lif", "out")],
    )
    with pytest.raises(ConfigError, match=r"delays \[0, 2\] steps"):
        _import(graph)


def _one_line(graph: nir.NIRGraph, pattern: str, **kw) -> None:
    with pytest.raises(ConfigError) as err:
        _import(graph, **kw)
    assert "\n" not in str(err.value)
    assert pattern in str(err.value), str(err.value)


def test_unsupported_graphs_fail_in_one_line_naming_node_type_and_reason():
    conv = nir.Conv1d(
        input_shape=3,
        weight=np.ones((1, 1, 2)),
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=np.zeros(1),
    )
    _one_line(
        _chain(("conv", conv), ("lif", _lif(2))), "NIR node 'conv' (Conv1d): convolutions are not"
    )
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.zeros(2))
    _one_line(_chain(("pool", pool), ("lif", _lif(2))), "NIR node 'pool' (SumPool2d): pooling")
    bad_reset = _lif(2)
    bad_reset.v_reset = np.full(2, -0.5)
    _one_line(
        _chain(("w", nir.Linear(weight=W)), ("lif", bad_reset)), "NIR node 'lif' (LIF): v_reset"
    )
    mixed = _lif(2)
    mixed.tau = np.array([10.0, 20.0])
    _one_line(_chain(("w", nir.Linear(weight=W)), ("lif", mixed)), "(LIF): tau differs")
    fast = _lif(2, tau=0.1)
    _one_line(_chain(("w", nir.Linear(weight=W)), ("lif", fast)), "shorter than the step")
    biased = _chain(("a", nir.Affine(weight=W, bias=np.ones(2))), ("h", _cubalif(2)))
    _one_line(biased, "NIR node 'h' (CubaLIF): an Affine bias")
    odd = _chain(
        ("w", nir.Linear(weight=W)), ("d", nir.Delay(delay=np.full(2, 0.3))), ("lif", _lif(2))
    )
    _one_line(odd, "NIR node 'd' (Delay): delays must be non-negative multiples")
    two = _graph(
        {"in": _inp(3), "w": nir.Linear(weight=W), "lif": _lif(2), "o1": _out(2), "o2": _out(2)},
        [("in", "w"), ("w", "lif"), ("lif", "o1"), ("lif", "o2")],
    )
    _one_line(two, "2 Output nodes (o1, o2)")
    assert _import(two, output="lif").output == "lif"
    with pytest.raises(ConfigError, match="pass --dt-ms"):
        from_nir_graph(_chain(("w", nir.Linear(weight=W)), ("lif", _lif(2))))
    with pytest.raises(ConfigError, match="--classes 3"):
        _import(_chain(("w", nir.Linear(weight=W)), ("lif", _lif(2))), n_classes=3)


def test_exporter_conventions_are_detected_and_reported():
    snn = _lif(2, tau=1e-4 / (1 - 0.9), r=1 / (1 - 0.9))
    assert detect_convention({"lif": snn}) == "snntorch"
    norse = _cubalif(2, tau_syn=5e-6, tau_mem=1e-5, r=1.0, w_in=1.0)
    assert detect_convention({"h": norse}) == "norse"
    assert detect_convention({"lif": _lif(2)}) is None
    with pytest.warns(NirSemanticsWarning, match="snnTorch"):
        res = from_nir_graph(_chain(("w", nir.Linear(weight=W)), ("lif", snn)))
    assert res.convention == "snntorch" and res.network.dt_ms == pytest.approx(0.1)
    assert res.network.population("lif").decay_mem == pytest.approx(0.9)
    np.testing.assert_allclose(res.network.projections[0].weights, W)
