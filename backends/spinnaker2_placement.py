"""Placement estimate of a ``spinnaker2`` hardware model: neurons per PE, PEs used, synapse memory.

py-spinnaker2 splits every population into slices of at most ``max_atoms_per_core`` neurons, one
slice per processing element (PE); a PE holds the synapse rows of every presynaptic neuron that
reaches its slice. The memory model (hardware.md B.3, UNVERIFIED in its details):

- a synapse is one 16-bit word (|weight| 4 bits, delay 3, type 1, target neuron 8);
- a row (one presynaptic neuron's synapses onto one slice) has 3 header words of 32 bits and
  is padded to a whole 32-bit word: ``12 + 4 * ceil(n_synapses / 2)`` bytes;
- the rows of a PE must fit the ``synapse_memory_bytes`` option (44 KiB by default).

Neuron parameters, the master population table and recording buffers are not counted. Each
population gets the largest slice size (up to ``max_atoms_per_core``) whose every slice fits, found
by bisection; the PEs of all populations, inputs included, must fit ``pes_per_chip``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ProfileLimitError
from neurodeploy.network import Network

__all__ = [
    "ROW_HEADER_BYTES",
    "SYNAPSE_BYTES",
    "CorePlacement",
    "Placement",
    "format_placement",
    "place",
]

ROW_HEADER_BYTES = 12
SYNAPSE_BYTES = 2


@dataclass(frozen=True)
class CorePlacement:
    """One PE: a slice of one population.

    Parameters
    ----------
    population : str
    core : int
        Index of the slice within its population.
    first_neuron, n_neurons : int
        The slice is neurons ``first_neuron … first_neuron + n_neurons - 1``.
    rows, synapses : int
        Synapse rows and synapse words stored on this PE.
    synapse_bytes : int
        Estimated bytes of those rows.
    """

    population: str
    core: int
    first_neuron: int
    n_neurons: int
    rows: int
    synapses: int
    synapse_bytes: int


@dataclass(frozen=True)
class Placement:
    """Placement of a whole network.

    Parameters
    ----------
    neurons_per_core : dict of str to int
        Slice size of each population (passed to ``set_max_atoms_per_core``).
    cores : list of CorePlacement
        Every PE, in population order.
    limits : dict
        The options used: ``max_atoms_per_core``, ``synapse_memory_bytes``, ``pes_per_chip``.
    """

    neurons_per_core: dict[str, int]
    cores: list[CorePlacement]
    limits: dict[str, int]

    @property
    def total_cores(self) -> int:
        return len(self.cores)

    def to_json(self) -> dict[str, Any]:
        return {
            "neurons_per_core": self.neurons_per_core,
            "total_cores": self.total_cores,
            "limits": self.limits,
            "memory_model": {
                "row_header_bytes": ROW_HEADER_BYTES,
                "synapse_bytes": SYNAPSE_BYTES,
                "row_padding_bytes": 4,
                "counted": "synapse rows only (UNVERIFIED estimate)",
            },
            "cores": [asdict(c) for c in self.cores],
        }


def _slice_bytes(masks: list[NDArray[np.bool_]], n: int) -> tuple[NDArray[np.int64], ...]:
    """Rows, synapses and bytes of every slice of ``n`` post neurons, over incoming masks."""
    size = masks[0].shape[0]
    starts = np.arange(0, size, n)
    rows = np.zeros(len(starts), np.int64)
    synapses = np.zeros(len(starts), np.int64)
    nbytes = np.zeros(len(starts), np.int64)
    for mask in masks:
        if mask.shape[1] == 0:
            continue
        counts = np.add.reduceat(mask.astype(np.int64), starts, axis=0)  # (slices, n_pre)
        present = counts > 0
        rows += present.sum(axis=1)
        synapses += counts.sum(axis=1)
        nbytes += (present * (ROW_HEADER_BYTES + 4 * ((counts + 1) // 2))).sum(axis=1)
    return rows, synapses, nbytes


def place(network: Network, options: Mapping[str, Any]) -> Placement:
    """Estimate the placement of ``network`` under the resolved profile ``options``.

    Raises
    ------
    ProfileLimitError
        One line per population whose single neuron already exceeds the synapse memory, and one
        if the PEs needed exceed ``pes_per_chip``.
    """
    max_atoms = int(options["max_atoms_per_core"])
    budget = int(options["synapse_memory_bytes"])
    pes = int(options["pes_per_chip"])
    problems: list[str] = []
    neurons_per_core: dict[str, int] = {}
    cores: list[CorePlacement] = []
    for pop in network.populations:
        masks = [np.asarray(p.weights) != 0 for p in network.incoming(pop.name)]
        if pop.kind == "input" or not masks:
            n = min(max_atoms, pop.size)
            masks = [np.zeros((pop.size, 0), bool)]
        else:

            def fits(k: int, masks: list[NDArray[np.bool_]] = masks) -> bool:
                return bool(_slice_bytes(masks, k)[2].max() <= budget)

            n = min(max_atoms, pop.size)
            if not fits(n):
                if not fits(1):
                    worst = int(_slice_bytes(masks, 1)[2].max())
                    problems.append(
                        f"populations/{pop.name}: one neuron's synapse rows need {worst} bytes, "
                        f"more than synapse_memory_bytes={budget} per PE"
                    )
                    continue
                lo, hi = 1, n
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if fits(mid) else (lo, mid)
                n = lo
        neurons_per_core[pop.name] = n
        rows, synapses, nbytes = _slice_bytes(masks, n)
        for k, first in enumerate(range(0, pop.size, n)):
            cores.append(
                CorePlacement(
                    population=pop.name,
                    core=k,
                    first_neuron=first,
                    n_neurons=min(n, pop.size - first),
                    rows=int(rows[k]),
                    synapses=int(synapses[k]),
                    synapse_bytes=int(nbytes[k]),
                )
            )
    if not problems and len(cores) > pes:
        per_pop = ", ".join(
            f"{name} {math.ceil(network.population(name).size / n)}"
            for name, n in neurons_per_core.items()
        )
        problems.append(
            f"placement needs {len(cores)} PEs ({per_pop}), more than pes_per_chip={pes} of one "
            "SpiNNaker2 chip"
        )
    if problems:
        raise ProfileLimitError("\n".join(problems))
    limits = {"max_atoms_per_core": max_atoms, "synapse_memory_bytes": budget, "pes_per_chip": pes}
    return Placement(neurons_per_core=neurons_per_core, cores=cores, limits=limits)


def format_placement(network: Network, placement: Placement) -> str:
    """A human-readable table of ``placement``: one line per population, then one per PE."""
    limits = placement.limits
    lines = [
        "SpiNNaker2 placement estimate",
        f"limits: {limits['max_atoms_per_core']} neurons per PE, "
        f"{limits['synapse_memory_bytes']} bytes of synapse rows per PE, "
        f"{limits['pes_per_chip']} PEs per chip (UNVERIFIED values; profile options)",
        "synapse bytes = rows x 12-byte header + 16-bit synapse words, padded to 32 bits",
        "",
        f"{'population':<20} {'model':<13} {'size':>6} {'per PE':>6} {'PEs':>4} {'max bytes/PE':>12}",
    ]
    for pop in network.populations:
        mine = [c for c in placement.cores if c.population == pop.name]
        model = "spike_list" if pop.kind == "input" else "lif_curr_exp"
        lines.append(
            f"{pop.name:<20} {model:<13} {pop.size:>6} {placement.neurons_per_core[pop.name]:>6} "
            f"{len(mine):>4} {max(c.synapse_bytes for c in mine):>12}"
        )
    lines += [
        "",
        f"PEs used: {placement.total_cores} of {limits['pes_per_chip']}",
        "",
        f"{'PE':<24} {'neurons':>13} {'rows':>6} {'synapses':>9} {'bytes':>7} {'of budget':>9}",
    ]
    for c in placement.cores:
        last = c.first_neuron + c.n_neurons - 1
        share = c.synapse_bytes / limits["synapse_memory_bytes"]
        lines.append(
            f"{c.population + f'[{c.core}]':<24} {f'{c.first_neuron}-{last}':>13} {c.rows:>6} "
            f"{c.synapses:>9} {c.synapse_bytes:>7} {share:>8.1%}"
        )
    return "\n".join(lines) + "\n"
