"""Decision rules: from a recorded output population to predicted classes.

A model names its rule (``Network.readout``); float, emulated and hardware runs are
all classified by :func:`predict` on a :class:`~neurodeploy.records.PopulationRecord`, so any
accuracy difference comes from the run, never from the rule. Rules (``n_steps`` = record length,
``V`` = recorded voltage after reset, times ``v_scale``):

``first_spike``
    The neuron that spiked first. Ties (several neurons first spike at the same step) go to the
    lowest neuron index. A sample where no neuron spiked goes to the neuron with the highest
    maximum voltage (lowest index on ties); without a voltage record such a sample gets ``-1``.
``max_voltage``
    ``argmax_k max_t V_k[t]``.
``sum_voltage``
    ``argmax_k sum_t V_k[t]``.
``exp_sum_voltage``
    ``argmax_k sum_t exp(-t / n_steps) V_k[t]``.

``argmax`` ties go to the lowest index (numpy's rule).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError
from neurodeploy.records import PopulationRecord

__all__ = ["READOUTS", "accuracy", "check_readout", "decide", "predict", "summarize"]

READOUTS = ("first_spike", "max_voltage", "sum_voltage", "exp_sum_voltage")


def check_readout(readout: str) -> str:
    """``readout`` if it names a rule, else ConfigError."""
    if readout not in READOUTS:
        raise ConfigError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
    return readout


def summarize(record: PopulationRecord, v_scale: float = 1.0) -> dict[str, NDArray]:
    """Per-sample, per-neuron summaries every rule is decided from.

    Returns
    -------
    dict with ``first_step`` int64 (n_samples, size) (-1: never spiked) and, when ``record.v`` is
    present, float64 ``max_v``, ``sum_v``, ``exp_sum_v`` of shape (n_samples, size).
    """
    spikes = np.asarray(record.spikes) != 0
    n_samples, n_steps, size = spikes.shape
    any_spike = spikes.any(axis=1)
    first = np.where(any_spike, spikes.argmax(axis=1), -1).astype(np.int64)
    out: dict[str, NDArray] = {"first_step": first}
    if record.v is not None:
        v = np.asarray(record.v, dtype=np.float64) * float(v_scale)
        weight = np.exp(-np.arange(n_steps) / max(n_steps, 1))
        out["max_v"] = v.max(axis=1) if n_steps else np.zeros((n_samples, size))
        out["sum_v"] = v.sum(axis=1)
        out["exp_sum_v"] = np.einsum("t,btk->bk", weight, v)
    return out


def decide(readout: str, summary: dict[str, NDArray]) -> NDArray[np.int64]:
    """Predicted class per sample from :func:`summarize`-style arrays (see the module rules)."""
    check_readout(readout)
    if readout == "first_spike":
        first = summary["first_step"]
        key = np.where(first < 0, np.iinfo(np.int64).max, first)
        pred = key.argmin(axis=1).astype(np.int64)
        silent = (first < 0).all(axis=1)
        if silent.any():
            if "max_v" in summary:
                pred[silent] = summary["max_v"][silent].argmax(axis=1)
            else:
                pred[silent] = -1
        return pred
    key = {"max_voltage": "max_v", "sum_voltage": "sum_v", "exp_sum_voltage": "exp_sum_v"}[readout]
    if key not in summary:
        raise ConfigError(f"readout {readout!r} needs the voltage record of the output population")
    return summary[key].argmax(axis=1).astype(np.int64)


def predict(record: PopulationRecord, readout: str, v_scale: float = 1.0) -> NDArray[np.int64]:
    """Predicted class of every sample of ``record`` by rule ``readout``."""
    return decide(readout, summarize(record, v_scale))


def accuracy(predicted: NDArray[np.integer], labels: NDArray[np.integer]) -> float:
    """Fraction of samples whose prediction equals the label (0.0 for no samples)."""
    labels = np.asarray(labels)
    return float((np.asarray(predicted) == labels).mean()) if len(labels) else 0.0
