"""Random hardware models and inputs, and the emulator-vs-backend agreement check.

:func:`random_networks` draws from each target's own generator (``Target.random_network``, e.g.
:func:`~neurodeploy.targets.loihi2.random_networks.random_loihi2_network`, whose regimes make u
wrap and v saturate, or the float32 regimes of
:func:`~neurodeploy.targets.spinnaker2.random_networks.random_spinnaker2_network`), cycling through
the target's regimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from neurodeploy.emulator import run as emulate
from neurodeploy.network import Network
from neurodeploy.records import Mismatch, Recording, first_mismatch
from neurodeploy.spikes import SpikeData
from neurodeploy.targets import get_target

__all__ = ["AgreementReport", "check_agreement", "random_inputs", "random_networks"]


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


def random_networks(
    seed: int, count: int, *, n_steps: int = 64, n_samples: int = 2, profile: str = "loihi2"
) -> Iterator[tuple[int, Network, SpikeData]]:
    """``count`` (index, network, inputs) triples, reproducible from ``seed``; regimes cycle.

    ``profile`` is a registered target (:mod:`neurodeploy.targets`); its ``random_network``
    draws each network and its ``regimes`` cycle. ConfigError for an unknown profile.
    """
    target = get_target(profile)
    generator, regimes = target.random_network, target.regimes

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
