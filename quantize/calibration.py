"""Activity statistics of a float model on calibration data, which quantization decisions use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.network import Network, Projection
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

__all__ = ["Calibration"]


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
    def from_recording(
        cls, network: Network, inputs: SpikeData, recording: Recording
    ) -> Calibration:
        """Statistics from a float run that recorded spikes, v and u (= I)."""
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
        i_max, v_max = {}, {}
        for name, rec in recording.items():
            counts[name] = rec.spikes.sum(axis=(0, 1)).astype(np.float64)
            v_max[name] = float(np.abs(rec.v).max(initial=0.0)) if rec.v is not None else 0.0
            i_max[name] = float(np.abs(rec.u).max(initial=0.0)) if rec.u is not None else 0.0
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
