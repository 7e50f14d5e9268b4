"""Fake ``spinnaker2.snn``: Population, Projection, Network with py-spinnaker2's signatures."""

from __future__ import annotations

import json
import math
import os

CALLS: list[dict] = []

# Parameter names per neuron model, as far as public sources show them (py-spinnaker2 itself is
# on GitLab only; see README "What was exercised against what"):
# - lif: threshold, alpha_decay, i_offset, v_init, v_reset, reset, with reset one of
#   reset_by_subtraction / reset_to_v_reset (ngr-francesco/dynamic-neural-field-spinnaker2,
#   dynamic_neural_field.py, which repeats the py-spinnaker2 lif example).
# - lif_curr_exp: the lif names plus exc_decay, inh_decay and a refractory period, spelled
#   t_refrac by py-spinnaker2's own s2_nir converter (convert_CubaLIF) and a NIR Braille example,
#   but t_refract by another user example: UNVERIFIED, so the stand-in accepts exactly the
#   spelling named by FAKE_SPINNAKER2_REFRAC_KEY (default t_refrac) and rejects the other.
LIF_PARAMS = frozenset({"threshold", "alpha_decay", "i_offset", "v_init", "v_reset", "reset"})
RESET_MODES = ("reset_by_subtraction", "reset_to_v_reset")
RECORDABLES = {"spikes", "v", "v_last", "time_done"}
# 4-bit weight and 3-bit delay fields of the lif synapse word (the lif example's comments and
# NESTML's SynapseWordSpec(weight=4, delay=3)); assumed the same for lif_curr_exp (UNVERIFIED).
WEIGHT_RANGE = (-15, 15)
DELAY_RANGE = (0, 7)


def refrac_key() -> str:
    return os.environ.get("FAKE_SPINNAKER2_REFRAC_KEY", "t_refrac")


def neuron_params(model: str) -> frozenset:
    """The parameter names the stand-in accepts for ``model``."""
    if model == "lif":
        return LIF_PARAMS
    if model == "lif_curr_exp":
        return LIF_PARAMS | {"exc_decay", "inh_decay", refrac_key()}
    raise ValueError(f"fake supports spike_list, lif and lif_curr_exp, got {model!r}")


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
        if not isinstance(neuron_model, str):
            raise TypeError(f"neuron_model must be a str, got {neuron_model!r}")
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict, got {type(params).__name__}")
        record = list(record or [])
        if not set(record) <= RECORDABLES:
            raise ValueError(f"record must be a subset of {sorted(RECORDABLES)}, got {record}")
        if neuron_model == "spike_list":
            for idx, ticks in params.items():
                if not _is_int(idx) or not 0 <= idx < size:
                    raise ValueError(f"spike_list neuron index {idx!r} out of range")
                if not all(_is_int(t) and t >= 0 for t in ticks):
                    raise ValueError(f"spike_list ticks must be ints >= 0, got {ticks!r}")
        else:
            allowed = neuron_params(neuron_model)
            unknown = set(params) - allowed
            if unknown:
                raise ValueError(
                    f"unknown {neuron_model} params {sorted(unknown)} (known: {sorted(allowed)})"
                )
            for key, value in params.items():
                if key == "reset":
                    if value not in RESET_MODES:
                        raise ValueError(f"reset must be one of {RESET_MODES}, got {value!r}")
                    continue
                values = value if isinstance(value, list) else [value]
                if isinstance(value, list) and len(value) != size:
                    raise ValueError(
                        f"{key}: per-neuron list of length {len(value)} for size {size}"
                    )
                for x in values:
                    if isinstance(x, bool) or not isinstance(x, int | float):
                        raise TypeError(f"{key} must be a number or a list of numbers, got {x!r}")
                    if not math.isfinite(x):
                        raise ValueError(f"{key} must be finite, got {x!r}")
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
            if not WEIGHT_RANGE[0] <= w <= WEIGHT_RANGE[1]:
                raise ValueError(f"weight {w} not in [{WEIGHT_RANGE[0]}, {WEIGHT_RANGE[1]}]")
            if not DELAY_RANGE[0] <= d <= DELAY_RANGE[1]:
                raise ValueError(f"delay {d} not in {DELAY_RANGE[0]}..{DELAY_RANGE[1]}")
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
