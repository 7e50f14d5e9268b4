"""Float simulation of any float :class:`~neurodeploy.network.Network`, recorded per population.

This is the trainer's forward kernel (canonical semantics, float64) with dense recording, so that
``evaluate`` and quantization reports compare float and emulated runs through the same
:class:`~neurodeploy.records.Recording` and :mod:`neurodeploy.readout` rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from neurodeploy.errors import NetworkError
from neurodeploy.network import Network
from neurodeploy.records import PopulationRecord, Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer import kernels as K
from neurodeploy.trainer.model import PackedNetwork, pack_network, round_delays

__all__ = ["iter_recordings", "simulate"]


def _check(network: Network, spikes: SpikeData) -> PackedNetwork:
    if network.is_hardware:
        raise NetworkError(
            f"simulate runs float networks; this one is for profile {network.profile!r}"
        )
    network.validate()
    packed = pack_network(network)
    n_in = int(packed.pops_i[0, K.P_SIZE])
    if spikes.n_channels != n_in:
        raise NetworkError(
            f"input population {packed.names[0]!r} has {n_in} neurons, the spikes have {spikes.n_channels} channels"
        )
    spikes.validate()
    return packed


def _net_arrays(network: Network, packed: PackedNetwork) -> tuple:
    w_t = packed.pack_weights([p.weights for p in network.projections])
    d_t = packed.pack_delays([round_delays(p.delays) for p in network.projections])
    return (packed.pops_i, packed.pops_f, packed.projs_i, w_t, d_t, packed.bias)


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
    names = [n for n in packed.names[1:]] if populations is None else list(populations)
    for name in names:
        if name not in packed.names[1:]:
            raise NetworkError(
                f"no non-input population named {name!r}; have {list(packed.names[1:])}"
            )
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
