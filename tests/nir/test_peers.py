"""Models exported by snnTorch 1.0.0, Norse 1.1.0 and Sinabs 3.1.3 with their own NIR exporters
(tests/nir_fixtures, made by make_fixtures.py) import and run as the library ran them.

The library's step ``t`` is neurodeploy's step ``t + shift`` (the fixture's ``shift__<node>``: one
step of canonical latency per layer where the library has none). Where the semantics coincide the
runs are compared exactly; where they do not (snnTorch's late reset, Affine biases that the
canonical model applies from step 0), the difference is bounded here and documented in
docs/nir.md. A small reference of the canonical step with snnTorch's late reset shows that the
reset is the only difference.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from neurodeploy.backends.nir_import import NirSemanticsWarning, import_nir
from neurodeploy.emulator.canonical import simulate
from neurodeploy.network import Network
from neurodeploy.spikes import SpikeData

FIXTURES = Path(__file__).resolve().parents[1] / "nir_fixtures"
PAD = 3  # steps appended to the inputs so the deepest layer's shifted record is complete


# Files with no time constant to recognise a convention by: NIR's reading at this dt (ms).
DT_MS = {"sinabs_iaf": 1.0}


def _load(name: str) -> tuple[Network, dict[str, np.ndarray], str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = import_nir(FIXTURES / f"{name}.nir", dt_ms=DT_MS.get(name))
    notes = " ".join(str(w.message) for w in caught if w.category is NirSemanticsWarning)
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as f:
        rec = {k: f[k] for k in f.files}
    return result.network, rec, notes


def _padded(rec: dict[str, np.ndarray]) -> SpikeData:
    x = rec["inputs"]
    pad = np.zeros((x.shape[0], PAD, x.shape[2]), np.uint8)
    return SpikeData.from_dense(np.concatenate([x, pad], axis=1))


def _aligned(net: Network, run: dict, rec: dict[str, np.ndarray]):
    """(population, library spikes, our spikes, library v, our v) per recorded layer."""
    n_steps = rec["inputs"].shape[1]
    names = net.metadata["nir"]["node_names"]
    for pop, node in names.items():
        if f"spikes__{node}" not in rec:
            continue
        k = int(rec[f"shift__{node}"])
        ours = run[pop]
        yield (
            pop,
            rec[f"spikes__{node}"],
            ours.spikes[:, k : k + n_steps],
            rec[f"v__{node}"],
            ours.v[:, k : k + n_steps],
        )


def _late_reset_reference(net: Network, inputs: SpikeData) -> dict[str, tuple[np.ndarray, ...]]:
    """The canonical step (no delays) with snnTorch's Synaptic/RLeaky reset in populations with a
    synaptic current or a recurrent projection: v keeps its value in the step it spikes and is 0 in
    the next step, whatever that step's input (Leaky populations: the canonical reset). Returns
    spikes and v per population, (samples, steps, size)."""
    x = inputs.to_dense().astype(np.float64) if hasattr(inputs, "to_dense") else None
    assert x is not None
    n_b, n_t, _ = x.shape
    pops = [p for p in net.populations if p.kind != "input"]
    offsets, start = {}, 0
    for p in net.inputs:
        offsets[p.name] = (start, start + p.size)
        start += p.size
    s = {p.name: np.zeros((n_b, n_t, p.size)) for p in pops}
    v_rec = {p.name: np.zeros((n_b, n_t, p.size)) for p in pops}
    i_state = {p.name: np.zeros((n_b, p.size)) for p in pops}
    v_state = {p.name: np.zeros((n_b, p.size)) for p in pops}
    pending = {p.name: np.zeros((n_b, p.size), bool) for p in pops}
    late = {p.name for p in pops if p.decay_syn != 0} | {
        q.target for q in net.projections if q.is_recurrent
    }
    for t in range(n_t):
        for p in pops:
            drive = np.zeros((n_b, p.size))
            if t > 0:
                for proj in net.incoming(p.name):
                    assert not np.any(proj.delays)
                    if proj.source in offsets:
                        a, b = offsets[proj.source]
                        pre = x[:, t - 1, a:b]
                    else:
                        pre = s[proj.source][:, t - 1]
                    drive += pre @ proj.weights.T
            i_state[p.name] = p.decay_syn * i_state[p.name] + drive
            v = p.decay_mem * v_state[p.name] + i_state[p.name] + p.bias
            v = np.where(pending[p.name], 0.0, v)
            fired = (v > p.threshold) if p.kind == "lif" else np.zeros_like(v, bool)
            s[p.name][:, t] = fired
            v_rec[p.name][:, t] = v
            v_state[p.name] = v if p.name in late else np.where(fired, 0.0, v)
            v_rec[p.name][:, t] = v_state[p.name] if p.name not in late else v
            pending[p.name] = fired & (p.name in late)
    return {n: (s[n], v_rec[n]) for n in s}


# (fixture, min spike agreement per layer, exact spikes?, max |v| difference off spike steps)
CASES = {
    "norse_lif": (1.0, True, 1e-9),
    "norse_iaf": (1.0, True, 1e-9),
    "sinabs_iaf": (1.0, True, 1e-5),
    "norse_box": (1.0, True, 0.02),
    "snntorch_leaky": (1.0, True, None),
    "snntorch_leaky_affine": (0.995, False, None),
    "snntorch_synaptic": (0.80, False, None),
    "snntorch_rleaky": (0.77, False, None),
    "snntorch_rsynaptic": (0.76, False, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_peer_fixture_runs_as_the_library_ran_it(name):
    min_agree, exact, v_tol = CASES[name]
    net, rec, notes = _load(name)
    library = str(rec["library"])
    if name in DT_MS:  # nothing to detect: NIR's own reading
        assert net.metadata["nir"]["convention"] == "nir" and not notes
    else:
        assert net.metadata["nir"]["convention"] == library  # detected, and said so
        assert {"snntorch": "snnTorch", "norse": "Norse"}[library] in notes
    run = simulate(net, _padded(rec))
    for pop, lib_s, our_s, lib_v, our_v in _aligned(net, run, rec):
        agree = float((lib_s == our_s).mean())
        assert agree >= min_agree, (pop, agree)
        if exact:
            np.testing.assert_array_equal(our_s, lib_s, err_msg=pop)
        if v_tol is not None:
            np.testing.assert_allclose(our_v, lib_v, rtol=0, atol=v_tol, err_msg=pop)


def test_snntorch_leaky_differs_only_in_the_v_it_records_at_a_spike():
    """Leaky's "zero" reset zeroes v before the next update: the same dynamics as the canonical
    step, but the v it records in the spiking step is the value before the reset."""
    net, rec, notes = _load("snntorch_leaky")
    assert "record v before" in notes
    run = simulate(net, _padded(rec))
    for pop, lib_s, our_s, lib_v, our_v in _aligned(net, run, rec):
        np.testing.assert_array_equal(our_s, lib_s, err_msg=pop)
        quiet = lib_s == 0
        np.testing.assert_allclose(our_v[quiet], lib_v[quiet], rtol=0, atol=1e-5, err_msg=pop)
        assert np.all(our_v[~quiet] == 0) and np.all(lib_v[~quiet] > 1.0)


@pytest.mark.parametrize("name", ["snntorch_synaptic", "snntorch_rleaky", "snntorch_rsynaptic"])
def test_snntorch_synaptic_and_rleaky_differ_only_by_their_late_reset(name):
    """With snnTorch's late reset emulated (v = 0 in the step after a spike, whatever the input),
    the imported model reproduces snnTorch's float32 run: spikes identical, v to 1e-4 (off the
    spiking steps)."""
    net, rec, notes = _load(name)
    assert "reset one step late" in notes
    ref = _late_reset_reference(net, _padded(rec))
    n_steps = rec["inputs"].shape[1]
    for pop, node in net.metadata["nir"]["node_names"].items():
        if f"spikes__{node}" not in rec:
            continue
        k = int(rec[f"shift__{node}"])
        s, v = (a[:, k : k + n_steps] for a in ref[pop])
        np.testing.assert_array_equal(s, rec[f"spikes__{node}"], err_msg=pop)
        quiet = s == 0  # a Leaky population records v before its reset (test above)
        np.testing.assert_allclose(
            v[quiet], rec[f"v__{node}"][quiet], rtol=0, atol=1e-4, err_msg=pop
        )


def test_norse_cannot_export_recurrent_cells():
    text = (FIXTURES / "norse_recurrent.txt").read_text()
    assert "LIFRecurrentCell" in text and "exported (unexpected)" not in text
