"""What every emulator does around its kernel: index the neurons, size the outputs, split them.

Input neurons are numbered 0 … n_inputs-1 and non-input neurons 0 … n_neurons-1, each in network
order; the kernels see only those flat indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

from neurodeploy.network import Network
from neurodeploy.records import PopulationRecord, Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import require_channels

__all__ = ["Layout", "Outputs", "layout"]


class Layout(NamedTuple):
    """Flat neuron indices of a network: first input neuron and first neuron of each population."""

    in_offset: dict[str, int]
    neuron_offset: dict[str, int]
    n_inputs: int
    n_neurons: int


def layout(network: Network, inputs: SpikeData) -> Layout:
    """Index ``network``'s neurons; NetworkError when ``inputs`` do not fit its input populations."""
    in_offset: dict[str, int] = {}
    neuron_offset: dict[str, int] = {}
    n_inputs = n_neurons = 0
    for pop in network.populations:
        if pop.kind == "input":
            in_offset[pop.name] = n_inputs
            n_inputs += pop.size
        else:
            neuron_offset[pop.name] = n_neurons
            n_neurons += pop.size
    require_channels(network, inputs)
    inputs.validate("inputs")
    return Layout(in_offset, neuron_offset, n_inputs, n_neurons)


@dataclass(frozen=True)
class Outputs:
    """The arrays a kernel fills: spikes, and v and u (empty when not recorded)."""

    spikes: NDArray[np.uint8]
    v: NDArray[np.generic]
    u: NDArray[np.generic]

    @classmethod
    def allocate(
        cls,
        n_samples: int,
        n_steps: int,
        n_neurons: int,
        dtype: DTypeLike,
        *,
        record_v: bool,
        record_u: bool,
    ) -> Outputs:
        shape = (n_samples, n_steps, n_neurons)
        empty = (n_samples, 0, 0)
        return cls(
            spikes=np.zeros(shape, np.uint8),
            v=np.zeros(shape if record_v else empty, dtype),
            u=np.zeros(shape if record_u else empty, dtype),
        )

    def split(self, network: Network) -> Recording:
        """One PopulationRecord per non-input population."""
        out: dict[str, PopulationRecord] = {}
        start = 0
        for pop in network.populations:
            if pop.kind == "input":
                continue
            sl = slice(start, start + pop.size)
            out[pop.name] = PopulationRecord(
                spikes=self.spikes[:, :, sl],
                v=self.v[:, :, sl] if self.v.shape[1] else None,
                u=self.u[:, :, sl] if self.u.shape[1] else None,
            )
            start += pop.size
        return out
