"""The whole flow on a foreign model: a NIR file exported by a peer library imports, quantizes for
both targets, and its Loihi 2 hardware model equals Lava bit for bit (``verify --against lava``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from neurodeploy.backend import get_backend
from neurodeploy.backends.nir_import import NirSemanticsWarning, import_nir
from neurodeploy.cli import main
from neurodeploy.quantize import quantize
from neurodeploy.spikes import SpikeData
from neurodeploy.verification import check_agreement

FIXTURES = Path(__file__).resolve().parents[1] / "nir_fixtures"


def _peer(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NirSemanticsWarning)
        net = import_nir(FIXTURES / f"{name}.nir").network
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as f:
        inputs = SpikeData.from_dense(f["inputs"])
    return net, inputs


@pytest.mark.lava
@pytest.mark.parametrize("name", ["norse_lif", "snntorch_rleaky"])
def test_a_peer_model_quantizes_for_both_targets_and_equals_lava(name):
    net, inputs = _peer(name)
    for target in ("loihi2", "spinnaker2"):
        result = quantize(net, target, calibration=inputs, sensitivity_draws=0)
        assert result.hardware.profile == target
    hw = quantize(net, "loihi2", calibration=inputs, sensitivity_draws=0).hardware
    report = check_agreement(iter([(name, hw, inputs)]), get_backend("lava").run, against="lava")
    assert report.ok, report.mismatches[0]["text"]
    assert report.spikes > 100


@pytest.mark.lava
def test_import_quantize_verify_on_the_command_line(tmp_path, capsys):
    def run(*args: str) -> None:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        assert info.value.code == 0, capsys.readouterr().err

    run(
        "import", str(FIXTURES / "norse_lif.nir"), "--out", str(tmp_path / "f.h5"), "--classes", "4"
    )
    capsys.readouterr()
    run("quantize", str(tmp_path / "f.h5"), "--target", "loihi2", "--out", str(tmp_path / "hw.h5"))
    capsys.readouterr()
    hw_path = tmp_path / "hw.h5"
    run("verify", str(hw_path), "--against", "lava", "--json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["mismatches"] == 0, doc
