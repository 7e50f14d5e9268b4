"""Classify samples with any model on any execution path: float simulation, emulator or a backend.

Every path produces a :class:`~neurodeploy.records.Recording` and is decided by the model's readout
rule (:mod:`neurodeploy.readout`), so accuracy differences between paths come from the run alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.backend import check_accepts, get_backend
from neurodeploy.network import Network
from neurodeploy.readout import check_readout, predict
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

__all__ = ["Evaluation", "evaluate", "runner"]


@dataclass(frozen=True)
class Evaluation:
    """Predictions of one model on labelled samples."""

    backend: str
    readout: str
    predicted: NDArray[np.int64]
    labels: NDArray[np.int64]
    spikes_per_sample: dict[str, float]

    @property
    def accuracy(self) -> float:
        return float((self.predicted == self.labels).mean()) if len(self.labels) else 0.0

    @property
    def n(self) -> int:
        return len(self.labels)

    def to_json(self) -> dict:
        return {
            "backend": self.backend,
            "readout": self.readout,
            "accuracy": self.accuracy,
            "n": self.n,
            "correct": int((self.predicted == self.labels).sum()),
            "spikes_per_sample": self.spikes_per_sample,
        }


def runner(network: Network, backend: str) -> Callable[[SpikeData], Recording]:
    """A function running ``network`` on samples with the registered backend ``backend``
    (ConfigError if that backend does not run models like this one)."""
    chosen = get_backend(backend)
    check_accepts(chosen, network)
    return lambda spikes: chosen.run(network, spikes, record_v=True)


def _chunks(n: int, size: int) -> Iterator[NDArray[np.int64]]:
    for start in range(0, n, size):
        yield np.arange(start, min(start + size, n))


def evaluate(
    network: Network,
    spikes: SpikeData,
    *,
    backend: str = "float",
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Predict every sample of ``spikes`` with ``network`` run on ``backend``.

    Parameters
    ----------
    network : Network
        Float or hardware model with a ``readout`` rule.
    spikes : SpikeData
        Labelled samples; channels = the model's inputs.
    backend : str
        A registered backend (:mod:`neurodeploy.backend`): ``float``, ``emulator``, ``lava``, ...
    batch_size : int
        Samples per run at most. Runs are also kept to 2**22 recorded neuron-steps (spikes, v and
        I of every population: about 150 MB for the float model), so memory depends on neither
        the number of samples nor the trial length.
    progress : callable, optional
        Called with the number of samples finished after each batch.
    """
    readout = check_readout(network.readout or "")
    per_sample = spikes.n_steps * sum(p.size for p in network.populations if p.kind != "input")
    batch_size = max(1, min(batch_size, (1 << 22) // max(per_sample, 1)))
    out = network.output_population
    v_scale = network.population(out).v_scale
    run = runner(network, backend)
    predicted = np.full(len(spikes), -1, dtype=np.int64)
    counts: dict[str, float] = {}
    for idx in _chunks(len(spikes), batch_size):
        recording = run(spikes.subset(idx))
        predicted[idx] = predict(recording[out], readout, v_scale)
        for name, rec in recording.items():
            counts[name] = counts.get(name, 0.0) + float(rec.spikes.sum())
        if progress is not None:
            progress(len(idx))
    n = max(len(spikes), 1)
    return Evaluation(
        backend=backend,
        readout=readout,
        predicted=predicted,
        labels=spikes.labels.copy(),
        spikes_per_sample={k: v / n for k, v in counts.items()},
    )
