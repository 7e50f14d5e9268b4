"""Read a SpiNNaker2 board results file and compare it with the bit-accurate emulator.

The results file is written by the bundle's ``run_on_spinnaker2.py`` (layout in
:mod:`neurodeploy.backends.spinnaker2_runner`). :func:`compare_results` re-runs the emulator on
exactly the input spikes stored in the file, with the options the bundle was exported with, and
compares spikes exactly and v by float32 bit pattern. v at ticks where either side spiked is
counted separately: on Loihi 2 the probed v at a spiking step is known to differ from the
bit-accurate model (hardware.md A.7), and SpiNNaker2's recording point around the reset is
UNVERIFIED, so those ticks are reported but do not fail the comparison.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from neurodeploy.backends.spinnaker2 import inputs_fingerprint, model_fingerprint
from neurodeploy.backends.spinnaker2_runner import RESULTS_FORMAT, RESULTS_VERSION
from neurodeploy.errors import ConfigError, ModelFileError
from neurodeploy.files import read_hdf5
from neurodeploy.network import Network
from neurodeploy.records import Mismatch, PopulationRecord, Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.spinnaker2.emulator import run_spinnaker2
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2

__all__ = ["BoardComparison", "BoardResults", "compare_results", "read_results"]


@dataclass(frozen=True)
class BoardResults:
    """The finished samples of a board results file.

    Parameters
    ----------
    recording : Recording
        Per non-input population: spikes uint8 and v float32 (None without voltages), each
        (samples_done, n_steps, size).
    inputs : SpikeData
        The input spikes the board was given, one sample per recorded row.
    sample_index : int64 ndarray, shape (samples_done,)
        Sample numbers in the bundle's inputs.json.
    attrs : dict
        ``model_fingerprint``, ``inputs_fingerprint``, ``options`` (dict), ``host``,
        ``sys_tick_in_s``, ``n_samples`` (planned), ``samples_done``, ``complete``,
        ``record_voltages``, ``spinnaker2_version``, ``created``.
    """

    recording: Recording
    inputs: SpikeData
    sample_index: np.ndarray
    attrs: dict[str, Any]


def read_results(path: str | os.PathLike[str]) -> BoardResults:
    """Read the finished samples of a results file.

    Raises
    ------
    ModelFileError
        Missing or non-HDF5 file, unknown format or version, missing or malformed field; each
        line starts with the file name.
    """
    return read_hdf5(path, _read, what="results file")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _read(f: h5py.File) -> BoardResults:
    fmt = _text(f.attrs.get("format", ""))
    if fmt != RESULTS_FORMAT:
        raise ModelFileError(
            f"format must be {RESULTS_FORMAT!r}, got {fmt!r} (not a SpiNNaker2 results file)"
        )
    version = int(f.attrs.get("format_version", -1))
    if version != RESULTS_VERSION:
        raise ModelFileError(
            f"format_version {version} is not supported; this neurodeploy reads {RESULTS_VERSION}"
        )
    done = int(f.attrs["samples_done"])
    attrs = {
        "model_fingerprint": _text(f.attrs["model_fingerprint"]),
        "inputs_fingerprint": _text(f.attrs["inputs_fingerprint"]),
        "options": json.loads(_text(f.attrs["options"])),
        "host": _text(f.attrs.get("host", "")),
        "sys_tick_in_s": float(f.attrs.get("sys_tick_in_s", float("nan"))),
        "n_samples": int(f.attrs["n_samples"]),
        "samples_done": done,
        "complete": bool(f.attrs["complete"]),
        "record_voltages": bool(f.attrs["record_voltages"]),
        "spinnaker2_version": _text(f.attrs.get("spinnaker2_version", "unknown")),
        "created": _text(f.attrs.get("created", "")),
    }
    g = f["inputs"]
    offsets = g["offsets"][: done + 1]
    end = int(offsets[-1])
    inputs = SpikeData(
        steps=g["steps"][:end],
        units=g["units"][:end],
        offsets=offsets,
        labels=g["labels"][:done],
        n_channels=int(g.attrs["n_channels"]),
        n_steps=int(g.attrs["n_steps"]),
    ).validate("inputs")
    recording = {}
    for name, pg in f["populations"].items():
        spikes = pg["spikes"][:done]
        v = pg["v"][:done] if "v" in pg else None
        if v is not None and v.dtype != np.float32:
            raise ModelFileError(f"populations/{name}/v must be float32, got {v.dtype}")
        recording[name] = PopulationRecord(spikes=spikes.astype(np.uint8), v=v)
    return BoardResults(
        recording=recording, inputs=inputs, sample_index=f["sample_index"][:done], attrs=attrs
    )


@dataclass
class BoardComparison:
    """Board recording versus emulator, counted per population.

    ``ok`` holds when at least one sample was compared, every spike agrees and v agrees (float32
    bit pattern) at every tick where neither side spiked. v at spiking ticks is counted in
    ``v_mismatches_at_spikes`` only.
    """

    results: str
    samples: int = 0
    samples_planned: int = 0
    complete: bool = False
    n_steps: int = 0
    v_recorded: bool = False
    spikes_board: int = 0
    spikes_emulator: int = 0
    spike_mismatches: int = 0
    v_compared: int = 0
    v_mismatches: int = 0
    v_mismatches_at_spikes: int = 0
    first_spike_mismatch: Mismatch | None = None
    first_v_mismatch: Mismatch | None = None
    populations: dict[str, dict[str, int]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.samples > 0 and self.spike_mismatches == 0 and self.v_mismatches == 0

    def to_json(self) -> dict[str, Any]:
        def mismatch(m: Mismatch | None) -> dict[str, Any] | None:
            if m is None:
                return None
            fields = {key: _json_value(value) for key, value in m.__dict__.items()}
            return {**fields, "text": str(m)}

        return {
            "results": self.results,
            "ok": self.ok,
            "samples": self.samples,
            "samples_planned": self.samples_planned,
            "complete": self.complete,
            "n_steps": self.n_steps,
            "v_recorded": self.v_recorded,
            "spikes_board": self.spikes_board,
            "spikes_emulator": self.spikes_emulator,
            "spike_mismatches": self.spike_mismatches,
            "v_compared": self.v_compared,
            "v_mismatches": self.v_mismatches,
            "v_mismatches_at_spikes": self.v_mismatches_at_spikes,
            "first_spike_mismatch": mismatch(self.first_spike_mismatch),
            "first_v_mismatch": mismatch(self.first_v_mismatch),
            "populations": self.populations,
            "options": self.options,
        }

    def summary(self) -> str:
        """A few human-readable lines."""
        partial = (
            "" if self.complete else f" (run incomplete: {self.samples} of {self.samples_planned})"
        )
        lines = [
            f"{self.samples} samples x {self.n_steps} ticks compared{partial}: "
            f"{self.spikes_board} board spikes, {self.spikes_emulator} emulator spikes, "
            f"{self.spike_mismatches} spike mismatches",
        ]
        if self.v_recorded:
            lines.append(
                f"v (float32 bits) at {self.v_compared} non-spiking neuron-ticks: {self.v_mismatches} "
                f"mismatches; at spiking ticks: {self.v_mismatches_at_spikes} (reported, not failed)"
            )
        else:
            lines.append("v was not recorded (--no-voltages): spikes only")
        for label, m in (("spike", self.first_spike_mismatch), ("v", self.first_v_mismatch)):
            if m is not None:
                lines.append(f"first {label} mismatch: {m}")
        if not self.ok and self.samples:
            lines.append(
                "hint: if the board log shows 'Deadline missed', re-run with a larger --sys-tick; "
                "otherwise compare with other profile options (update_order, threshold_op, "
                "i_offset, current_sum, fma)"
            )
        return "\n".join(lines)


def _json_value(value: Any) -> Any:
    """``value``, or its repr as a string where it is a NaN or infinite float (a board trace
    without a value is NaN), so the report is strict JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    return value


def _first(
    diff: np.ndarray, name: str, var: str, expected: np.ndarray, actual: np.ndarray
) -> tuple:
    s, t, i = (int(x) for x in np.argwhere(diff)[0])
    m = Mismatch(name, var, s, t, i, expected[s, t, i].item(), actual[s, t, i].item())
    return (s, t), m


def compare_results(
    network: Network,
    results_path: str | os.PathLike[str],
    inputs: SpikeData | None = None,
    *,
    options: Mapping[str, Any] | None = None,
) -> BoardComparison:
    """Compare a board results file with the emulator.

    Parameters
    ----------
    network : Network
        The hardware model the bundle was exported from (checked by fingerprint).
    results_path : path
        Results file of ``run_on_spinnaker2.py``.
    inputs : SpikeData, optional
        The samples given to export; checked against the spikes stored in the results file
        (which are used either way).
    options : mapping, optional
        Profile options to emulate with, over those the bundle was exported with: try other
        answers to the UNVERIFIED questions (e.g. ``{"threshold_op": ">="}``).

    Returns
    -------
    BoardComparison

    Raises
    ------
    ModelFileError
        Unreadable results file, or results produced from a different model.
    ConfigError
        ``inputs`` differ from what the board ran, or a bad option.
    """
    board = read_results(results_path)
    path = str(results_path)
    if board.attrs["model_fingerprint"] != model_fingerprint(network):
        raise ModelFileError(
            f"{path}: produced from a different model (fingerprint "
            f"{board.attrs['model_fingerprint'][:12]}…, this model {model_fingerprint(network)[:12]}…)"
        )
    if inputs is not None:
        same_file = inputs_fingerprint(inputs) == board.attrs["inputs_fingerprint"]
        if not same_file:
            index = board.sample_index
            if len(index) and int(index.max()) >= len(inputs):
                raise ConfigError(
                    f"{path}: the board ran sample {int(index.max())}, the inputs have {len(inputs)}"
                )
            if inputs_fingerprint(inputs.subset(index)) != inputs_fingerprint(board.inputs):
                raise ConfigError(
                    f"{path}: the given inputs differ from the input spikes the board ran"
                )
    emulation_options = {**board.attrs["options"], **dict(options or {})}
    report = BoardComparison(
        results=path,
        samples=len(board.inputs),
        samples_planned=board.attrs["n_samples"],
        complete=board.attrs["complete"],
        n_steps=board.inputs.n_steps,
        v_recorded=board.attrs["record_voltages"],
    )
    if len(board.inputs) == 0:
        return report
    expected = run_spinnaker2(
        network, board.inputs, record_v=report.v_recorded, options=emulation_options
    )
    report.options = SPINNAKER2.resolve_options(network, emulation_options)
    first_spike: tuple | None = None
    first_v: tuple | None = None
    for name, exp in expected.items():
        act = board.recording.get(name)
        if act is None:
            raise ModelFileError(f"{path}: populations/{name} is missing")
        if act.spikes.shape != exp.spikes.shape:
            raise ModelFileError(
                f"{path}: populations/{name}/spikes has shape {act.spikes.shape}, expected {exp.spikes.shape}"
            )
        spike_diff = act.spikes != exp.spikes
        counts = {
            "spikes_board": int(act.spikes.sum()),
            "spikes_emulator": int(exp.spikes.sum()),
            "spike_mismatches": int(spike_diff.sum()),
            "v_mismatches": 0,
            "v_mismatches_at_spikes": 0,
        }
        if spike_diff.any():
            key, m = _first(spike_diff, name, "spikes", exp.spikes, act.spikes)
            if first_spike is None or key < first_spike[0]:
                first_spike = (key, m)
        if report.v_recorded and act.v is not None and exp.v is not None:
            spiking = (act.spikes != 0) | (exp.spikes != 0)
            v_diff = act.v.view(np.uint32) != exp.v.view(np.uint32)
            counts["v_mismatches"] = int((v_diff & ~spiking).sum())
            counts["v_mismatches_at_spikes"] = int((v_diff & spiking).sum())
            report.v_compared += int((~spiking).sum())
            if counts["v_mismatches"]:
                key, m = _first(v_diff & ~spiking, name, "v", exp.v, act.v)
                if first_v is None or key < first_v[0]:
                    first_v = (key, m)
        report.populations[name] = counts
        report.spikes_board += counts["spikes_board"]
        report.spikes_emulator += counts["spikes_emulator"]
        report.spike_mismatches += counts["spike_mismatches"]
        report.v_mismatches += counts["v_mismatches"]
        report.v_mismatches_at_spikes += counts["v_mismatches_at_spikes"]
    report.first_spike_mismatch = first_spike[1] if first_spike else None
    report.first_v_mismatch = first_v[1] if first_v else None
    return report
