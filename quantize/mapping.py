"""The loop every profile's mapping shares: populations in order, each with its incoming projections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import HardwareProfile
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.decisions import Decisions, PopulationDecision, ProjectionDecision
from neurodeploy.quantize.delays import check_delay_range

__all__ = ["MappedProjections", "PopulationMapper", "map_network"]

#: Hardware projections by index in the float network, each with its decision.
MappedProjections = dict[int, tuple[Projection, ProjectionDecision]]
#: (network, population, its incoming (index, projection) pairs, calibration)
#: -> (hardware population, its decision, its mapped incoming projections)
PopulationMapper = Callable[
    [Network, Population, list[tuple[int, Projection]], Calibration],
    tuple[Population, PopulationDecision, MappedProjections],
]


def map_network(
    network: Network,
    profile: HardwareProfile,
    calibration: Calibration,
    on_overflow: str,
    map_population: PopulationMapper,
) -> tuple[Network, Decisions]:
    """Map every non-input population of ``network`` with ``map_population``; returns the
    hardware model for ``profile`` and the decisions per population and projection."""
    check_delay_range(network, profile, on_overflow)
    pops: list[Population] = []
    projections: dict[int, Projection] = {}
    decisions = Decisions()
    for pop in network.populations:
        if pop.kind == "input":
            pops.append(pop)
            continue
        incoming = [(i, p) for i, p in enumerate(network.projections) if p.target == pop.name]
        hw_pop, pop_decision, mapped = map_population(network, pop, incoming, calibration)
        pops.append(hw_pop)
        decisions.populations[pop.name] = pop_decision
        for i, (proj, decision) in mapped.items():
            projections[i] = proj
            decisions.projections[network.projections[i].name] = decision
    hardware = replace(
        network,
        populations=tuple(pops),
        projections=tuple(projections[i] for i in range(len(network.projections))),
        profile=profile.name,
    )
    return hardware.validate(), decisions
