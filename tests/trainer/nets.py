"""Tiny float networks and inputs for the trainer tests."""

from __future__ import annotations

import numpy as np

from neurodeploy.network import Network, Population, Projection, decay_from_tau
from neurodeploy.spikes import SpikeData


def weight_unit(dt_ms: float, tau_mem_ms: float = 10.0, tau_syn_ms: float = 5.0) -> float:
    """Stored weight of one 'threshold-normalised' weight unit at this time step."""
    dm, ds = decay_from_tau(tau_mem_ms, dt_ms), decay_from_tau(tau_syn_ms, dt_ms)
    return (1 - dm) * (1 - ds) * tau_syn_ms / dt_ms


def tiny_network(
    dt_ms: float,
    *,
    out_kind: str = "li",
    recurrent: bool = True,
    max_delay_ms: float = 3.0,
    seed: int = 0,
) -> Network:
    """input(3) -> hidden(4 lif, optionally recurrent) -> output(2), random delays up to
    ``max_delay_ms``."""
    rng = np.random.default_rng(seed)
    f = weight_unit(dt_ms)
    dmax = max_delay_ms / dt_ms
    kw = dict(
        decay_mem=decay_from_tau(10.0, dt_ms), decay_syn=decay_from_tau(5.0, dt_ms), threshold=1.0
    )
    pops = [
        Population(name="input", size=3, kind="input"),
        Population(name="hidden", size=4, kind="lif", **kw),
        Population(name="output", size=2, kind=out_kind, **kw),
    ]
    projs = [
        Projection(
            source="input",
            target="hidden",
            weights=rng.normal(2.0, 0.5, (4, 3)) * f,
            delays=rng.uniform(0, dmax, (4, 3)),
        )
    ]
    if recurrent:
        projs.append(
            Projection(
                source="hidden",
                target="hidden",
                weights=rng.normal(0, 0.3, (4, 4)) * f,
                delays=rng.uniform(0, dmax, (4, 4)),
            )
        )
    out_mean = 3.0 if out_kind == "lif" else 1.5
    projs.append(
        Projection(
            source="hidden",
            target="output",
            weights=rng.normal(out_mean, 1.0, (2, 4)) * f,
            delays=rng.uniform(0, dmax, (2, 4)),
        )
    )
    return Network(dt_ms=dt_ms, populations=tuple(pops), projections=tuple(projs))


def tiny_inputs(dt_ms: float, t_max_ms: float = 40.0) -> SpikeData:
    """Two samples, one spike per channel at fixed times (ms)."""
    times = [np.array([1.0, 3.0, 6.0]), np.array([2.0, 4.0, 8.0])]
    samples = [(np.rint(t / dt_ms).astype(int), np.arange(3)) for t in times]
    return SpikeData.from_events(
        samples, np.array([0, 1]), n_channels=3, n_steps=round(t_max_ms / dt_ms)
    )


def random_network(
    rng: np.random.Generator,
    *,
    n_in: int,
    sizes: list[int],
    max_delay: int,
    recurrent: bool,
    out_kind: str = "li",
    bias: bool = True,
) -> Network:
    """Random network on a 1 ms grid with integer-ish delays (for exactness tests)."""
    pops = [Population(name="input", size=n_in, kind="input")]
    projs = []
    prev, n_prev = "input", n_in
    for k, n in enumerate(sizes):
        last = k == len(sizes) - 1
        name = "output" if last else f"hidden{k}"
        pops.append(
            Population(
                name=name,
                size=n,
                kind=out_kind if last else "lif",
                decay_mem=float(rng.uniform(0.8, 0.99)),
                decay_syn=float(rng.uniform(0.5, 0.95)),
                threshold=float(rng.uniform(0.5, 1.5)),
                bias=rng.normal(0, 0.02, n) if bias else None,
            )
        )
        projs.append(
            Projection(
                source=prev,
                target=name,
                weights=rng.normal(0.3, 0.4, (n, n_prev)),
                delays=rng.uniform(0, max_delay, (n, n_prev)),
            )
        )
        if recurrent and not last:
            projs.append(
                Projection(
                    source=name,
                    target=name,
                    weights=rng.normal(0, 0.3, (n, n)),
                    delays=rng.uniform(0, max_delay, (n, n)),
                )
            )
        prev, n_prev = name, n
    return Network(dt_ms=1.0, populations=tuple(pops), projections=tuple(projs))
