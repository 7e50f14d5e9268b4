"""Lava export: netx HDF5 layout and values, what netx cannot express, model copy and manifest."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from neurodeploy.backends.lava import LavaBackend
from neurodeploy.backends.lava_export import export_lava, export_netx, plan_netx
from neurodeploy.errors import ConfigError
from neurodeploy.files import read_network
from neurodeploy.network import Population
from tests.backends.nets import lif, network, proj


def chain(
    *, ff_delays=None, rec_delays=None, bias_exp=(0, 0, 0, 6), out_weight_exp=1, rec_sign_mode=None
):
    """input(3) -> h(4, recurrent) -> o(2, li); exact in netx with the defaults."""
    rng = np.random.default_rng(3)
    pops = [
        Population(name="input", size=3, kind="input"),
        lif("h", 4, du=100, dv=200, vth=40, bias_mant=[64, -128, 0, 3], bias_exp=list(bias_exp)),
        lif("o", 2, du=-1, dv=300, kind="li"),
    ]
    projs = [
        proj("input", "h", 2 * rng.integers(-30, 90, (4, 3)), ff_delays),
        proj("h", "h", -20 * np.eye(4, dtype=np.int64), rec_delays, sign_mode=rec_sign_mode),
        proj("h", "o", rng.integers(0, 50, (2, 4)), [[2], [5]], weight_exp=out_weight_exp),
    ]
    return network(pops, projs)


def test_export_writes_model_netx_and_manifest(tmp_path):
    net = chain()
    files = export_lava(net, tmp_path / "out")
    assert [f.name for f in files] == ["model.h5", "netx.h5", "manifest.json"]
    back = read_network(files[0])
    assert [p.name for p in back.populations] == ["input", "h", "o"]
    np.testing.assert_array_equal(back.projections[0].weights, net.projections[0].weights)
    manifest = json.loads(files[2].read_text())
    assert manifest["format"] == "neurodeploy-lava-export"
    assert manifest["netx"] == {"file": "netx.h5", "exact": True, "not_expressible": []}
    assert [p["lava"] for p in manifest["projections"]] == ["Dense", "Dense", "DelayDense"]
    assert [p["lava"] for p in manifest["populations"]] == ["RingBuffer", "LIF", "LIF"]


def test_netx_file_follows_the_netx_layout(tmp_path):
    net = chain()
    export_lava(net, tmp_path)
    with h5py.File(tmp_path / "netx.h5", "r") as f:
        assert (
            bool(f.attrs["neurodeploy_exact"])
            and json.loads(f.attrs["neurodeploy_not_expressible"]) == []
        )
        assert sorted(f["layer"]) == ["0", "1"]
        h, o = f["layer/0"], f["layer/1"]
        assert h["type"].dtype == np.dtype("S10") and h["type"].shape == (1,)
        assert h["type"][0] == b"dense_rec" and o["type"][0] == b"dense"
        assert h["shape"][()].tolist() == [4] and o["shape"][()].tolist() == [2]
        assert (
            h["inFeatures"][()],
            h["outFeatures"][()],
            o["inFeatures"][()],
            o["outFeatures"][()],
        ) == (3, 4, 4, 2)
        # mixed-sign even weights, 8 bits, weight_exp 0: the file holds them unchanged
        np.testing.assert_array_equal(h["weight"][()], net.projections[0].weights)
        np.testing.assert_array_equal(h["weight_rec"][()], -20 * np.eye(4))
        # excitatory weights with weight_exp 1: each contributes w << 1
        np.testing.assert_array_equal(o["weight"][()], net.projections[2].weights * 2)
        assert h["bias"][()].tolist() == [1, -2, 0, 3]  # (bias_mant << bias_exp) >> 6
        assert "delay" not in h and o["delay"][()].tolist() == [2, 5]  # one per output
        neuron = {k: v[()] for k, v in h["neuron"].items()}
        assert neuron["type"][0] == b"CUBA"
        assert {
            k: int(neuron[k]) for k in ("iDecay", "vDecay", "vThMant", "refDelay", "gradedSpike")
        } == {
            "iDecay": 101,
            "vDecay": 200,
            "vThMant": 40,
            "refDelay": 1,
            "gradedSpike": 0,
        }
        assert int(o["neuron/iDecay"][()]) == 0  # du = -1: no current decay


@pytest.mark.lava
def test_netx_file_runs_like_the_model_in_lava(tmp_path):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.monitor.process import Monitor

    from neurodeploy.spikes import SpikeData
    from tests.backends.netx_replica import build

    net = chain()
    export_lava(net, tmp_path)
    raster = (np.random.default_rng(5).random((30, 3)) < 0.4).astype(np.uint8)
    expected = LavaBackend(samples_per_network=1).run(net, SpikeData.from_dense(raster[None]))
    source, lifs = build(tmp_path / "netx.h5", raster.T)
    monitors = []
    for layer in lifs:
        pair = Monitor(), Monitor()
        pair[0].probe(layer.s_out, 30)
        pair[1].probe(layer.v, 30)
        monitors.append(pair)
    try:
        source.run(RunSteps(30), Loihi2SimCfg(select_tag="fixed_pt"))
        got = [
            (m_s.get_data()[lif_.name]["s_out"], m_v.get_data()[lif_.name]["v"])
            for lif_, (m_s, m_v) in zip(lifs, monitors, strict=True)
        ]
    finally:
        source.stop()
    assert expected["h"].spikes.sum() > 0
    for name, (s, v) in zip(("h", "o"), got, strict=True):
        np.testing.assert_array_equal(s, expected[name].spikes[0])
        np.testing.assert_array_equal(v, expected[name].v[0])


def _reasons(net):
    return "\n".join(plan_netx(net).reasons)


def test_netx_reports_what_it_cannot_express(tmp_path):
    assert "not a multiple of 64" in _reasons(chain(bias_exp=(0, 0, 0, 5)))
    assert "recurrent layer with delays" in _reasons(chain(rec_delays=np.eye(4, dtype=int)))
    assert "recurrent layer with delays" in _reasons(chain(ff_delays=np.ones((4, 3), int)))
    # (-256 << 0) stays -256 in a mixed projection; netx sees only negatives, picks inhibitory,
    # and Lava's inhibitory clip turns it into -255
    inh = chain(rec_sign_mode=1)
    inh = network(
        inh.populations,
        [
            *inh.projections[:1],
            proj("h", "h", [[-256, -2, 0, 0]] * 4, sign_mode=1),
            inh.projections[2],
        ],
    )
    assert "Lava then changes weight_rec[0, 0] from -256" in _reasons(inh)
    odd = chain(
        out_weight_exp=-1
    )  # odd weights of one row: the floor of the sum is not a sum of floors
    assert "weight_exp -1 floors the sum" in _reasons(odd)


def test_exports_refuse_a_netx_file_that_would_run_differently(tmp_path, caplog):
    exact = export_lava(chain(), tmp_path)
    assert (tmp_path / "netx.h5").exists() and len(exact) == 3
    files = export_lava(chain(bias_exp=(0, 0, 0, 5)), tmp_path)  # the earlier netx.h5 goes too
    assert [f.name for f in files] == ["model.h5", "manifest.json"]
    assert not (tmp_path / "netx.h5").exists()
    netx = json.loads(files[1].read_text())["netx"]
    assert netx["file"] is None and "not a multiple of 64" in netx["not_expressible"][0]
    refusal = [r.getMessage() for r in caplog.records if "no netx file" in r.getMessage()]
    assert len(refusal) == 1 and "\n" not in refusal[0] and "layer h:" in refusal[0]
    with pytest.raises(ConfigError, match=r"^no netx file: .*layer h: .*not a multiple of 64") as e:
        export_netx(chain(bias_exp=(0, 0, 0, 5)), tmp_path / "n")
    assert "\n" not in str(e.value) and "export --backend lava" in str(e.value)
    assert not (tmp_path / "n").exists()
    assert [p.name for p in export_netx(chain(), tmp_path / "n")] == ["netx.h5"]


def test_delays_are_per_output_where_exact_else_the_2d_matrix():
    pops = [Population(name="input", size=3, kind="input"), lif("a", 2), lif("b", 2)]
    per_input = [[1, 2, 3], [1, 2, 3]]
    net = network(
        pops,
        [
            proj("input", "a", [[1, 2, 3], [4, 5, 6]], per_input),
            proj("a", "b", [[1, 1], [1, 1]], [[1, 2], [1, 2]]),
        ],
    )
    plan = plan_netx(net)
    assert plan.exact
    assert plan.layers[0].delay.tolist() == per_input  # netx's 1-D forms are ambiguous
    assert plan.layers[1].delay.tolist() == [[1, 2], [1, 2]]
    per_output = network(pops[:2], [proj("input", "a", [[1, 2, 3], [4, 5, 6]], [[4] * 3, [7] * 3])])
    assert plan_netx(per_output).layers[0].delay.tolist() == [4, 7]


def test_non_chain_topology_writes_no_netx_file(tmp_path):
    base = chain()
    skip = network(
        base.populations, [*base.projections, proj("input", "o", np.ones((2, 3), np.int64))]
    )
    files = export_lava(skip, tmp_path)
    assert [f.name for f in files] == ["model.h5", "manifest.json"]
    netx = json.loads(files[1].read_text())["netx"]
    assert netx["file"] is None and not netx["exact"]
    assert any("does not join consecutive layers" in r for r in netx["not_expressible"])
    two_inputs = network(
        [
            Population(name="x", size=1, kind="input"),
            Population(name="y", size=1, kind="input"),
            lif("a"),
        ],
        [proj("x", "a", [[1]]), proj("y", "a", [[1]])],
    )
    assert "2 input populations" in _reasons(two_inputs)


@pytest.mark.parametrize(
    ("max_delay", "recurrent", "sign"),
    [
        (0, False, "mixed"),
        (62, False, "mixed"),
        (12, False, "excitatory"),
        (0, True, "mixed"),
        (0, True, "inhibitory"),
        (30, False, "inhibitory"),
    ],
)
def test_the_loihi2_mapping_chooses_what_netx_reproduces(max_delay, recurrent, sign):
    """The default Loihi 2 grid: weight_exp 0, and the export's replay of netx finds nothing to
    change, for feed-forward, recurrent and delayed layers of every sign (the vendor tier runs the
    same models in netx itself)."""
    from dataclasses import replace

    from neurodeploy.quantize import quantize
    from neurodeploy.verification import random_inputs
    from tests.trainer.nets import random_network

    rng = np.random.default_rng(max_delay + 7 * recurrent)
    net = random_network(rng, n_in=6, sizes=[8, 3], max_delay=max_delay, recurrent=recurrent)
    projections = []
    for k, p in enumerate(net.projections):
        w = 3 * p.weights
        if sign == "excitatory" or (sign == "inhibitory" and k == 0):
            w = np.abs(w)
        elif sign == "inhibitory":
            w = -np.abs(w)
        projections.append(replace(p, weights=w, delays=np.rint(p.delays)))
    net = replace(net, projections=tuple(projections)).validate()
    calibration = random_inputs(rng, net, n_samples=4, n_steps=40)
    result = quantize(net, "loihi2", calibration=calibration, sensitivity_draws=0)
    hw = result.hardware
    assert all(p.hw_params["weight_exp"] == 0 for p in hw.projections)
    assert plan_netx(hw).exact, plan_netx(hw).reasons
    for layer in result.report["layers"].values():
        assert layer["population"].grid == "netx" and not layer["population"].netx_note


def test_models_netx_cannot_hold_keep_the_free_grid_and_say_why():
    from neurodeploy.quantize import quantize
    from neurodeploy.verification import random_inputs
    from tests.trainer.nets import random_network

    rng = np.random.default_rng(2)
    net = random_network(rng, n_in=5, sizes=[6, 2], max_delay=5, recurrent=True)
    calibration = random_inputs(rng, net, n_samples=4, n_steps=40)
    result = quantize(net, "loihi2", calibration=calibration, sensitivity_draws=0)
    for layer in result.report["layers"].values():
        d = layer["population"]
        assert d.grid == "free" and "recurrent layer with delays" in d.netx_note
    assert "NOT netx-exact" in result.report["layers"]["hidden0"]["population"].describe()
    assert not plan_netx(result.hardware).exact
