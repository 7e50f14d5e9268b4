"""Random ``loihi2`` hardware models covering the regimes where fixed-point arithmetic bites.

1–4 layers, feedforward, recurrent and skip projections, delays 0–62, excitatory, inhibitory and
mixed weights (and explicit sign modes that clip), every ``num_weight_bits``, ``weight_exp`` from
-8 to 7, biases with exponents, ``du = -1`` (no current decay), and "stress" networks whose u wraps
and v saturates.
"""

from __future__ import annotations

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.targets.layers import random_layers

__all__ = ["LOIHI2_REGIMES", "random_loihi2_network"]

LOIHI2_REGIMES = ("typical", "stress", "sparse")


def random_loihi2_network(
    rng: np.random.Generator,
    *,
    n_layers: int | None = None,
    max_size: int = 12,
    recurrent: bool | None = None,
    max_delay: int | None = None,
    regime: str | None = None,
) -> Network:
    """A random ``loihi2`` hardware model; unspecified choices are drawn from ``rng``.

    ``regime`` is "typical" (moderate weights and thresholds), "stress" (large weights and
    exponents, so u wraps and v saturates) or "sparse" (small weights, few spikes, high thresholds).
    """
    n_layers = int(rng.integers(1, 5)) if n_layers is None else n_layers
    regime = str(rng.choice(LOIHI2_REGIMES)) if regime is None else regime
    max_delay = int(rng.choice([0, 3, 12, 62])) if max_delay is None else max_delay
    pops, projs = random_layers(
        rng,
        n_layers=n_layers,
        max_size=max_size,
        recurrent=recurrent,
        population=lambda name, size, kind: Population(
            name=name, size=size, kind=kind, hw_params=_neuron_params(rng, size, regime)
        ),
        projection=lambda src, tgt: _projection(rng, src, tgt, max_delay, regime),
    )
    return Network(
        dt_ms=1.0,
        populations=tuple(pops),
        projections=tuple(projs),
        profile="loihi2",
        metadata={"generator": "random_loihi2_network", "regime": regime},
    ).validate()


def _neuron_params(rng: np.random.Generator, size: int, regime: str) -> dict[str, np.ndarray]:
    du = int(rng.choice([-1, 0, 4095, int(rng.integers(0, 4096))]))
    dv = int(rng.choice([0, 4096, int(rng.integers(0, 4097))]))
    if regime == "stress":
        vth = int(rng.choice([131071, int(rng.integers(0, 131072))]))
    elif regime == "sparse":
        vth = int(rng.integers(1000, 131072))
    else:
        vth = int(2 ** rng.uniform(0, 12))
    per_neuron = rng.random() < 0.5
    n_bias = size if per_neuron else 1
    if rng.random() < 0.4:
        bias_mant = np.zeros(n_bias, np.int64)
    else:
        bias_mant = rng.integers(-4096, 4096, n_bias)
    bias_exp = rng.integers(0, 8, n_bias)
    return {
        "du": np.array([du]),
        "dv": np.array([dv]),
        "vth": np.array([vth]),
        "bias_mant": bias_mant,
        "bias_exp": bias_exp,
    }


def _projection(
    rng: np.random.Generator, source: Population, target: Population, max_delay: int, regime: str
) -> Projection:
    shape = (target.size, source.size)
    sign = rng.choice(["excitatory", "inhibitory", "mixed"])
    high = {"stress": 256, "typical": 128, "sparse": 16}[regime]
    magnitude = rng.integers(0, high, shape)
    if sign == "excitatory":
        weights = magnitude
    elif sign == "inhibitory":
        weights = -magnitude
    else:
        weights = rng.integers(-high, high, shape)
    weights = np.clip(weights, -256, 255) * (rng.random(shape) < rng.uniform(0.3, 1.0))
    delays = rng.integers(0, max_delay + 1, shape) if max_delay else np.zeros(shape, np.int64)
    exp_range = {"stress": (2, 8), "typical": (-8, 4), "sparse": (-8, 1)}[regime]
    hw = {
        "weight_exp": int(rng.integers(*exp_range)),
        "num_weight_bits": int(rng.integers(1, 9)),
    }
    if rng.random() < 0.3:
        hw["sign_mode"] = int(rng.integers(0, 4))  # may disagree with the weights: Lava clips
    return Projection(
        source=source.name,
        target=target.name,
        weights=weights.astype(np.int64),
        delays=delays,
        hw_params=hw,
    )
