"""``neurodeploy verify`` driven through the real entry point.

``--against spinnaker2`` runs on the py-spinnaker2 stand-in of tests/backends/fake_spinnaker2 (it
emulates each run on the emulator, and can flip one spike); ``--against lava`` runs Lava's
fixed-point simulator.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import neurodeploy.cli.verify as verify_module
from neurodeploy.cli import main
from neurodeploy.files import write_network
from neurodeploy.targets.spinnaker2.random_networks import random_spinnaker2_network
from neurodeploy.verification import check_agreement
from tests.conftest import loihi2_network


def _main(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


@pytest.fixture
def spinnaker2_board(fake_spinnaker2, monkeypatch):
    """py-spinnaker2's stand-in importable, and a chip address set."""
    monkeypatch.setenv("NEURODEPLOY_SPINNAKER2_HOST", "10.1.1.1")


@pytest.fixture
def seen_profiles(monkeypatch):
    """The profile of every network the command hands to the agreement check."""
    profiles: list[str] = []

    def spy(cases, run_backend, **kwargs):
        def recorded():
            for label, network, inputs in cases:
                profiles.append(network.profile)
                yield label, network, inputs

        return check_agreement(recorded(), run_backend, **kwargs)

    monkeypatch.setattr(verify_module, "check_agreement", spy)
    return profiles


@pytest.fixture
def spinnaker2_model(tmp_path):
    network = random_spinnaker2_network(
        np.random.default_rng(1), n_layers=2, max_size=6, regime="typical"
    )
    return write_network(network, tmp_path / "s2.h5")


def test_random_networks_against_spinnaker2_are_spinnaker2_networks(
    spinnaker2_board, seen_profiles, capsys
):
    argv = ["verify", "--random-networks", "3", "--against", "spinnaker2", "--steps", "12"]
    code, stdout, _ = _main([*argv, "--json", "--seed", "4"], capsys)
    doc = json.loads(stdout)
    assert code == 0, doc
    assert seen_profiles == ["spinnaker2"] * 3
    assert doc["against"] == "spinnaker2" and doc["seed"] == 4
    assert (doc["networks"], doc["samples"], doc["steps"]) == (3, 6, 6 * 12)
    assert doc["mismatches"] == 0 and doc["first_mismatch"] is None
    assert doc["spikes_compared"] > 0
    # the human summary says the same
    code, stdout, _ = _main([*argv, "--seed", "4"], capsys)
    assert code == 0
    assert stdout.strip() == (
        f"3 networks, 6 samples, 72 sample-steps, {doc['spikes_compared']} spikes compared: "
        "0 mismatches"
    )


def test_a_board_that_flips_a_spike_fails_verify(spinnaker2_board, monkeypatch, capsys):
    import spinnaker2.hardware  # the stand-in flips one spike in its first run after this reset

    monkeypatch.setenv("FAKE_SPINNAKER2_CORRUPT", "1")
    monkeypatch.setitem(spinnaker2.hardware.RUNS, "count", 0)
    code, stdout, _ = _main(
        ["verify", "--random-networks", "2", "--against", "spinnaker2", "--steps", "10"], capsys
    )
    assert code == 1
    lines = stdout.strip().splitlines()
    assert lines[0].endswith(": 1 mismatches") and lines[0].startswith("2 networks, 4 samples")
    assert (
        lines[1].startswith("first mismatch: network 0: ")
        and ".spikes[sample 0, step 9" in lines[1]
    )


def test_random_networks_against_spinnaker2_without_py_spinnaker2_says_what_to_install(capsys):
    code, stdout, err = _main(
        ["verify", "--random-networks", "1", "--against", "spinnaker2", "--json"], capsys
    )
    assert code == 1 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "py-spinnaker2" in lines[0]


def test_a_model_file_is_checked_with_random_inputs(
    spinnaker2_model, spinnaker2_board, seen_profiles, capsys
):
    argv = ["verify", str(spinnaker2_model), "--against", "spinnaker2", "--samples", "3"]
    code, stdout, _ = _main([*argv, "--steps", "15", "--json"], capsys)
    doc = json.loads(stdout)
    assert code == 0, doc
    assert seen_profiles == ["spinnaker2"]
    assert (doc["networks"], doc["samples"], doc["steps"], doc["mismatches"]) == (1, 3, 45, 0)


def test_a_model_of_another_profile_is_refused_in_one_line(tmp_path, spinnaker2_board, capsys):
    model = write_network(loihi2_network(), tmp_path / "l2.h5")
    code, stdout, err = _main(
        ["verify", str(model), "--against", "spinnaker2", "--steps", "5", "--json"], capsys
    )
    assert code == 1 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "spinnaker2" in lines[0]


@pytest.mark.parametrize(
    "extra",
    [[], ["MODEL", "--random-networks", "2"], ["--random-networks", "0"]],
    ids=["neither", "both", "zero-networks"],
)
def test_exactly_one_of_model_and_random_networks(extra, spinnaker2_model, capsys):
    argv = ["verify", *[str(spinnaker2_model) if a == "MODEL" else a for a in extra]]
    code, stdout, err = _main(argv, capsys)
    assert code == 1 and stdout == ""
    assert err.strip().splitlines() == [
        "error: verify: give either a MODEL file or --random-networks N (N >= 1)"
    ]


def test_results_without_a_model_exits_1(tmp_path, capsys):
    results = tmp_path / "results.h5"
    results.write_bytes(b"")
    code, stdout, err = _main(["verify", "--results", str(results)], capsys)
    assert code == 1 and stdout == ""
    assert err.strip().splitlines() == [
        "error: verify --results needs the hardware MODEL the board ran"
    ]


def test_an_unknown_backend_is_one_error_line(capsys):
    code, _, err = _main(["verify", "--random-networks", "1", "--against", "nope"], capsys)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("error: backend must be one of ") and "'nope'" in lines[0]
    assert "lava" in lines[0] and "spinnaker2" in lines[0]


@pytest.mark.lava
def test_random_networks_against_lava(seen_profiles, capsys):
    code, stdout, _ = _main(
        [
            "verify",
            "--random-networks",
            "3",
            "--against",
            "lava",
            "--steps",
            "12",
            "--samples",
            "1",
            "--json",
        ],
        capsys,
    )
    doc = json.loads(stdout)
    assert code == 0, doc
    assert seen_profiles == ["loihi2"] * 3
    assert (doc["against"], doc["networks"], doc["samples"], doc["steps"]) == ("lava", 3, 3, 36)
    assert doc["mismatches"] == 0 and doc["spikes_compared"] > 0


@pytest.mark.lava
def test_a_loihi2_model_file_against_lava(tmp_path, seen_profiles, capsys):
    model = write_network(loihi2_network(), tmp_path / "l2.h5")
    code, stdout, _ = _main(["verify", str(model), "--steps", "10", "--samples", "1"], capsys)
    assert code == 0, stdout
    assert seen_profiles == ["loihi2"]
    assert stdout.strip().endswith(": 0 mismatches")
