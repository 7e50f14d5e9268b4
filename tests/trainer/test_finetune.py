"""Quantization-aware fine-tuning and the evaluate command's execution paths."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurodeploy.cli import main
from neurodeploy.cli.pipeline import finetune_for_target
from neurodeploy.data import model_dataset
from neurodeploy.evaluation import evaluate
from neurodeploy.files import read_network, write_network
from neurodeploy.profiles import check_network
from neurodeploy.quantize import quantize
from neurodeploy.targets import dequantize
from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.loop import train
from tests.trainer.test_loop import SMALL


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("train")
    config = load_config(
        None, [*SMALL, "model.max_delay_steps=12", "model.delay_init_steps=[0.0, 12.0]"]
    )
    return config, train(config, run, progress=False), run


@pytest.mark.parametrize("target", ["spinnaker2", "loihi2"])
def test_finetuned_model_sits_on_the_grid_quantize_finds(trained, tmp_path, target):
    _, model, _ = trained
    tuned = finetune_for_target(
        load_config(None, [*SMALL, "train.epochs=1"]), model, target, tmp_path, progress=False
    )
    assert tuned.metadata["finetuned_for"] == target
    assert (
        read_network(tmp_path / "model.h5").projections[0].weights.tolist()
        == tuned.projections[0].weights.tolist()
    )
    limit = 7 if target == "spinnaker2" else 62
    assert all(
        p.delays.max() <= limit and (p.delays == np.rint(p.delays)).all() for p in tuned.projections
    )
    hardware = quantize(tuned, target).hardware
    check_network(hardware)
    back = dequantize(hardware)
    for fine, hw_back in zip(tuned.projections, back.projections, strict=True):
        np.testing.assert_allclose(hw_back.weights, fine.weights, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(hw_back.delays, fine.delays)


def test_decays_on_a_grid_when_asked(tmp_path):
    config = load_config(None, [*SMALL, "train.epochs=1", "model.decay_resolution=4096"])
    model = train(config, tmp_path, progress=False)
    for pop in model.populations[1:]:
        assert pop.decay_mem * 4096 == round(pop.decay_mem * 4096)
        assert pop.decay_syn * 4096 == round(pop.decay_syn * 4096)


def test_evaluate_runs_float_emulator_and_lava_paths(trained, tmp_path, capsys):
    _, model, run = trained
    test = model_dataset("yinyang:test", model, max_samples=24)
    hardware = quantize(model, "loihi2", calibration=test.spikes).hardware
    hw_path = write_network(hardware, tmp_path / "loihi2.h5")
    results = {}
    for backend in ("emulator", "lava"):
        with pytest.raises(SystemExit) as info:
            main(
                [
                    "evaluate",
                    str(hw_path),
                    "--data",
                    "yinyang:test",
                    "--samples",
                    "24",
                    "--backend",
                    backend,
                    "--json",
                ]
            )
        assert info.value.code == 0
        results[backend] = json.loads(capsys.readouterr().out)
    assert results["emulator"]["n"] == results["lava"]["n"] == 24
    assert results["emulator"]["correct"] == results["lava"]["correct"]
    direct = evaluate(hardware, test.spikes, backend="emulator")
    assert direct.to_json()["correct"] == results["emulator"]["correct"]
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(run / "model.h5"), "--data", "yinyang:test", "--backend", "emulator"])
    assert info.value.code == 1
    assert "quantize this float model first" in capsys.readouterr().err
