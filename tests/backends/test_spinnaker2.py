"""The SpiNNaker2 backend: deploy bundle, runner script, board-vs-emulator comparison, placement.

What is exercised against what (py-spinnaker2 is not installable here):

- Bundle data (network.json, inputs.json, model.h5) against the hardware model: weights, delays
  and float32 parameters rebuilt from the JSON connection lists and params equal the model bit for
  bit, and the spikes rebuilt from inputs.json equal the inputs.
- The runner script ``run_on_spinnaker2.py``, run as a separate process exactly as a board user
  runs it, against a recording stand-in of the ``spinnaker2`` package
  (tests/backends/fake_spinnaker2): it checks every call's argument names and values against the
  API hardware.md B.1 documents, and its ``SpiNNaker2Chip.run`` rebuilds a hardware model from the
  ``snn`` objects alone (py-spinnaker2 parameter semantics) and emulates it. So a bundle → runner →
  ``snn`` → results path that lost or changed anything would show up as mismatches; the emulator
  itself is checked against tests/reference/spinnaker2.py in tests/emulator.
- :func:`compare_results` on those results files: 0 mismatches when nothing changed, exactly one
  when the stand-in flips one spike, v differences at spiking ticks counted apart.
- :meth:`SpiNNaker2Backend.run` in-process with the stand-in on ``sys.path``, and its
  BackendUnavailableError without it.
- Placement limits (neurons per PE, synapse memory, PEs per chip).

- Every JSON file of a bundle parses with a strict parser (no NaN/Infinity tokens), ``li``
  readouts included; the finite ``li`` threshold is never reached (the emulator run with it equals
  the emulator run with +inf, on worst-case networks too).
- The stand-in rejects what py-spinnaker2 would reject as far as public sources show: unknown
  parameter names per neuron model, the other refractory spelling, non-finite values, weights
  outside [-15, 15], delays outside 0..7, unknown record names (ValueError/TypeError: the real
  package's exception types are not known).

Not exercised: a real chip or py-spinnaker2 itself (the argument names come from public copies
and users of py-spinnaker2; README "What was exercised against what").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurodeploy.backends.spinnaker2 import (
    SpiNNaker2Backend,
    export_spinnaker2,
    li_threshold,
    model_fingerprint,
)
from neurodeploy.backends.spinnaker2_placement import place
from neurodeploy.backends.spinnaker2_results import compare_results, read_results
from neurodeploy.errors import (
    BackendUnavailableError,
    ConfigError,
    ModelFileError,
    ProfileLimitError,
)
from neurodeploy.files import read_network
from neurodeploy.network import Network, Population, Projection
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.spinnaker2.emulator import run_spinnaker2
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2
from neurodeploy.targets.spinnaker2.random_networks import (
    SPINNAKER2_REGIMES,
    random_spinnaker2_network,
)
from neurodeploy.verification import random_inputs

FAKE = Path(__file__).parent / "fake_spinnaker2"
F32 = np.float32


def _network(seed: int = 7, **kwargs) -> Network:
    kwargs = {"max_size": 8, "n_layers": 3, "regime": "typical"} | kwargs
    return random_spinnaker2_network(np.random.default_rng(seed), **kwargs)


def _inputs(network: Network, seed: int = 1, n_samples: int = 3, n_steps: int = 30) -> SpikeData:
    return random_inputs(
        np.random.default_rng(seed), network, n_samples=n_samples, n_steps=n_steps, rate=0.3
    )


def _run_runner(
    bundle: Path, *args: str, env_extra: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the bundle's runner script as a board user would, with the stand-in importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(FAKE)
    env["FAKE_SPINNAKER2_LOG"] = str(bundle / "calls.jsonl")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, str(bundle / "run_on_spinnaker2.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=bundle,
        timeout=300,
    )


def _bits(x) -> np.ndarray:
    return np.asarray(x, np.float32).view(np.uint32)


# --------------------------------------------------------------------------------------------
# bundle data against the hardware model


def _rebuild(doc: dict, network: Network) -> None:
    """Assert that network.json holds exactly ``network``."""
    assert [p["name"] for p in doc["populations"]] == [p.name for p in network.populations]
    for entry, pop in zip(doc["populations"], network.populations, strict=True):
        assert entry["size"] == pop.size and entry["kind"] == pop.kind
        if pop.kind == "input":
            assert entry["neuron_model"] == "spike_list"
            continue
        p = entry["params"]
        assert entry["neuron_model"] == "lif_curr_exp"
        assert _bits(p["alpha_decay"]) == _bits(pop.decay_mem)
        assert _bits(p["exc_decay"]) == _bits(pop.decay_syn) == _bits(p["inh_decay"])
        expected_threshold = pop.threshold if pop.kind == "lif" else li_threshold(network, pop)
        assert _bits(p["threshold"]) == _bits(expected_threshold)
        bias = np.broadcast_to(np.asarray(p["i_offset"], np.float64), (pop.size,))
        np.testing.assert_array_equal(_bits(bias), _bits(pop.bias))
        assert bias.astype(np.float32).astype(np.float64).tolist() == pop.bias.tolist()
        assert (p["v_init"], p["v_reset"], p["t_refrac"]) == (0.0, 0.0, 0)
        assert p["reset"] == "reset_to_v_reset"
        assert entry["v_scale"] == pop.v_scale
    assert len(doc["projections"]) == len(network.projections)
    for entry, proj in zip(doc["projections"], network.projections, strict=True):
        assert (entry["pre"], entry["post"]) == (proj.source, proj.target)
        weights = np.zeros(proj.weights.shape, np.int64)
        delays = np.zeros(proj.weights.shape, np.int64)
        for pre, post, w, d in entry["connections"]:
            assert w != 0 and weights[post, pre] == 0
            weights[post, pre], delays[post, pre] = w, d
        np.testing.assert_array_equal(weights, proj.weights)
        np.testing.assert_array_equal(delays[weights != 0], proj.delays[proj.weights != 0])
        assert entry["n_connections"] == int((proj.weights != 0).sum())
        assert entry["weight_scale"] == proj.weight_scale


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), regime=st.sampled_from(SPINNAKER2_REGIMES))
def test_bundle_holds_exactly_the_hardware_model(tmp_path_factory, seed, regime):
    rng = np.random.default_rng(seed)
    network = random_spinnaker2_network(rng, regime=regime, max_size=10)
    inputs = random_inputs(rng, network, n_samples=2, n_steps=15)
    out = tmp_path_factory.mktemp("bundle")
    files = export_spinnaker2(network, out, inputs)
    assert sorted(f.name for f in files) == sorted(
        [
            "network.json",
            "inputs.json",
            "placement.json",
            "placement.txt",
            "run_on_spinnaker2.py",
            "README.md",
            "model.h5",
        ]
    )
    doc = json.loads((out / "network.json").read_text())
    _rebuild(doc, network)
    assert doc["model_fingerprint"] == model_fingerprint(network)
    assert doc["options"] == SPINNAKER2.resolve_options(network)
    assert model_fingerprint(read_network(out / "model.h5")) == model_fingerprint(network)
    # inputs.json holds the same spikes
    doc_in = json.loads((out / "inputs.json").read_text())
    starts = {p["name"]: p["input_channels"][0] for p in doc["populations"] if p["kind"] == "input"}
    samples = [
        (
            [t for name, params in s.items() for ticks in params.values() for t in ticks],
            [
                starts[name] + int(k)
                for name, params in s.items()
                for k, ticks in params.items()
                for _ in ticks
            ],
        )
        for s in doc_in["samples"]
    ]
    rebuilt = SpikeData.from_events(
        samples, doc_in["labels"], n_channels=doc_in["n_channels"], n_steps=doc_in["n_steps"]
    )
    for key in ("steps", "units", "offsets", "labels"):
        np.testing.assert_array_equal(getattr(rebuilt, key), getattr(inputs, key))


def test_li_threshold_is_a_proven_finite_power_of_two_and_offsets_are_lists(tmp_path):
    pops = (
        Population(name="in", size=2, kind="input"),
        Population(name="out", size=3, kind="li", decay_mem=0.5, bias=[0.25, 0.5, 0.25]),
        Population(name="same", size=2, kind="lif", decay_mem=0.5, bias=[0.75, 0.75]),
    )
    projs = (
        Projection(source="in", target="out", weights=np.array([[1, -2], [0, 3], [15, -15]])),
        Projection(
            source="in",
            target="same",
            weights=np.array([[1, 0], [0, 1]]),
            delays=np.array([[7, 0], [0, 3]]),
        ),
    )
    network = Network(dt_ms=1.0, profile="spinnaker2", populations=pops, projections=projs)
    export_spinnaker2(network, tmp_path)
    text = (tmp_path / "network.json").read_text()
    doc = json.loads(text)
    # per-neuron fan-in at most 15 each way -> k = 16, S = 2**29 = C -> |v| <= 2**54; 2**55
    assert doc["populations"][1]["params"]["threshold"] == 2.0**55
    assert "Infinity" not in text and "NaN" not in text
    assert doc["populations"][1]["params"]["i_offset"] == [0.25, 0.5, 0.25]
    assert doc["populations"][2]["params"]["i_offset"] == 0.75
    assert doc["projections"][0]["connections"] == [
        [0, 0, 1, 0],
        [0, 2, 15, 0],
        [1, 0, -2, 0],
        [1, 1, 3, 0],
        [1, 2, -15, 0],
    ]
    assert doc["projections"][1]["connections"] == [[0, 0, 1, 7], [1, 1, 1, 3]]
    assert not (tmp_path / "inputs.json").exists()
    assert "re-export with `--data`" in (tmp_path / "README.md").read_text()


def test_export_rejects_other_profiles_and_broken_limits(tmp_path, hw_network):
    with pytest.raises(ConfigError, match="runs spinnaker2 hardware models, this is a loihi2"):
        export_spinnaker2(hw_network, tmp_path)
    bad = Network(
        dt_ms=1.0,
        profile="spinnaker2",
        populations=(
            Population(name="in", size=1, kind="input"),
            Population(name="n", size=1, kind="lif"),
        ),
        projections=(Projection(source="in", target="n", weights=[[16]], delays=[[8]]),),
    )
    with pytest.raises(ProfileLimitError, match=r"weights must be in \[-15, 15\], got 16"):
        export_spinnaker2(bad, tmp_path)


# --------------------------------------------------------------------------------------------
# placement


def _fan_in_network(n_pre: int, n_post: int, pops_after: int = 0) -> Network:
    pops = [
        Population(name="in", size=n_pre, kind="input"),
        Population(name="h", size=n_post, kind="lif"),
    ]
    projs = [Projection(source="in", target="h", weights=np.ones((n_post, n_pre), np.int64))]
    for k in range(pops_after):
        pops.append(Population(name=f"p{k}", size=1, kind="lif"))
        projs.append(Projection(source="h", target=f"p{k}", weights=np.ones((1, n_post), np.int64)))
    return Network(
        dt_ms=1.0, profile="spinnaker2", populations=tuple(pops), projections=tuple(projs)
    )


def test_placement_counts_rows_and_shrinks_slices_to_fit_synapse_memory():
    network = _fan_in_network(n_pre=100, n_post=300)
    options = SPINNAKER2.resolve_options()
    placement = place(network, options)
    # 250 post neurons per PE: each of 100 rows has 12 header bytes + 250 16-bit words = 512 bytes
    n = placement.neurons_per_core["h"]
    row = 12 + 4 * ((n + 1) // 2)
    assert 100 * row <= options["synapse_memory_bytes"] < 100 * (12 + 4 * ((n + 2) // 2))
    hcores = [c for c in placement.cores if c.population == "h"]
    assert [c.n_neurons for c in hcores] == [n] * (300 // n) + ([300 % n] if 300 % n else [])
    assert (
        hcores[0].rows == 100
        and hcores[0].synapses == 100 * n
        and hcores[0].synapse_bytes == 100 * row
    )
    # without the memory limit the 250-neuron cap applies
    relaxed = place(network, {**options, "synapse_memory_bytes": 131072})
    assert relaxed.neurons_per_core == {"in": 100, "h": 250}
    assert relaxed.total_cores == 1 + 2
    assert (
        place(
            network, {**options, "max_atoms_per_core": 64, "synapse_memory_bytes": 131072}
        ).neurons_per_core["h"]
        == 64
    )


def test_placement_limits_raise():
    options = SPINNAKER2.resolve_options()
    with pytest.raises(
        ProfileLimitError,
        match=r"one neuron's synapse rows need 32000 bytes, more than synapse_memory_bytes=4096",
    ):
        place(_fan_in_network(n_pre=2000, n_post=2), {**options, "synapse_memory_bytes": 4096})
    with pytest.raises(
        ProfileLimitError,
        match=r"placement needs 5 PEs \(in 1, h 1, p0 1, p1 1, p2 1\), more than pes_per_chip=4",
    ):
        place(_fan_in_network(n_pre=2, n_post=2, pops_after=3), {**options, "pes_per_chip": 4})
    with pytest.raises(ProfileLimitError, match="more than pes_per_chip=152"):
        export_spinnaker2(_fan_in_network(n_pre=10, n_post=152 * 250), "/nonexistent/never-written")


# --------------------------------------------------------------------------------------------
# the runner script against the py-spinnaker2 stand-in, then compare_results


@pytest.fixture(scope="module")
def board_run(tmp_path_factory):
    """One bundle run by its runner script against the stand-in: (network, inputs, bundle)."""
    network = _network(seed=11, max_delay=7)
    inputs = _inputs(network, n_samples=3, n_steps=40)
    bundle = tmp_path_factory.mktemp("board")
    export_spinnaker2(network, bundle, inputs)
    done = _run_runner(bundle, "--host", "192.168.1.17", "--sys-tick", "0.005")
    assert done.returncode == 0, done.stderr
    return network, inputs, bundle


def test_runner_makes_the_documented_py_spinnaker2_calls(board_run):
    network, inputs, bundle = board_run
    calls = [json.loads(line) for line in (bundle / "calls.jsonl").read_text().splitlines()]
    runs = [c for c in calls if c["call"] == "run"]
    assert len(runs) == len(inputs)
    assert all(
        c["timesteps"] == 40 and c["sys_tick_in_s"] == 0.005 and c["eth_ip"] == "192.168.1.17"
        for c in runs
    )
    assert sum(c["call"] == "SpiNNaker2Chip" for c in calls) == len(
        inputs
    )  # one chip object per run
    pops = [c for c in calls if c["call"] == "Population"]
    assert [c["name"] for c in pops[: len(network.populations)]] == [
        p.name for p in network.populations
    ]
    lif = [c for c in pops if c["neuron_model"] == "lif_curr_exp"]
    assert all(c["record"] == ["spikes", "v"] for c in lif)
    sent = [c["n_input_spikes"] for c in pops if c["neuron_model"] == "spike_list"]
    assert sent == [int(inputs.offsets[b + 1] - inputs.offsets[b]) for b in range(len(inputs))]
    atoms = [c for c in calls if c["call"] == "set_max_atoms_per_core"]
    assert {c["name"]: c["n"] for c in atoms} == {p.name: p.size for p in network.populations}
    projs = [c for c in calls if c["call"] == "Projection"]
    assert [c["n"] for c in projs[: len(network.projections)]] == [
        int((p.weights != 0).sum()) for p in network.projections
    ]


def test_board_results_match_the_emulator(board_run):
    network, inputs, bundle = board_run
    report = compare_results(network, bundle / "results.h5", inputs)
    assert report.ok, report.summary()
    assert (report.samples, report.n_steps, report.complete) == (3, 40, True)
    assert report.spike_mismatches == report.v_mismatches == report.v_mismatches_at_spikes == 0
    assert report.spikes_board == report.spikes_emulator > 20
    assert report.v_compared > 0
    results = read_results(bundle / "results.h5")
    assert results.attrs["host"] == "192.168.1.17" and results.attrs["sys_tick_in_s"] == 0.005
    expected = run_spinnaker2(network, inputs)
    for name, rec in expected.items():
        np.testing.assert_array_equal(results.recording[name].spikes, rec.spikes)
        np.testing.assert_array_equal(_bits(results.recording[name].v), _bits(rec.v))
    assert json.loads(json.dumps(report.to_json()))["ok"] is True


def test_compare_counts_v_at_spiking_ticks_apart(board_run, tmp_path):
    network, _, bundle = board_run
    results = tmp_path / "results.h5"
    shutil.copyfile(bundle / "results.h5", results)
    with h5py.File(results, "r+") as f:
        name = next(n for n in f["populations"] if f["populations"][n]["spikes"][...].any())
        spikes = f["populations"][name]["spikes"][...]
        v = f["populations"][name]["v"]
        s, t, i = np.argwhere(spikes)[0]
        v[s, t, i] = np.nextafter(v[s, t, i], F32(1))
    report = compare_results(network, results)
    assert report.ok and report.v_mismatches_at_spikes == 1 and report.v_mismatches == 0
    with h5py.File(results, "r+") as f:
        s, t, i = np.argwhere(spikes == 0)[0]
        f["populations"][name]["v"][s, t, i] = np.nextafter(
            f["populations"][name]["v"][s, t, i], F32(1)
        )
    report = compare_results(network, results)
    assert not report.ok and report.v_mismatches == 1
    m = report.first_v_mismatch
    assert (m.population, m.sample, m.step, m.neuron) == (name, s, t, i)
    assert "Deadline missed" in report.summary()


def test_compare_reports_a_flipped_spike(tmp_path):
    network = _network(seed=11, max_delay=7)
    inputs = _inputs(network, n_samples=2, n_steps=40)
    export_spinnaker2(network, tmp_path, inputs)
    done = _run_runner(tmp_path, "--host", "10.0.0.2", env_extra={"FAKE_SPINNAKER2_CORRUPT": "1"})
    assert done.returncode == 0, done.stderr
    report = compare_results(network, tmp_path / "results.h5")
    assert not report.ok
    assert report.spike_mismatches == 1
    m = report.first_spike_mismatch
    first = next(p.name for p in network.populations if p.kind != "input")
    assert (m.population, m.variable, m.sample, m.step, m.neuron) == (first, "spikes", 0, 39, 0)
    assert report.to_json()["first_spike_mismatch"]["text"] == str(m)


def test_runner_subset_of_samples_and_spikes_only(board_run, tmp_path):
    network, inputs, bundle = board_run
    results = tmp_path / "part.h5"
    done = _run_runner(
        bundle, "--host", "10.0.0.3", "--samples", "1:3", "--no-voltages", "--results", str(results)
    )
    assert done.returncode == 0, done.stderr
    board = read_results(results)
    assert board.sample_index.tolist() == [1, 2]
    assert all(rec.v is None for rec in board.recording.values())
    report = compare_results(network, results, inputs)
    assert report.ok and report.samples == 2 and not report.v_recorded
    assert "spikes only" in report.summary()
    # a second run refuses to overwrite
    again = _run_runner(bundle, "--host", "10.0.0.3", "--results", str(results))
    assert again.returncode == 1 and "exists; pass --overwrite" in again.stderr


def test_compare_rejects_other_models_and_other_inputs(board_run):
    network, inputs, bundle = board_run
    other = _network(seed=12)
    with pytest.raises(ModelFileError, match="produced from a different model"):
        compare_results(other, bundle / "results.h5")
    shifted = SpikeData(
        steps=np.minimum(inputs.steps + 1, inputs.n_steps - 1),
        units=inputs.units,
        offsets=inputs.offsets,
        labels=inputs.labels,
        n_channels=inputs.n_channels,
        n_steps=inputs.n_steps,
    )
    with pytest.raises(ConfigError, match="differ from the input spikes the board ran"):
        compare_results(network, bundle / "results.h5", shifted)
    with pytest.raises(ModelFileError, match="not a SpiNNaker2 results file"):
        compare_results(network, bundle / "model.h5")


def test_runner_without_py_spinnaker2_says_what_to_install(tmp_path):
    network = _network()
    export_spinnaker2(network, tmp_path, _inputs(network, n_samples=1))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    help_run = subprocess.run(
        [sys.executable, str(tmp_path / "run_on_spinnaker2.py"), "--help"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert help_run.returncode == 0 and "--sys-tick" in help_run.stdout
    run = subprocess.run(
        [sys.executable, str(tmp_path / "run_on_spinnaker2.py"), "--host", "1.2.3.4"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 1
    assert "pip install git+https://gitlab.com/spinnaker2/py-spinnaker2.git" in run.stderr


# --------------------------------------------------------------------------------------------
# the backend object


def test_backend_run_in_process_equals_the_emulator(fake_spinnaker2):
    network = _network(seed=5, regime="stress")
    inputs = _inputs(network, n_samples=2)
    backend = SpiNNaker2Backend(host="192.168.0.9")
    assert backend.is_available()
    rec = backend.run(network, inputs)
    expected = run_spinnaker2(network, inputs)
    assert set(rec) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(rec[name].spikes, expected[name].spikes)
        np.testing.assert_array_equal(_bits(rec[name].v), _bits(expected[name].v))
    spikes_only = backend.run(network, inputs, record_v=False)
    assert all(r.v is None for r in spikes_only.values())


def test_backend_needs_a_host(fake_spinnaker2, monkeypatch):
    monkeypatch.delenv("NEURODEPLOY_SPINNAKER2_HOST", raising=False)
    network = _network()
    with pytest.raises(ConfigError, match="pass --host IP"):
        SpiNNaker2Backend().run(network, _inputs(network, n_samples=1))


def test_backend_without_py_spinnaker2_raises_with_install_hint():
    backend = SpiNNaker2Backend(host="1.2.3.4")
    assert not backend.is_available()
    network = _network()
    with pytest.raises(BackendUnavailableError) as err:
        backend.run(network, _inputs(network, n_samples=1))
    message = str(err.value)
    assert "\n" not in message
    assert "pip install git+https://gitlab.com/spinnaker2/py-spinnaker2.git" in message
    assert "neurodeploy export MODEL.h5 --backend spinnaker2" in message
    assert isinstance(err.value, ImportError)


# --------------------------------------------------------------------------------------------
# strict JSON, the li threshold, and what the stand-in rejects


def _strict_json(text: str):
    def reject(token: str):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=reject)


def _with_li_readout(seed: int) -> Network:
    """A random network whose last population is an ``li`` readout (the usual classifier)."""
    for k in range(100):
        network = random_spinnaker2_network(np.random.default_rng(seed + 1000 * k), max_size=10)
        if any(p.kind == "li" for p in network.populations):
            return network
    raise AssertionError("random_spinnaker2_network made no li population")


@pytest.mark.parametrize("seed", range(6))
def test_every_bundle_json_file_is_strict_json(tmp_path, seed):
    network = _with_li_readout(seed)
    inputs = _inputs(network, seed=seed, n_samples=2, n_steps=12)
    export_spinnaker2(network, tmp_path, inputs)
    files = sorted(tmp_path.glob("*.json"))
    assert {f.name for f in files} == {"network.json", "inputs.json", "placement.json"}
    for f in files:
        _strict_json(f.read_text())
    doc = _strict_json((tmp_path / "network.json").read_text())
    li = [e for e in doc["populations"] if e["kind"] == "li"]
    assert li and all(np.isfinite(e["params"]["threshold"]) for e in li)
    with pytest.raises(ValueError, match="Infinity"):
        _strict_json('{"threshold": Infinity}')


def test_runner_rejects_non_strict_json(tmp_path):
    network = _network()
    export_spinnaker2(network, tmp_path, _inputs(network, n_samples=1))
    text = (tmp_path / "placement.json").read_text()
    (tmp_path / "placement.json").write_text(text.replace("{", '{"x": NaN, ', 1))
    done = _run_runner(tmp_path, "--host", "1.2.3.4")
    assert done.returncode == 1 and "not strict JSON" in done.stderr and "NaN" in done.stderr


def test_writing_nan_fails_loudly(tmp_path):
    from neurodeploy.backends.spinnaker2 import _write_json

    with pytest.raises(ValueError, match="not JSON compliant"):
        _write_json(tmp_path / "x.json", {"v": float("nan")})


def test_comparison_report_with_nan_board_v_is_strict_json(board_run, tmp_path):
    network, _, bundle = board_run
    results = tmp_path / "results.h5"
    shutil.copyfile(bundle / "results.h5", results)
    with h5py.File(results, "r+") as f:
        name = next(iter(f["populations"]))
        spikes = f["populations"][name]["spikes"][...]
        s, t, i = np.argwhere(spikes == 0)[0]
        f["populations"][name]["v"][s, t, i] = np.nan  # the chip returned no value there
    report = compare_results(network, results)
    assert not report.ok and report.v_mismatches == 1
    doc = _strict_json(json.dumps(report.to_json(), allow_nan=False))
    assert doc["first_v_mismatch"]["actual"] == "nan"


def _emulate_with_exported_thresholds(
    network: Network, inputs: SpikeData, monkeypatch, options: dict
):
    """The emulator run with each li population's exported threshold instead of +inf."""
    import neurodeploy.targets.spinnaker2.emulator as emulator

    original = emulator._pack
    offsets, start = {}, 0
    for pop in network.populations:
        if pop.kind != "input":
            offsets[pop.name] = start
            start += pop.size

    def pack(net, data):
        packed = original(net, data)
        params = packed[2]
        for pop in net.populations:
            if pop.kind == "li":
                sl = slice(offsets[pop.name], offsets[pop.name] + pop.size)
                assert np.isinf(params[sl, 3]).all()
                params[sl, 3] = np.float32(li_threshold(net, pop))
        return packed

    monkeypatch.setattr(emulator, "_pack", pack)
    try:
        return run_spinnaker2(network, inputs, options=options)
    finally:
        monkeypatch.setattr(emulator, "_pack", original)


def _worst_case_li(bias: float = 3.0e4) -> Network:
    """No leak, no current decay, every weight at +15, a large constant i_offset: v grows fastest."""
    return Network(
        dt_ms=1.0,
        profile="spinnaker2",
        populations=(
            Population(name="in", size=4, kind="input"),
            Population(name="out", size=2, kind="li", decay_mem=1.0, decay_syn=1.0, bias=[bias, 0]),
        ),
        projections=(
            Projection(
                source="in",
                target="out",
                weights=np.full((2, 4), 15),
                delays=np.array([[0, 1, 2, 3], [4, 5, 6, 7]]),
            ),
        ),
    )


@pytest.mark.parametrize("options", [{}, {"threshold_op": ">=", "fma": True}])
def test_li_threshold_is_never_reached(monkeypatch, options):
    """Emulating the exported finite threshold gives the same bits as +inf: random li readouts
    and a worst-case population driven for 3000 ticks (v far past 2**24, where float32 stalls)."""
    worst = _worst_case_li()
    n_steps = 3000
    every_tick = SpikeData.from_events(
        [(np.repeat(np.arange(n_steps), 4), np.tile(np.arange(4), n_steps))],
        [0],
        n_channels=4,
        n_steps=n_steps,
    )
    cases = [(_with_li_readout(s), None) for s in range(4)] + [(worst, every_tick)]
    for network, inputs in cases:
        inputs = inputs or _inputs(network, n_samples=2, n_steps=60)
        plain = run_spinnaker2(network, inputs, options=options)
        exported = _emulate_with_exported_thresholds(network, inputs, monkeypatch, options)
        for name in plain:
            np.testing.assert_array_equal(plain[name].spikes, exported[name].spikes)
            np.testing.assert_array_equal(_bits(plain[name].v), _bits(exported[name].v))
    v = run_spinnaker2(worst, every_tick)["out"].v
    bound = li_threshold(worst, worst.population("out")) / 2
    assert np.abs(v).max() > 2.0**24 and np.abs(v).max() <= bound


def test_li_without_a_safe_finite_threshold_is_refused(tmp_path):
    with pytest.raises(ProfileLimitError, match="populations/out: no finite float32 threshold"):
        export_spinnaker2(_worst_case_li(bias=float(np.float32(1e36))), tmp_path)


def test_li_threshold_counts_repeated_input_spikes():
    network = _worst_case_li(bias=0.0)
    pop = network.population("out")
    # fan-in 60 -> k = 64 = 2**6; twice per tick -> k = 128
    assert li_threshold(network, pop) == 2.0 ** (6 + 25 + 25 + 1)
    assert li_threshold(network, pop, input_multiplicity=2) == 2.0 ** (7 + 25 + 25 + 1)


def _stand_in(fake_spinnaker2):
    from spinnaker2 import snn

    good = {
        "threshold": 1.0,
        "alpha_decay": 0.5,
        "i_offset": 0.0,
        "v_init": 0.0,
        "v_reset": 0.0,
        "reset": "reset_to_v_reset",
        "exc_decay": 0.5,
        "inh_decay": 0.5,
        "t_refrac": 0,
    }
    pre = snn.Population(size=2, neuron_model="spike_list", params={0: [1]}, name="in")
    post = snn.Population(size=2, neuron_model="lif_curr_exp", params=dict(good), name="out")
    return snn, good, pre, post


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"tau_m": 10.0}, ValueError, r"unknown lif_curr_exp params \['tau_m'\]"),
        ({"t_refract": 0}, ValueError, r"unknown lif_curr_exp params \['t_refract'\]"),
        ({"threshold": float("inf")}, ValueError, "threshold must be finite"),
        ({"i_offset": [0.0, float("nan")]}, ValueError, "i_offset must be finite"),
        ({"i_offset": [0.0]}, ValueError, "per-neuron list of length 1 for size 2"),
        ({"alpha_decay": "0.5"}, TypeError, "alpha_decay must be a number"),
        ({"reset": "reset_to_zero"}, ValueError, "reset must be one of"),
    ],
)
def test_stand_in_rejects_bad_neuron_params(fake_spinnaker2, change, error, match):
    snn, good, _, _ = _stand_in(fake_spinnaker2)
    with pytest.raises(error, match=match):
        snn.Population(size=2, neuron_model="lif_curr_exp", params={**good, **change})


def test_stand_in_rejects_models_records_weights_and_delays(fake_spinnaker2, monkeypatch):
    snn, good, pre, post = _stand_in(fake_spinnaker2)
    with pytest.raises(ValueError, match=r"unknown lif params \['exc_decay', 'inh_decay'"):
        snn.Population(size=2, neuron_model="lif", params=good)
    with pytest.raises(ValueError, match="fake supports spike_list, lif and lif_curr_exp"):
        snn.Population(size=2, neuron_model="izhikevich", params={})
    with pytest.raises(ValueError, match="record must be a subset"):
        snn.Population(size=2, neuron_model="lif_curr_exp", params=good, record=["voltage"])
    for row, match in (
        ([0, 0, 16, 0], r"weight 16 not in \[-15, 15\]"),
        ([0, 0, -16, 0], r"weight -16 not in \[-15, 15\]"),
        ([0, 0, 1, 8], r"delay 8 not in 0..7"),
        ([0, 0, 1, -1], r"delay -1 not in 0..7"),
        ([0, 0, 1.5, 0], "ints"),
        ([0, 2, 1, 0], "out of range"),
    ):
        with pytest.raises(ValueError, match=match):
            snn.Projection(pre=pre, post=post, connections=[row])
    snn.Projection(pre=pre, post=post, connections=[[0, 0, 15, 7], [1, 1, -15, 0]])
    # the other refractory spelling when the stand-in is told that one is py-spinnaker2's
    monkeypatch.setenv("FAKE_SPINNAKER2_REFRAC_KEY", "t_refract")
    with pytest.raises(ValueError, match=r"unknown lif_curr_exp params \['t_refrac'\]"):
        snn.Population(size=2, neuron_model="lif_curr_exp", params=good)
