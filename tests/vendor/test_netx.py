"""The vendor tier: netx files loaded by lava-dl 0.6.0's own loader, run bit for bit.

Each model is quantized (netx-compatible grid), exported, loaded with
``lava.lib.dl.netx.hdf5.Network(net_config=...)``, run in Lava's fixed-point simulator
(``Loihi2SimCfg(select_tag="fixed_pt")``) through the ``netx`` backend, and compared with the
emulator: spikes and v of every layer at every step. Where netx cannot express a model, the
export must refuse it in one line naming the layer. ``tests/backends/netx_replica.py`` is the
default tier's re-implementation of the loader; this tier is the proof against the real one.

Run with ``make test-vendors`` (``.venv-vendors``: lava-dl 0.6.0, torch 2.3, lava-nc 0.10.0).
These tests fail, never skip, when lava-dl is missing: the tier exists to execute them.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurodeploy.backend import get_backend
from neurodeploy.emulator import run as emulate
from neurodeploy.errors import ConfigError
from neurodeploy.network import Network
from neurodeploy.records import first_mismatch
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.loihi2.random_networks import random_loihi2_network
from neurodeploy.verification import random_inputs
from tests.trainer.nets import random_network

pytestmark = pytest.mark.vendor

EXAMPLES = Path(__file__).parents[2] / "examples"
#: Tallies printed at the end of the run (README numbers).
TALLY: dict[str, int] = {}


@pytest.fixture(scope="module")
def netx():
    from neurodeploy.backends.netx import NetxBackend, import_netx, netx_version

    import_netx()  # BackendUnavailableError (a failure, not a skip) without lava-dl
    assert netx_version() == "0.6.0"
    return NetxBackend()


def _tally(key: str) -> None:
    TALLY[key] = TALLY.get(key, 0) + 1


def _check_bit_exact(netx, hw: Network, inputs: SpikeData) -> None:
    expected = emulate(hw, inputs, record_v=True)
    got = netx.run(hw, inputs, record_v=True)
    mismatch = first_mismatch(expected, got)
    assert mismatch is None, str(mismatch)
    for name, rec in expected.items():
        np.testing.assert_array_equal(got[name].spikes, rec.spikes, err_msg=name)
        np.testing.assert_array_equal(got[name].v, rec.v, err_msg=name)
    _tally("samples_bit_exact")
    TALLY["spikes_compared"] = TALLY.get("spikes_compared", 0) + int(
        sum(r.spikes.sum() for r in expected.values())
    )


def test_netx_is_imported_through_the_python_311_fix(netx):
    from neurodeploy._lava_compat import _SourcePatchLoader

    loader = sys.modules["lava.magma.compiler.var_model"].__loader__
    assert isinstance(loader, _SourcePatchLoader)
    assert "lava.lib.dl.netx.hdf5" in sys.modules
    assert get_backend("netx").is_available()


# ------------------------------------------------------------------ quantized random float models

_FLOAT_CASES = [
    # (n_in, hidden sizes + output, max_delay, recurrent, weight sign)
    (6, [8, 3], 0, False, "mixed"),
    (5, [7, 4], 62, False, "mixed"),
    (4, [6, 5, 3], 12, False, "excitatory"),
    (7, [9, 2], 0, True, "mixed"),
    (5, [6, 3], 0, True, "excitatory"),
    (6, [8, 3], 30, False, "inhibitory"),
    (3, [10, 2], 62, False, "excitatory"),
    (6, [5, 4], 0, True, "inhibitory"),
]


@pytest.mark.parametrize("case", range(len(_FLOAT_CASES)))
def test_quantized_random_models_run_bit_exactly_in_netx(netx, case):
    from neurodeploy.quantize import quantize

    n_in, sizes, max_delay, recurrent, sign = _FLOAT_CASES[case]
    rng = np.random.default_rng(100 + case)
    net = random_network(rng, n_in=n_in, sizes=sizes, max_delay=max_delay, recurrent=recurrent)
    projections = []
    for k, p in enumerate(net.projections):
        w = p.weights * 3
        if sign == "excitatory" or (sign == "inhibitory" and k == 0):
            w = np.abs(w)  # the first layer excites, or nothing spikes
        elif sign == "inhibitory":
            w = -np.abs(w)
        projections.append(replace(p, weights=w, delays=np.rint(p.delays)))
    if sign == "inhibitory" and recurrent:
        projections = [
            replace(p, weights=-np.abs(p.weights)) if p.is_recurrent else p for p in projections
        ]
    net = replace(net, projections=tuple(projections)).validate()
    calibration = random_inputs(rng, net, n_samples=8, n_steps=60)
    hw = quantize(net, "loihi2", calibration=calibration, sensitivity_draws=0).hardware
    assert all(p.hw_params["weight_exp"] == 0 for p in hw.projections)
    from neurodeploy.backends.lava_export import plan_netx

    assert plan_netx(hw).exact, plan_netx(hw).reasons
    inputs = random_inputs(np.random.default_rng(7), hw, n_samples=2, n_steps=70)
    _check_bit_exact(netx, hw, inputs)
    _tally("quantized_random_models")


# ------------------------------------------------------------------ random hardware models


def _netx_ified(hw: Network, rng: np.random.Generator) -> Network:
    """The same random model on netx's terms: weight_exp 0, 8 bits, bias_exp 6; sign modes
    (explicit or inferred), weights up to 8 bits, delays and recurrence as drawn."""
    pops = []
    for p in hw.populations:
        if p.kind != "input":
            hp = dict(p.hw_params)
            hp["bias_mant"] = np.asarray(hp["bias_mant"]) // 64
            hp["bias_exp"] = np.full_like(np.asarray(hp["bias_exp"]), 6)
            p = replace(p, hw_params=hp)
        pops.append(p)
    projs = []
    for p in hw.projections:
        hp = dict(p.hw_params, weight_exp=0, num_weight_bits=8)
        if rng.random() < 0.5:
            hp.pop("sign_mode", None)
        projs.append(replace(p, hw_params=hp))
    return replace(hw, populations=tuple(pops), projections=tuple(projs)).validate()


@pytest.mark.parametrize("seed", range(40))
def test_random_hardware_models_run_bit_exactly_or_are_refused(netx, seed):
    from neurodeploy.backends.lava_export import plan_netx

    rng = np.random.default_rng(seed)
    hw = random_loihi2_network(
        rng,
        n_layers=int(rng.integers(1, 4)),
        max_size=8,
        recurrent=bool(seed % 3 == 0),
        max_delay=int(rng.choice([0, 0, 5, 62])),
        regime=str(rng.choice(["typical", "sparse"])),
    )
    hw = _netx_ified(hw, rng)
    inputs = random_inputs(np.random.default_rng(seed + 50), hw, n_samples=1, n_steps=70)
    plan = plan_netx(hw)
    if not plan.exact:
        with pytest.raises(ConfigError) as err:
            netx.run(hw, inputs)
        assert "\n" not in str(err.value) and str(err.value).startswith("no netx file")
        _tally("random_hardware_refused")
        return
    _check_bit_exact(netx, hw, inputs)
    _tally("random_hardware_bit_exact")


# ------------------------------------------------------------------ the recurrent path (#372)


def test_recurrent_synapse_is_unary_in_netx(netx, tmp_path):
    """lava-dl #372: netx gives a recurrent layer's recurrent synapse the layer's *input* message
    bits. Our files say binary spikes everywhere, so it must be 0 (unary) on both synapses."""
    from lava.lib.dl.netx import hdf5

    from neurodeploy.backends.lava_export import export_netx
    from neurodeploy.quantize import quantize

    rng = np.random.default_rng(4)
    net = random_network(rng, n_in=4, sizes=[6, 2], max_delay=0, recurrent=True)
    calibration = random_inputs(rng, net, n_samples=4, n_steps=40)
    hw = quantize(net, "loihi2", calibration=calibration, sensitivity_draws=0).hardware
    (path,) = export_netx(hw, tmp_path)
    loaded = hdf5.Network(net_config=str(path))
    block = loaded.layers[0]
    assert type(block).__name__ == "RecurrentDense"
    for synapse in (block.synapse, block.synapse_rec):
        assert int(np.asarray(synapse.num_message_bits.init).flat[0]) == 0


# ------------------------------------------------------------------ the shipped examples


def _example(name: str, epochs: int, max_train: int):
    from neurodeploy.data import model_dataset
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.loop import train

    path = EXAMPLES / f"{name}.toml"
    config = load_config(path, [f"train.epochs={epochs}", f"data.max_train_samples={max_train}"])
    return config, train, model_dataset


@pytest.mark.parametrize(
    ("name", "expressible"),
    [("yinyang", True), ("digits", True), ("seqdetect", False), ("spoken_digits", False)],
)
def test_shipped_examples_in_netx(netx, tmp_path, name, expressible):
    """Every shipped example trained briefly (1 epoch on at most 256 samples), quantized, exported:
    the feed-forward ones (Yin-Yang; digits, with per-synapse delays) run bit-exactly in netx;
    the recurrent ones with delays (seqdetect, spoken digits) are refused in one line naming the
    layer, and their Lava-process export is written. (examples/shd.toml needs the SHD files,
    which are not shipped; spoken_digits.toml is the same architecture on the shipped data.)"""
    from neurodeploy.backends.lava_export import export_lava
    from neurodeploy.quantize import quantize

    config, train, model_dataset = _example(name, epochs=1, max_train=256)
    model = train(config, tmp_path / "train")
    calibration = model_dataset(config.data.train, model, max_samples=32).spikes
    result = quantize(model, "loihi2", calibration=calibration, sensitivity_draws=0)
    hw = result.hardware
    notes = {k: v["population"].netx_note for k, v in result.report["layers"].items()}
    files = export_lava(hw, tmp_path / "export")
    names = [f.name for f in files]
    test = model_dataset(config.data.test, model, max_samples=2).spikes
    if expressible:
        assert names == ["model.h5", "netx.h5", "manifest.json"]
        assert not any(notes.values()), notes
        _check_bit_exact(netx, hw, test)
        _tally("examples_bit_exact")
    else:
        assert names == ["model.h5", "manifest.json"]
        assert "recurrent layer with delays" in notes["hidden"]
        with pytest.raises(ConfigError, match=r"^no netx file: .*layer hidden: .*recurrent"):
            netx.export(hw, tmp_path / "netx")
        _tally("examples_refused")


def test_zz_print_tally():
    print("\nvendor tally:", TALLY)
