"""The canonical float model: simulation of any float :class:`~neurodeploy.network.Network`.

The forward kernel (:mod:`neurodeploy.emulator.canonical_kernels`, float64) is the one the
EventProp trainer differentiates; here it records spikes, v and I per population, so that
``evaluate`` and quantization reports compare float and emulated runs through the same
:class:`~neurodeploy.records.Recording` and :mod:`neurodeploy.readout` rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from neurodeploy.emulator import canonical_kernels as K
from neurodeploy.emulator.canonical_layout import PackedNetwork, pack_network, round_delays
from neurodeploy.errors import NetworkError
from neurodeploy.network import Network
from neurodeploy.records import PopulationRecord, Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import require_channels

__all__ = ["iter_recordings", "simulate"]


def _check(network: Network, spikes: SpikeData) -> PackedNetwork:
    if network.is_hardware:
        raise NetworkError(
            f"simulate runs float networks; this one is for profile {network.profile!r}"
        )
    network.validate()
    packed = pack_network(network)
    require_channels(network, spikes)
    spikes.validate()
    return packed


def _net_arrays(network: Network, packed: PackedNetwork) -> K.KernelNet:
    return packed.kernel_net(
        [p.weights for p in network.projections],
        [round_delays(p.delays) for p in network.projections],
    )


def iter_recordings(
    network: Network,
    spikes: SpikeData,
    *,
    populations: Sequence[str] | None = None,
    batch_size: int = 64,
) -> Iterator[tuple[np.ndarray, Recording]]:
    """Simulate ``spikes`` in chunks of ``batch_size`` samples; yields ``(sample_index, recording)``.

    Each recording holds the populations named (default: every non-input population) for the
    chunk's samples, with ``spikes`` uint8, ``v`` (after reset) and ``u`` float64 of shape
    ``(chunk, n_steps, size)``. Memory is bounded by the chunk, not by the data set.
    """
    packed = _check(network, spikes)
    net = _net_arrays(network, packed)
    non_input = packed.non_input_names
    names = list(non_input) if populations is None else list(populations)
    for name in names:
        if name not in non_input:
            raise NetworkError(f"no non-input population named {name!r}; have {list(non_input)}")
    lo = min(packed.offset(n) for n in names)
    hi = max(packed.offset(n) + network.population(n).size for n in names)
    events = (spikes.steps, spikes.units, spikes.offsets)
    n_steps = int(spikes.n_steps)
    for start in range(0, len(spikes), batch_size):
        idx = np.arange(start, min(start + batch_size, len(spikes)), dtype=np.int64)
        shape = (len(idx), n_steps, hi - lo)
        rec_s = np.zeros(shape, dtype=np.uint8)
        rec_v = np.zeros(shape)
        rec_u = np.zeros(shape)
        K.record_batch(events, idx, n_steps, net, (lo, hi), rec_s, rec_v, rec_u)
        out: dict[str, PopulationRecord] = {}
        for name in names:
            a = packed.offset(name) - lo
            b = a + network.population(name).size
            out[name] = PopulationRecord(
                spikes=np.ascontiguousarray(rec_s[:, :, a:b]),
                v=np.ascontiguousarray(rec_v[:, :, a:b]),
                u=np.ascontiguousarray(rec_u[:, :, a:b]),
            )
        yield idx, out


def simulate(
    network: Network, spikes: SpikeData, *, populations: Sequence[str] | None = None
) -> Recording:
    """Float simulation of all samples of ``spikes``; see :func:`iter_recordings`."""
    parts = list(
        iter_recordings(network, spikes, populations=populations, batch_size=max(len(spikes), 1))
    )
    if not parts:
        raise NetworkError("no samples to simulate")
    return parts[0][1]
