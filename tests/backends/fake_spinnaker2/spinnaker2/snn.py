"""Fake ``spinnaker2.snn``: Population, Projection, Network with py-spinnaker2's signatures."""

from __future__ import annotations

import json
import os

CALLS: list[dict] = []

LIF_CURR_EXP_PARAMS = {
    "threshold",
    "alpha_decay",
    "i_offset",
    "v_init",
    "v_reset",
    "reset",
    "exc_decay",
    "inh_decay",
    "t_refrac",
    "t_refract",
}
RECORDABLES = {"spikes", "v", "v_last", "time_done"}


def log(call: str, **info) -> None:
    entry = {"call": call, **info}
    CALLS.append(entry)
    path = os.environ.get("FAKE_SPINNAKER2_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class Population:
    def __init__(self, size, neuron_model, params, name=None, record=None):
        if not _is_int(size) or size < 1:
            raise ValueError(f"size must be a positive int, got {size!r}")
        if neuron_model not in ("spike_list", "lif_curr_exp"):
            raise ValueError(f"fake supports spike_list and lif_curr_exp, got {neuron_model!r}")
        record = list(record or [])
        if not set(record) <= RECORDABLES:
            raise ValueError(f"record must be a subset of {RECORDABLES}, got {record}")
        if neuron_model == "spike_list":
            for idx, ticks in params.items():
                if not _is_int(idx) or not 0 <= idx < size:
                    raise ValueError(f"spike_list neuron index {idx!r} out of range")
                if not all(_is_int(t) and t >= 0 for t in ticks):
                    raise ValueError(f"spike_list ticks must be ints >= 0, got {ticks!r}")
        else:
            unknown = set(params) - LIF_CURR_EXP_PARAMS
            if unknown:
                raise ValueError(f"unknown lif_curr_exp params {sorted(unknown)}")
            for key, value in params.items():
                if isinstance(value, list) and len(value) != size:
                    raise ValueError(
                        f"{key}: per-neuron list of length {len(value)} for size {size}"
                    )
            if params.get("reset", "reset_by_subtraction") not in (
                "reset_by_subtraction",
                "reset_to_v_reset",
            ):
                raise ValueError(f"bad reset {params['reset']!r}")
        self.size = size
        self.neuron_model = neuron_model
        self.params = params
        self.name = name
        self.record = record
        self.max_atoms_per_core = None
        self.spikes: dict = {}
        self.voltages: dict = {}
        log(
            "Population",
            size=size,
            neuron_model=neuron_model,
            name=name,
            record=record,
            params={str(k): v for k, v in params.items()} if neuron_model != "spike_list" else None,
            n_input_spikes=sum(len(v) for v in params.values())
            if neuron_model == "spike_list"
            else None,
        )

    def set_max_atoms_per_core(self, n):
        if not _is_int(n) or not 1 <= n <= 256:
            raise ValueError(f"max atoms per core must be in 1..256, got {n!r}")
        self.max_atoms_per_core = n
        log("set_max_atoms_per_core", name=self.name, n=n)

    def get_spikes(self):
        if "spikes" not in self.record:
            raise RuntimeError(f"{self.name}: spikes were not recorded")
        return self.spikes

    def get_voltages(self):
        if "v" not in self.record:
            raise RuntimeError(f"{self.name}: v was not recorded")
        return self.voltages


class Projection:
    def __init__(self, pre, post, connections):
        if post.neuron_model == "spike_list":
            raise ValueError("a spike_list population cannot be a projection target")
        for row in connections:
            if len(row) != 4 or not all(_is_int(x) for x in row):
                raise ValueError(
                    f"connection rows are [pre, post, weight, delay] ints, got {row!r}"
                )
            i, j, w, d = row
            if not (0 <= i < pre.size and 0 <= j < post.size):
                raise ValueError(f"connection {row} out of range for sizes {pre.size}, {post.size}")
            if not -15 <= w <= 15:
                raise ValueError(f"weight {w} not in [-15, 15]")
            if not 0 <= d <= 7:
                raise ValueError(f"delay {d} not in 0..7")
        self.pre, self.post, self.connections = pre, post, connections
        log("Projection", pre=pre.name, post=post.name, n=len(connections))


class Network:
    def __init__(self, name=None):
        self.name = name
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        log("Network", name=name)

    def add(self, *objects):
        for obj in objects:
            if isinstance(obj, Population):
                self.populations.append(obj)
            elif isinstance(obj, Projection):
                self.projections.append(obj)
            else:
                raise TypeError(f"cannot add {obj!r}")

    def validate(self):
        for proj in self.projections:
            assert proj.pre in self.populations and proj.post in self.populations
        return True
