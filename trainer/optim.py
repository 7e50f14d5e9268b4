"""Adam with one learning rate per parameter group (weights, delays), and decoupled weight decay
(AdamW, Loshchilov & Hutter)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["Adam"]


@dataclass
class Adam:
    """Adam (Kingma & Ba) over a list of arrays, updated in place by :meth:`step`.

    ``m``, ``v`` and ``t`` are the state stored in checkpoints.
    """

    shapes: list[tuple[int, ...]]
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: list[NDArray[np.float64]] = field(default_factory=list)
    v: list[NDArray[np.float64]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.m:
            self.m = [np.zeros(s) for s in self.shapes]
            self.v = [np.zeros(s) for s in self.shapes]

    def step(
        self,
        params: list[NDArray[np.float64]],
        grads: list[NDArray[np.float64]],
        lr: float | list[float],
        decay: float = 0.0,
    ) -> None:
        """One update of ``params`` (in place) with learning rate ``lr`` (one per array, or one
        for all).

        ``decay`` (unitless, per step): decoupled weight decay, ``p -= decay * p`` before the
        Adam step, independent of the gradient and of each array's units (AdamW's ``lr *
        weight_decay``); 0 leaves the update exactly plain Adam's."""
        rates = lr if isinstance(lr, list) else [lr] * len(params)
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        for p, g, m, v, rate in zip(params, grads, self.m, self.v, rates, strict=True):
            if decay:
                p -= decay * p
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            p -= rate * (m / c1) / (np.sqrt(v / c2) + self.eps)
