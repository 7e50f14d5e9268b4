"""Activity statistics of a float model on calibration data, which quantization decisions use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.network import Network, Projection
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

__all__ = ["NEURON_STEPS_PER_BATCH", "Calibration", "samples_per_batch"]

#: Neuron-steps of one float run over calibration samples: its recording (spikes, v and I of every
#: non-input population, float64) then takes about 150 MB, whatever the number of samples.
NEURON_STEPS_PER_BATCH = 1 << 22


def samples_per_batch(network: Network, n_steps: int) -> int:
    """Samples per float run of ``network`` over ``n_steps`` steps within
    :data:`NEURON_STEPS_PER_BATCH` (at least 1)."""
    per_sample = int(n_steps) * sum(p.size for p in network.populations if p.kind != "input")
    return max(1, NEURON_STEPS_PER_BATCH // max(per_sample, 1))


@dataclass(frozen=True)
class Calibration:
    """What the float model did on the calibration samples.

    Parameters
    ----------
    spike_counts : mapping of population name to float ndarray, shape (size,)
        Spikes per neuron over all calibration samples (input populations included).
    i_max, v_max : mapping of population name to float
        Largest |I| and |V| reached by each non-input population (float units).
    n_samples : int
    """

    spike_counts: Mapping[str, NDArray[np.float64]]
    i_max: Mapping[str, float]
    v_max: Mapping[str, float]
    n_samples: int

    @classmethod
    def from_data(
        cls, network: Network, inputs: SpikeData, *, batch_size: int | None = None
    ) -> Calibration:
        """Statistics of a float run of ``inputs``, simulated ``batch_size`` samples at a time
        (default: :func:`samples_per_batch`).

        Equal to :meth:`from_recording` of one run of every sample (counts are integer sums,
        ranges are maxima), with memory bounded by the batch rather than by ``len(inputs)``.
        """
        from neurodeploy.emulator.canonical import iter_recordings

        batch_size = batch_size or samples_per_batch(network, inputs.n_steps)
        chunks = (rec for _, rec in iter_recordings(network, inputs, batch_size=batch_size))
        return cls.from_recordings(network, inputs, chunks)

    @classmethod
    def from_recording(
        cls, network: Network, inputs: SpikeData, recording: Recording
    ) -> Calibration:
        """Statistics from a float run that recorded spikes, v and u (= I)."""
        return cls.from_recordings(network, inputs, [recording])

    @classmethod
    def from_recordings(
        cls, network: Network, inputs: SpikeData, recordings: Iterable[Recording]
    ) -> Calibration:
        """Statistics from float runs of consecutive parts of ``inputs`` (together: every sample
        once), each recording spikes, v and u (= I); consumed one at a time."""
        counts: dict[str, NDArray[np.float64]] = {}
        start = 0
        for pop in network.populations:
            if pop.kind == "input":
                units = (
                    inputs.units[(inputs.units >= start) & (inputs.units < start + pop.size)]
                    - start
                )
                counts[pop.name] = np.bincount(units, minlength=pop.size).astype(np.float64)
                start += pop.size
        spikes: dict[str, NDArray[np.int64]] = {}
        i_max: dict[str, float] = {}
        v_max: dict[str, float] = {}
        for recording in recordings:
            for name, rec in recording.items():
                n = rec.spikes.sum(axis=(0, 1), dtype=np.int64)
                spikes[name] = spikes[name] + n if name in spikes else n
                v_max[name] = max(v_max.get(name, 0.0), _abs_max(rec.v))
                i_max[name] = max(i_max.get(name, 0.0), _abs_max(rec.u))
        counts.update({name: n.astype(np.float64) for name, n in spikes.items()})
        return cls(spike_counts=counts, i_max=i_max, v_max=v_max, n_samples=len(inputs))

    @classmethod
    def uniform(cls, network: Network) -> Calibration:
        """No data: every presynaptic neuron equally important, no range information."""
        counts = {p.name: np.ones(p.size) for p in network.populations}
        return cls(spike_counts=counts, i_max={}, v_max={}, n_samples=0)

    def importance(self, network: Network, projection: Projection) -> NDArray[np.float64]:
        """Weight of each synapse's error, shape (1, n_pre): presynaptic spikes (+1, so that
        weights of silent neurons still count a little)."""
        counts = self.spike_counts.get(projection.source)
        if counts is None:
            counts = np.zeros(network.population(projection.source).size)
        return (counts + 1.0)[None, :]


def _abs_max(values: NDArray[np.floating] | None) -> float:
    return float(np.abs(values).max(initial=0.0)) if values is not None else 0.0
