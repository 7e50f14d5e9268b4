"""Small hand-built ``loihi2`` hardware models whose traces can be worked out by hand.

Conventions used below: ``du = 4095`` makes u last one step (current multiplier ``4095 - du = 0``),
``dv = 0`` makes v a perfect integrator, ``dv = 4096`` makes v forget everything each step. A weight
``w`` arriving at step ``t`` adds ``w << 6`` to u, hence to v, at step ``t``.
"""

from __future__ import annotations

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.spikes import SpikeData


def lif(
    name: str, size: int = 1, *, du=4095, dv=0, vth=131071, bias_mant=0, bias_exp=0, kind="lif"
) -> Population:
    hw = {
        "du": [du],
        "dv": [dv],
        "vth": [vth],
        "bias_mant": np.atleast_1d(bias_mant),
        "bias_exp": np.atleast_1d(bias_exp),
    }
    return Population(name=name, size=size, kind=kind, hw_params=hw)


def proj(
    source: str,
    target: str,
    weights,
    delays=None,
    *,
    weight_exp=0,
    num_weight_bits=8,
    sign_mode=None,
) -> Projection:
    hw = {"weight_exp": weight_exp, "num_weight_bits": num_weight_bits}
    if sign_mode is not None:
        hw["sign_mode"] = sign_mode
    weights = np.atleast_2d(np.asarray(weights, dtype=np.int64))
    delays = (
        None
        if delays is None
        else np.broadcast_to(np.asarray(delays, dtype=np.int64), weights.shape).copy()
    )
    return Projection(source=source, target=target, weights=weights, delays=delays, hw_params=hw)


def network(populations, projections) -> Network:
    return Network(
        dt_ms=1.0, populations=tuple(populations), projections=tuple(projections), profile="loihi2"
    ).validate()


def spikes(
    n_steps: int, n_channels: int, events: list[tuple[int, int]], n_samples: int = 1
) -> SpikeData:
    """The same ``(step, channel)`` events in every sample."""
    raster = np.zeros((n_samples, n_steps, n_channels), np.uint8)
    for step, channel in events:
        raster[:, step, channel] = 1
    return SpikeData.from_dense(raster)


def random_network(
    rng: np.random.Generator, *, n_in: int = 5, sizes=(6, 4), max_delay: int = 4
) -> Network:
    """Random chain with recurrence, delays, every sign mode and weight_exp of both signs."""
    pops = [Population(name="input", size=n_in, kind="input")]
    projs = []
    for i, size in enumerate(sizes):
        kind = "li" if i == len(sizes) - 1 else "lif"
        pops.append(
            lif(
                f"p{i}",
                size,
                du=int(rng.integers(-1, 4096)),
                dv=int(rng.integers(0, 4097)),
                vth=int(rng.integers(1, 60)) if kind == "lif" else 131071,
                bias_mant=rng.integers(-20, 40, size),
                bias_exp=rng.integers(0, 4, size),
                kind=kind,
            )
        )
        shape = (size, pops[-2].size)
        projs.append(
            proj(
                pops[-2].name,
                pops[-1].name,
                rng.integers(-120, 256, shape),
                rng.integers(0, max_delay + 1, shape),
                weight_exp=int(rng.integers(-3, 3)),
                num_weight_bits=int(rng.integers(5, 9)),
                sign_mode=int(rng.integers(0, 4)),
            )
        )
        if kind == "lif":
            projs.append(
                proj(
                    pops[-1].name,
                    pops[-1].name,
                    -rng.integers(0, 100, (size, size)),
                    rng.integers(0, 3, (size, size)),
                )
            )
    return network(pops, projs)
