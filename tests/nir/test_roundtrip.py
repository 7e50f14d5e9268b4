"""export → ``nir.read`` → import reproduces a model's float run exactly. The ``nir`` backend's
contract is checked with every other registered backend in tests/backends/test_conformance.py."""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import pytest

from neurodeploy.backend import get_backend
from neurodeploy.backends.nir_export import METADATA_KEY, export_nir, to_nir_graph
from neurodeploy.backends.nir_import import from_nir_graph, import_nir
from neurodeploy.cli import main
from neurodeploy.emulator.canonical import simulate
from neurodeploy.files import read_network, write_network
from neurodeploy.network import Network
from neurodeploy.targets import dequantize, get_target
from neurodeploy.verification import random_inputs
from tests.backends import test_conformance as conformance
from tests.trainer.nets import random_network

CASES = {
    "feed-forward": {"sizes": [8, 5, 3], "max_delay": 0, "recurrent": False},
    "recurrent": {"sizes": [8, 6, 3], "max_delay": 0, "recurrent": True},
    "delayed": {"sizes": [8, 5, 3], "max_delay": 6, "recurrent": False},
    "recurrent+delayed": {"sizes": [7, 6, 4], "max_delay": 9, "recurrent": True},
}


def _net(case: str, seed: int, out_kind: str = "li") -> Network:
    rng = np.random.default_rng(seed)
    return random_network(rng, n_in=6, out_kind=out_kind, **CASES[case])


def _assert_same_run(a: Network, b: Network, seed: int, *, v_exact: bool) -> int:
    inputs = random_inputs(np.random.default_rng(seed), a, n_samples=3, n_steps=80, rate=0.2)
    ra, rb = simulate(a, inputs), simulate(b, inputs)
    assert set(ra) == set(rb)
    spikes = 0
    for name in ra:
        np.testing.assert_array_equal(ra[name].spikes, rb[name].spikes, err_msg=name)
        if v_exact:
            np.testing.assert_array_equal(ra[name].v, rb[name].v, err_msg=name)
        else:
            np.testing.assert_allclose(ra[name].v, rb[name].v, rtol=0, atol=1e-9, err_msg=name)
        spikes += int(ra[name].spikes.sum())
    return spikes


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_import_of_export_runs_exactly_like_the_model(case, seed, tmp_path):
    net = _net(case, seed, out_kind="lif" if seed == 1 else "li")
    (path,) = export_nir(net, tmp_path / "m.nir")
    nir.read(path)  # standard NIR, type checks on
    back = import_nir(path).network
    assert back.dt_ms == net.dt_ms and back.output == "output"
    assert [p.name for p in back.populations] == [p.name for p in net.populations]
    for p, q in zip(net.populations, back.populations, strict=True):
        assert (p.kind, p.size, p.decay_mem, p.decay_syn, p.threshold) == (
            q.kind,
            q.size,
            q.decay_mem,
            q.decay_syn,
            q.threshold,
        )
        np.testing.assert_array_equal(p.bias, q.bias)
    for p, q in zip(net.projections, back.projections, strict=True):
        np.testing.assert_array_equal(p.weights, q.weights)
        np.testing.assert_array_equal(np.rint(p.delays), q.delays)
    assert _assert_same_run(net, back, seed, v_exact=True) > 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_without_neurodeploy_metadata_the_graph_alone_gives_the_same_spikes(case):
    """The exact values in the metadata only undo float rounding of the tau conversion."""
    net = _net(case, 5)
    graph = to_nir_graph(net)
    graph.metadata = {}
    back = from_nir_graph(graph, dt_ms=net.dt_ms).network
    _assert_same_run(net, back, 5, v_exact=False)


def test_delays_become_one_branch_per_distinct_delay():
    net = _net("delayed", 3)
    graph = to_nir_graph(net)
    proj = net.projections[0]
    distinct = np.unique(np.rint(proj.delays))
    linears = [n for n in graph.nodes if n.startswith(f"{proj.source}__{proj.target}__d")]
    linears = [n for n in linears if not n.endswith("__delay")]
    assert len(linears) == len(distinct)
    for name in linears:
        d = int(name.rsplit("__d", 1)[1])
        if d:
            np.testing.assert_array_equal(graph.nodes[name + "__delay"].delay, d * net.dt_ms)
    record = json.loads(graph.metadata[METADATA_KEY])
    assert record["dt_ms"] == net.dt_ms and record["latency_steps"] == 1


@pytest.mark.parametrize("target", ["loihi2", "spinnaker2"])
def test_a_hardware_model_exports_the_float_model_it_approximates(target, tmp_path):
    hw = get_target(target).random_model(np.random.default_rng(2), regime="typical")
    (path,) = get_backend("nir").export(hw, tmp_path)
    assert path == tmp_path / "model.nir"
    back = import_nir(path).network
    _assert_same_run(dequantize(hw), back, 2, v_exact=True)


def test_export_then_import_on_the_command_line(tmp_path, capsys):
    net = _net("recurrent+delayed", 4).as_float(readout="max_voltage")
    write_network(net, tmp_path / "m.h5")
    with pytest.raises(SystemExit) as info:
        main(
            ["export", str(tmp_path / "m.h5"), "--backend", "nir", "--out", str(tmp_path / "m.nir")]
        )
    assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        main(["import", str(tmp_path / "m.nir"), "--out", str(tmp_path / "back.h5"), "--json"])
    assert info.value.code == 0
    doc = json.loads(_last_json(capsys))
    back = read_network(tmp_path / "back.h5")
    assert doc["readout"] == back.readout == "max_voltage"
    assert back.metadata["nir"]["convention"] == "nir"
    _assert_same_run(net, back, 4, v_exact=True)


def _last_json(capsys) -> str:
    out = capsys.readouterr().out
    return out[out.index("{") :]


def test_import_errors_are_one_line_and_exit_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["import", str(tmp_path / "missing.nir"), "--out", str(tmp_path / "x.h5")])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "missing.nir" in err[0]


# ------------------------------------------------------------------ the nir backend without nir


def test_without_nir_it_says_what_to_install(monkeypatch):
    from neurodeploy.backends.nir import NirBackend
    from neurodeploy.errors import BackendUnavailableError

    backend = NirBackend()
    monkeypatch.setattr(NirBackend, "is_available", lambda self: False)
    net = conformance._model(None)
    inputs = random_inputs(np.random.default_rng(0), net, n_samples=1, n_steps=5)
    with pytest.raises(BackendUnavailableError, match="pip install"):
        backend.run(net, inputs)
    assert "\n" not in backend.unavailable_reason()


def test_an_unsupported_graph_is_one_error_line_naming_the_node(tmp_path, capsys):
    conv = nir.Conv1d(
        input_shape=4,
        weight=np.ones((1, 1, 2)),
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=np.zeros(1),
    )
    lif = nir.LIF(
        tau=np.full(3, 10.0),
        r=np.ones(3),
        v_leak=np.zeros(3),
        v_threshold=np.ones(3),
        v_reset=np.zeros(3),
    )
    graph = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([1, 4])}),
            "conv": conv,
            "lif": lif,
            "out": nir.Output(output_type={"output": np.array([3])}),
        },
        edges=[("in", "conv"), ("conv", "lif"), ("lif", "out")],
        type_check=False,
    )
    nir.write(tmp_path / "conv.nir", graph)
    with pytest.raises(SystemExit) as info:
        main(
            ["import", str(tmp_path / "conv.nir"), "--dt-ms", "1", "--out", str(tmp_path / "x.h5")]
        )
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: NIR node 'conv' (Conv1d): convolutions are not supported (the canonical "
        "model has dense projections only)"
    ]
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize(
    "example",
    # shd: delays up to 150 steps, 151 branches per projection (9 s): make test-slow
    [
        "digits",
        "seqdetect",
        pytest.param("shd", marks=pytest.mark.slow),
        "spoken_digits",
        "yinyang",
    ],
)
def test_round_trip_is_exact_on_the_example_architectures(example, tmp_path):
    """Each shipped example config's network (as training starts it: sizes, recurrence, readout,
    random delays up to its maximum) on 16 input channels and 4 classes: spikes and v identical
    (the li readouts' v compared bit for bit)."""
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.state import Trainer

    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "examples" / f"{example}.toml")
    net = Trainer.initial(config, 16, 4).network()
    (path,) = export_nir(net, tmp_path / "m.nir")
    back = import_nir(path).network
    assert back.readout == net.readout and back.dt_ms == net.dt_ms
    assert _assert_same_run(net, back, 7, v_exact=True) >= 0
