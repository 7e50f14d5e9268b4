"""Random hardware models and inputs, and the emulator-vs-backend agreement check.

The Loihi 2 generator covers the regimes where fixed-point arithmetic bites: 1–4 layers,
feedforward, recurrent and skip projections, delays 0–62, excitatory, inhibitory and mixed weights
(and explicit sign modes that clip), every ``num_weight_bits``, ``weight_exp`` from -8 to 7, biases
with exponents, ``du = -1`` (no current decay), and "stress" networks whose u wraps and v saturates.
:func:`random_networks` draws from it, or for the ``spinnaker2`` profile from
:func:`~neurodeploy.emulator.spinnaker2_networks.random_spinnaker2_network` (float32 regimes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from neurodeploy.emulator import run as emulate
from neurodeploy.emulator.spinnaker2_networks import SPINNAKER2_REGIMES, random_spinnaker2_network
from neurodeploy.errors import ConfigError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.records import Mismatch, Recording, first_mismatch
from neurodeploy.spikes import SpikeData

__all__ = [
    "REGIMES",
    "AgreementReport",
    "check_agreement",
    "random_inputs",
    "random_loihi2_network",
    "random_networks",
]

REGIMES = ("typical", "stress", "sparse")


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
    regime = str(rng.choice(REGIMES)) if regime is None else regime
    max_delay = int(rng.choice([0, 3, 12, 62])) if max_delay is None else max_delay
    n_in = int(rng.integers(1, max_size + 1))
    pops = [Population(name="input", size=n_in, kind="input")]
    projs: list[Projection] = []
    for layer in range(n_layers):
        size = int(rng.integers(1, max_size + 1))
        kind = "li" if layer == n_layers - 1 and rng.random() < 0.3 else "lif"
        pops.append(
            Population(
                name=f"layer{layer}",
                size=size,
                kind=kind,
                hw_params=_neuron_params(rng, size, regime),
            )
        )
        projs.append(_projection(rng, pops[-2], pops[-1], max_delay, regime))
        is_recurrent = rng.random() < 0.4 if recurrent is None else recurrent
        if is_recurrent:
            projs.append(_projection(rng, pops[-1], pops[-1], max_delay, regime))
        if layer > 0 and rng.random() < 0.25:
            projs.append(_projection(rng, pops[0], pops[-1], max_delay, regime))
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


def random_inputs(
    rng: np.random.Generator,
    network: Network,
    *,
    n_samples: int,
    n_steps: int,
    rate: float | None = None,
) -> SpikeData:
    """Bernoulli spike trains for the network's input populations (rate per step drawn if None)."""
    n_in = sum(p.size for p in network.inputs)
    rate = float(rng.uniform(0.02, 0.5)) if rate is None else rate
    raster = (rng.random((n_samples, n_steps, n_in)) < rate).astype(np.uint8)
    return SpikeData.from_dense(raster)


# profile -> (generator, the regimes random_networks cycles through)
_GENERATORS: dict[str, tuple[Callable[..., Network], tuple[str, ...]]] = {
    "loihi2": (random_loihi2_network, REGIMES),
    "spinnaker2": (random_spinnaker2_network, SPINNAKER2_REGIMES),
}


def random_networks(
    seed: int, count: int, *, n_steps: int = 64, n_samples: int = 2, profile: str = "loihi2"
) -> Iterator[tuple[int, Network, SpikeData]]:
    """``count`` (index, network, inputs) triples, reproducible from ``seed``; regimes cycle.

    ``profile`` is the hardware profile of the networks: ``loihi2`` (regimes :data:`REGIMES`) or
    ``spinnaker2`` (regimes ``SPINNAKER2_REGIMES``). ConfigError for any other.
    """
    if profile not in _GENERATORS:
        raise ConfigError(
            f"random networks: profile must be one of {', '.join(sorted(_GENERATORS))}, "
            f"got {profile!r}"
        )
    generator, regimes = _GENERATORS[profile]

    def cases() -> Iterator[tuple[int, Network, SpikeData]]:
        for index in range(count):
            rng = np.random.default_rng([seed, index])
            network = generator(rng, regime=regimes[index % len(regimes)])
            yield index, network, random_inputs(rng, network, n_samples=n_samples, n_steps=n_steps)

    return cases()


@dataclass
class AgreementReport:
    """Outcome of comparing the emulator with a backend on several networks."""

    against: str
    networks: int = 0
    samples: int = 0
    steps: int = 0
    spikes: int = 0
    mismatches: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict:
        return {
            "against": self.against,
            "networks": self.networks,
            "samples": self.samples,
            "steps": self.steps,
            "spikes_compared": self.spikes,
            "mismatches": len(self.mismatches),
            "first_mismatch": self.mismatches[0] if self.mismatches else None,
        }


def check_agreement(
    cases: Iterator[tuple[int | str, Network, SpikeData]],
    run_backend: Callable[[Network, SpikeData], Recording],
    *,
    against: str,
    progress: Callable[[], None] | None = None,
) -> AgreementReport:
    """Run the emulator and ``run_backend`` on every case; record each network's first mismatch
    in spikes or v (compared at every step)."""
    report = AgreementReport(against=against)
    for label, network, inputs in cases:
        expected = emulate(network, inputs, record_v=True)
        actual = run_backend(network, inputs)
        mismatch: Mismatch | None = first_mismatch(expected, actual)
        report.networks += 1
        report.samples += len(inputs)
        report.steps += len(inputs) * inputs.n_steps
        report.spikes += int(sum(int(r.spikes.sum()) for r in expected.values()))
        if mismatch is not None:
            report.mismatches.append({"network": label, **mismatch.__dict__, "text": str(mismatch)})
        if progress is not None:
            progress()
    return report
