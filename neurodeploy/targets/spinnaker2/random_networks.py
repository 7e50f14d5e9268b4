"""Random ``spinnaker2`` hardware models, for checking the emulator against references and boards.

Regimes cover where float32 arithmetic bites:

- ``typical``: decays in [0.5, 1], thresholds a few weight units, small biases;
- ``integer``: decays in {0, 0.5, 0.75, 1} and integer thresholds and biases, so v lands exactly
  on the threshold (``>`` and ``>=`` differ) and reset by subtraction reaches exactly 0;
- ``stress``: arbitrary float32 decays (0 and 1 included), negative, tiny and large thresholds,
  large and subnormal biases, many-bit values where every rounding step shows;
- ``sparse``: small weights and high thresholds, few spikes.

Every float is drawn as a float32 value, so the models pass the profile's float32 rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.targets.layers import random_layers
from neurodeploy.targets.spinnaker2.arithmetic import f32

__all__ = ["SPINNAKER2_REGIMES", "random_spinnaker2_network"]

SPINNAKER2_REGIMES = ("typical", "integer", "stress", "sparse")


def random_spinnaker2_network(
    rng: np.random.Generator,
    *,
    n_layers: int | None = None,
    max_size: int = 12,
    recurrent: bool | None = None,
    max_delay: int | None = None,
    regime: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Network:
    """A random ``spinnaker2`` hardware model; unspecified choices are drawn from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_layers : int, optional
        Non-input layers (1–4 drawn).
    max_size : int
        Largest population size.
    recurrent : bool, optional
        Force recurrent projections on or off (drawn per layer otherwise).
    max_delay : int, optional
        Largest delay field, 0..7 (drawn from {0, 3, 7}).
    regime : str, optional
        One of :data:`SPINNAKER2_REGIMES`.
    options : mapping, optional
        Profile options to pin in ``Network.profile_options``.

    Returns
    -------
    Network
        A validated hardware model (profile ``spinnaker2``).
    """
    n_layers = int(rng.integers(1, 5)) if n_layers is None else n_layers
    regime = str(rng.choice(SPINNAKER2_REGIMES)) if regime is None else regime
    if regime not in SPINNAKER2_REGIMES:
        raise ValueError(f"regime must be one of {', '.join(SPINNAKER2_REGIMES)}, got {regime!r}")
    max_delay = int(rng.choice([0, 3, 7])) if max_delay is None else max_delay
    pops, projs = random_layers(
        rng,
        n_layers=n_layers,
        max_size=max_size,
        recurrent=recurrent,
        population=lambda name, size, kind: _population(rng, name, size, kind, regime),
        projection=lambda src, tgt: _projection(rng, src, tgt, max_delay, regime),
    )
    return Network(
        dt_ms=1.0,
        populations=tuple(pops),
        projections=tuple(projs),
        profile="spinnaker2",
        profile_options=dict(options or {}),
        metadata={"generator": "random_spinnaker2_network", "regime": regime},
    ).validate()


def _population(
    rng: np.random.Generator, name: str, size: int, kind: str, regime: str
) -> Population:
    n_bias = size if rng.random() < 0.5 else 1
    if regime == "integer":
        decay_mem = float(rng.choice([0.0, 0.5, 0.75, 1.0]))
        decay_syn = float(rng.choice([0.0, 0.5, 0.75, 1.0]))
        threshold = float(rng.integers(1, 30))
        bias = rng.integers(-2, 3, n_bias) * float(rng.choice([0.0, 0.5, 1.0]))
    elif regime == "stress":
        decay_mem = f32(rng.choice([0.0, 1.0, rng.random(), 1.0 - rng.random() * 1e-3]))
        decay_syn = f32(rng.choice([0.0, 1.0, rng.random(), 1.0 - rng.random() * 1e-3]))
        threshold = f32(
            rng.choice([-rng.uniform(0, 5), rng.uniform(0, 1e-3), 2 ** rng.uniform(0, 12)])
        )
        scale = float(rng.choice([0.0, 1e-40, 1e-3, 1.0, 50.0]))  # 1e-40 is subnormal in float32
        bias = rng.uniform(-1, 1, n_bias) * scale
    elif regime == "sparse":
        decay_mem = f32(rng.uniform(0.3, 1.0))
        decay_syn = f32(rng.uniform(0.0, 0.9))
        threshold = f32(rng.uniform(8, 60))
        bias = np.zeros(n_bias)
    else:
        decay_mem = f32(rng.uniform(0.5, 1.0))
        decay_syn = f32(rng.uniform(0.5, 1.0))
        threshold = f32(rng.uniform(1, 40))
        bias = rng.uniform(-0.5, 0.5, n_bias) * (rng.random() < 0.6)
    bias = np.broadcast_to(np.asarray(bias, np.float32).astype(np.float64), (size,)).copy()
    v_scale = f32(rng.uniform(0.01, 2.0))
    return Population(
        name=name,
        size=size,
        kind=kind,
        decay_mem=decay_mem,
        decay_syn=decay_syn,
        threshold=threshold,
        bias=bias,
        v_scale=v_scale,
    )


def _projection(
    rng: np.random.Generator, source: Population, target: Population, max_delay: int, regime: str
) -> Projection:
    shape = (target.size, source.size)
    high = {"sparse": 4, "typical": 16, "integer": 16, "stress": 16}[regime]
    sign = rng.choice(["excitatory", "inhibitory", "mixed"])
    magnitude = rng.integers(0, high, shape)
    if sign == "excitatory":
        weights = magnitude
    elif sign == "inhibitory":
        weights = -magnitude
    else:
        weights = rng.integers(-high + 1, high, shape)
    weights = weights * (rng.random(shape) < rng.uniform(0.3, 1.0))
    delays = rng.integers(0, max_delay + 1, shape) if max_delay else np.zeros(shape, np.int64)
    return Projection(
        source=source.name,
        target=target.name,
        weights=weights.astype(np.int64),
        delays=delays.astype(np.int64),
        weight_scale=f32(rng.uniform(0.01, 2.0)),
    )
