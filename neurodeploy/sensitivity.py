"""How stable a float model's decisions are: classification under tiny random weight noise.

A deployed model is judged by its accuracy next to the float model's. A recurrent spiking network
can change some decisions under weight noise several times finer than any hardware grid (relative
1e-3, against about 0.7 % for an 8-bit grid): one neuron crosses threshold a step earlier and the
difference spreads. Such *borderline* samples flip
under any quantization, so on a small test set the float model's own accuracy is only known to
within the spread it shows under this noise. :func:`sensitivity` measures that spread and names the
borderline samples, so that a float-vs-hardware gap can be told apart from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError
from neurodeploy.evaluation import evaluate
from neurodeploy.network import Network
from neurodeploy.spikes import SpikeData

__all__ = ["Sensitivity", "perturbed", "sensitivity"]


@dataclass(frozen=True)
class Sensitivity:
    """Decisions of one float model and of copies with perturbed weights.

    Parameters
    ----------
    relative_noise : float
        Standard deviation of the multiplicative weight noise (1e-3: each weight times 1 + 1e-3 z).
    reference : int64 ndarray, shape (n_samples,)
        Predictions of the unperturbed model.
    predicted : int64 ndarray, shape (draws, n_samples)
        Predictions of each perturbed copy.
    labels : int64 ndarray, shape (n_samples,)
    """

    relative_noise: float
    reference: NDArray[np.int64]
    predicted: NDArray[np.int64]
    labels: NDArray[np.int64]

    @property
    def accuracies(self) -> NDArray[np.float64]:
        """Accuracy of each perturbed copy, shape (draws,)."""
        return (self.predicted == self.labels[None, :]).mean(axis=1)

    @property
    def borderline(self) -> NDArray[np.bool_]:
        """Samples whose decision changes in at least one perturbed copy, shape (n_samples,)."""
        return (self.predicted != self.reference[None, :]).any(axis=0)

    def to_json(self) -> dict:
        acc = self.accuracies
        return {
            "relative_noise": self.relative_noise,
            "draws": len(acc),
            "accuracy": float((self.reference == self.labels).mean()),
            "accuracy_under_noise": {
                "min": float(acc.min()),
                "mean": float(acc.mean()),
                "max": float(acc.max()),
            },
            "borderline_samples": int(self.borderline.sum()),
            "n": len(self.labels),
        }


def perturbed(network: Network, relative_noise: float, rng: np.random.Generator) -> Network:
    """Copy of float ``network`` with every weight multiplied by ``1 + relative_noise * N(0, 1)``."""
    projections = tuple(
        replace(
            p, weights=p.weights * (1.0 + relative_noise * rng.standard_normal(p.weights.shape))
        )
        for p in network.projections
    )
    return replace(network, projections=projections)


def sensitivity(
    network: Network,
    spikes: SpikeData,
    *,
    relative_noise: float = 1e-3,
    draws: int = 8,
    seed: int = 0,
    reference: NDArray[np.int64] | None = None,
) -> Sensitivity:
    """Classify ``spikes`` with float ``network`` and with ``draws`` perturbed copies of it.

    Parameters
    ----------
    network : Network
        Float model with a readout rule (a hardware model: use ``neurodeploy.targets.dequantize`` first).
    spikes : SpikeData
        Labelled samples.
    relative_noise : float
        Noise level; the default, 1e-3, is several times finer than the typical relative error of
        an 8-bit weight grid (its step is 1/128 of the largest weight).
    draws : int
        Perturbed copies (each one float run of every sample).
    seed : int
        Seed of the noise: the result is deterministic.
    reference : int64 ndarray, shape (n_samples,), optional
        The unperturbed model's predictions, when the caller has them already.
    """
    if network.is_hardware:
        raise ConfigError(f"sensitivity needs a float model, got a {network.profile} model")
    if draws < 1 or relative_noise <= 0:
        raise ConfigError(
            f"draws must be >= 1 and relative_noise > 0, got {draws} and {relative_noise}"
        )
    rng = np.random.default_rng(seed)
    if reference is None:
        reference = evaluate(network, spikes).predicted
    predicted = np.stack(
        [evaluate(perturbed(network, relative_noise, rng), spikes).predicted for _ in range(draws)]
    )
    return Sensitivity(
        relative_noise=relative_noise,
        reference=reference,
        predicted=predicted,
        labels=spikes.labels.astype(np.int64),
    )
