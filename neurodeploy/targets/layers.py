"""The random layer structure every target's random-model generator shares.

An input population, then ``n_layers`` populations (the last one ``li`` with probability 0.3),
each fed by the one before, recurrent with probability 0.4 (or as forced), and from layer 1 on a
skip projection from the input with probability 0.25. The target's generator supplies its own
populations and projections (parameters, weights, delays, regimes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neurodeploy.network import Population, Projection

__all__ = ["random_layers"]


def random_layers(
    rng: np.random.Generator,
    *,
    n_layers: int,
    max_size: int,
    recurrent: bool | None,
    population: Callable[[str, int, str], Population],
    projection: Callable[[Population, Population], Projection],
) -> tuple[list[Population], list[Projection]]:
    """Populations (input first) and projections of a random layered network.

    ``population(name, size, kind)`` and ``projection(source, target)`` build the target's own
    objects, drawing from the same ``rng``.
    """
    n_in = int(rng.integers(1, max_size + 1))
    pops = [Population(name="input", size=n_in, kind="input")]
    projs: list[Projection] = []
    for layer in range(n_layers):
        size = int(rng.integers(1, max_size + 1))
        kind = "li" if layer == n_layers - 1 and rng.random() < 0.3 else "lif"
        pops.append(population(f"layer{layer}", size, kind))
        projs.append(projection(pops[-2], pops[-1]))
        is_recurrent = rng.random() < 0.4 if recurrent is None else recurrent
        if is_recurrent:
            projs.append(projection(pops[-1], pops[-1]))
        if layer > 0 and rng.random() < 0.25:
            projs.append(projection(pops[0], pops[-1]))
    return pops, projs
