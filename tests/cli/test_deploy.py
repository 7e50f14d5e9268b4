"""``neurodeploy export`` and ``neurodeploy deploy`` driven through the real entry point.

``deploy`` runs against the py-spinnaker2 stand-in of tests/backends/fake_spinnaker2 (see
tests/backends/test_spinnaker2.py for what it checks); without it, it must fail with one line
saying what to install.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurodeploy.cli import main
from neurodeploy.files import write_network
from neurodeploy.network import Network, Population, Projection
from neurodeploy.targets.spinnaker2.random_networks import random_spinnaker2_network


@pytest.fixture
def model(tmp_path):
    """A spinnaker2 hardware model with 4 inputs, the size of Yin-Yang samples."""
    base = random_spinnaker2_network(
        np.random.default_rng(3), n_layers=2, max_size=6, regime="typical"
    )
    pops = (Population(name="input", size=4, kind="input"), *base.populations[1:])
    first = base.projections[0]
    rng = np.random.default_rng(0)
    shape = (first.weights.shape[0], 4)
    projs = (
        Projection(
            source="input",
            target=first.target,
            weights=rng.integers(2, 16, shape),
            delays=rng.integers(0, 8, shape),
        ),
        *base.projections[1:],
    )
    path = tmp_path / "model.h5"
    write_network(
        Network(dt_ms=1.0, profile="spinnaker2", populations=pops, projections=projs), path
    )
    return path


def _main(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_export_writes_a_bundle_with_dataset_samples(model, tmp_path, capsys):
    out = tmp_path / "bundle"
    code, stdout, _ = _main(
        [
            "export",
            str(model),
            "--backend",
            "spinnaker2",
            "--out",
            str(out),
            "--data",
            "yinyang:test",
            "--samples",
            "3",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    doc = json.loads(stdout)
    assert doc["samples"] == 3 and str(out / "inputs.json") in doc["files"]
    inputs = json.loads((out / "inputs.json").read_text())
    assert (inputs["n_samples"], inputs["n_channels"], inputs["n_steps"]) == (3, 4, 30)
    assert (out / "run_on_spinnaker2.py").is_file() and (out / "placement.txt").is_file()


def test_export_without_data_and_bad_combinations(model, tmp_path, capsys):
    code, stdout, _ = _main(
        ["export", str(model), "--backend", "spinnaker2", "--out", str(tmp_path / "b")], capsys
    )
    assert code == 0 and "wrote 6 files" in stdout
    assert not (tmp_path / "b" / "inputs.json").exists()
    code, _, err = _main(
        ["export", str(model), "--backend", "lava", "--out", str(tmp_path / "c")], capsys
    )
    assert (
        code == 1
        and err.strip()
        == f"error: {model}: backend 'lava' runs loihi2 hardware models, this is a spinnaker2 hardware model"
    )
    code, _, err = _main(
        [
            "export",
            str(model),
            "--backend",
            "spinnaker2",
            "--out",
            str(tmp_path / "d"),
            "--samples",
            "2",
        ],
        capsys,
    )
    assert code == 1 and err.strip() == "error: --samples needs --data"


def test_deploy_without_py_spinnaker2_says_what_to_install(model, capsys):
    code, stdout, err = _main(
        ["deploy", str(model), "--host", "10.1.1.1", "--data", "yinyang:test"], capsys
    )
    assert code == 1 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "pip install git+https://gitlab.com/spinnaker2/py-spinnaker2.git" in lines[0]
    assert "neurodeploy export MODEL.h5 --backend spinnaker2 --out DIR --data SPEC" in lines[0]


def test_deploy_runs_the_bundle_and_compares_with_the_emulator(
    model, tmp_path, capsys, fake_spinnaker2
):
    out = tmp_path / "deployed"
    argv = [
        "deploy",
        str(model),
        "--host",
        "10.1.1.1",
        "--data",
        "yinyang:test",
        "--samples",
        "4",
        "--out",
        str(out),
    ]
    code, stdout, _ = _main([*argv, "--json"], capsys)
    doc = json.loads(stdout)
    assert code == 0, doc
    assert (
        doc["ok"]
        and doc["samples"] == 4
        and doc["spike_mismatches"] == 0
        and doc["spikes_board"] > 0
    )
    assert (out / "results.h5").is_file() and doc["results"] == str(out / "results.h5")
    code, stdout, err = _main(argv, capsys)
    assert code == 0 and "0 spike mismatches" in stdout and "sample 3 (4/4) done" in err


def test_deploy_needs_data(model, capsys, fake_spinnaker2):
    code, _, err = _main(["deploy", str(model), "--host", "10.1.1.1"], capsys)
    assert code == 1 and err.strip() == "error: deploy needs the samples to run: --data SPEC"


def test_verify_results_compares_a_board_run_with_the_emulator(
    model, tmp_path, capsys, fake_spinnaker2, monkeypatch
):
    out = tmp_path / "deployed"
    argv = ["deploy", str(model), "--host", "10.1.1.1", "--data", "yinyang:test"]
    code, _, _ = _main([*argv, "--samples", "3", "--out", str(out)], capsys)
    assert code == 0
    results = out / "results.h5"
    code, stdout, _ = _main(["verify", str(model), "--results", str(results), "--json"], capsys)
    doc = json.loads(stdout)
    assert code == 0 and doc["ok"] and doc["spike_mismatches"] == 0
    # A board that flipped one spike fails the check with exit code 1.
    import spinnaker2.hardware  # the stand-in corrupts the first run after this reset

    monkeypatch.setenv("FAKE_SPINNAKER2_CORRUPT", "1")
    monkeypatch.setitem(spinnaker2.hardware.RUNS, "count", 0)
    bad = tmp_path / "bad"
    code, _, _ = _main([*argv, "--samples", "3", "--out", str(bad)], capsys)
    code, stdout, _ = _main(["verify", str(model), "--results", str(bad / "results.h5")], capsys)
    assert code == 1 and "1 spike mismatch" in stdout
