"""Input augmentation of spike samples (event lists), drawn per sample and per epoch.

Every transform works on one sample's ``(steps, units)`` arrays with vectorised numpy (no loop over
spikes). The random numbers of sample ``i`` in epoch ``e`` of a run with seed ``s`` come from
``numpy.random.default_rng([s, e, i, AUGMENT_STREAM])``: they depend on neither the batch nor the
order of the epoch, so a resumed run sees exactly the augmented samples of an uninterrupted one.

The transforms, in the order they are applied (units: steps of the data's ``dt`` and channels):

- ``blend`` (probability per sample): mlGeNN's / genn_eventprop's "blend". A partner of the same
  class is drawn from the set; both samples are moved onto their common mean channel and mean
  step (each by the rounded difference of its own means), and each spike of either is kept with
  probability 1/2. The union replaces the sample.
- ``channel_shift`` (channels, integer): every spike moves by one shift drawn uniformly from
  ``[-channel_shift, channel_shift]``. Edge handling: spikes shifted below channel 0 or to
  ``n_channels`` and beyond are dropped (no wrap-around, no clamping; wrapping would put
  low-frequency energy into high channels, clamping would pile spikes onto the edge channel).
- ``time_stretch`` (relative): every step ``t`` becomes ``round(t * f)`` with ``f`` drawn
  uniformly from ``[1 - time_stretch, 1 + time_stretch]`` (stretching about step 0, the trial
  onset).
- ``time_shift`` (steps, integer): every spike moves by one shift drawn uniformly from
  ``[-time_shift, time_shift]``.
- ``jitter`` (steps, std): each spike moves by its own ``round(N(0, jitter))``.
- ``delete`` (probability): each spike is removed independently with this probability.

Spikes that end outside ``[0, n_steps)`` are dropped; spikes that land on the same (step,
channel) merge (spikes are binary, :class:`~neurodeploy.spikes.SpikeData`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neurodeploy.spikes import SpikeData

__all__ = ["AUGMENT_STREAM", "AugmentParams", "Augmenter", "augment_sample"]

#: Last word of every augmentation seed, so its stream differs from the run's other
#: ``[seed, epoch, ...]`` streams (shuffle, weight noise).
AUGMENT_STREAM = 0xA06


@dataclass(frozen=True)
class AugmentParams:
    """Strengths of each transform; 0 switches it off (see the module docstring for units)."""

    channel_shift: int = 0
    time_shift: int = 0
    time_stretch: float = 0.0
    blend: float = 0.0
    delete: float = 0.0
    jitter: float = 0.0

    @property
    def enabled(self) -> bool:
        return any(
            (
                self.channel_shift,
                self.time_shift,
                self.time_stretch,
                self.blend,
                self.delete,
                self.jitter,
            )
        )


def _centre(steps: NDArray, units: NDArray, to_step: float, to_unit: float) -> tuple:
    """``(steps, units)`` moved so that their means become ``(to_step, to_unit)`` (rounded)."""
    if len(steps) == 0:
        return steps, units
    return (
        steps + round(float(to_step - steps.mean())),
        units + round(float(to_unit - units.mean())),
    )


def augment_sample(
    steps: NDArray[np.integer],
    units: NDArray[np.integer],
    params: AugmentParams,
    rng: np.random.Generator,
    *,
    n_channels: int,
    n_steps: int,
    partner: tuple[NDArray[np.integer], NDArray[np.integer]] | None = None,
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """One sample augmented: ``(steps, units)``, int32, shape (n_events,), sorted by (step, unit).

    ``steps``, ``units``: the sample's spikes (time steps, channels). ``partner``: the same-class
    sample blended in when the ``blend`` draw says so (None: no blend). Every draw is made
    whether or not its transform is on, in a fixed order, so that switching one transform on or
    off does not change the others' draws.
    """
    s = np.asarray(steps, dtype=np.int64)
    u = np.asarray(units, dtype=np.int64)
    do_blend = rng.random() < params.blend
    if do_blend and partner is not None:
        ps = np.asarray(partner[0], dtype=np.int64)
        pu = np.asarray(partner[1], dtype=np.int64)
        if len(s) and len(ps):
            mean_step = 0.5 * (s.mean() + ps.mean())
            mean_unit = 0.5 * (u.mean() + pu.mean())
            s, u = _centre(s, u, mean_step, mean_unit)
            ps, pu = _centre(ps, pu, mean_step, mean_unit)
        keep = rng.random(len(s)) < 0.5
        keep_p = rng.random(len(ps)) < 0.5
        s = np.concatenate([s[keep], ps[keep_p]])
        u = np.concatenate([u[keep], pu[keep_p]])
    shift_c = int(rng.integers(-params.channel_shift, params.channel_shift + 1))
    stretch = 1.0 + params.time_stretch * (2.0 * rng.random() - 1.0)
    shift_t = int(rng.integers(-params.time_shift, params.time_shift + 1))
    if shift_c:
        u = u + shift_c
    if params.time_stretch:
        s = np.rint(s * stretch).astype(np.int64)
    if shift_t:
        s = s + shift_t
    if params.jitter:
        s = s + np.rint(params.jitter * rng.standard_normal(len(s))).astype(np.int64)
    keep = (s >= 0) & (s < n_steps) & (u >= 0) & (u < n_channels)
    if params.delete:
        keep &= rng.random(len(s)) >= params.delete
    key = np.unique(s[keep] * n_channels + u[keep])
    return (key // n_channels).astype(np.int32), (key % n_channels).astype(np.int32)


class Augmenter:
    """Augmented batches of one data set (the training split of a run).

    ``augmenter.batch(idx, seed=s, epoch=e)`` returns a :class:`SpikeData` of ``len(idx)``
    samples: sample ``idx[k]`` of the set, augmented with the draws of ``[s, e, idx[k]]``, with
    its label. Blend partners are drawn among the other samples of the same class.
    """

    def __init__(self, params: AugmentParams, spikes: SpikeData) -> None:
        self.params = params
        self.spikes = spikes
        labels = spikes.labels
        self._by_class = {int(c): np.flatnonzero(labels == c) for c in np.unique(labels)}

    def sample(
        self, i: int, *, seed: int, epoch: int
    ) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """Sample ``i`` augmented for ``epoch`` of a run with ``seed`` (steps, units)."""
        rng = np.random.default_rng([seed, epoch, int(i), AUGMENT_STREAM])
        partner = None
        if self.params.blend:
            same = self._by_class[int(self.spikes.labels[i])]
            others = same[same != i]
            # the partner draw is its own stream, so it does not move the transforms' draws
            prng = np.random.default_rng([seed, epoch, int(i), AUGMENT_STREAM, 1])
            if len(others):
                partner = self.spikes.sample(int(others[prng.integers(len(others))]))
        steps, units = self.spikes.sample(int(i))
        return augment_sample(
            steps,
            units,
            self.params,
            rng,
            n_channels=self.spikes.n_channels,
            n_steps=self.spikes.n_steps,
            partner=partner,
        )

    def batch(self, idx: NDArray[np.integer], *, seed: int, epoch: int) -> SpikeData:
        """The samples ``idx`` augmented for ``epoch`` (a SpikeData of ``len(idx)`` samples)."""
        parts = [self.sample(int(i), seed=seed, epoch=epoch) for i in idx]
        sizes = np.fromiter((len(p[0]) for p in parts), dtype=np.int64, count=len(parts))
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        empty = np.zeros(0, np.int32)
        return SpikeData(
            steps=np.concatenate([p[0] for p in parts]) if parts else empty,
            units=np.concatenate([p[1] for p in parts]) if parts else empty,
            offsets=offsets,
            labels=self.spikes.labels[np.asarray(idx, dtype=np.int64)],
            n_channels=self.spikes.n_channels,
            n_steps=self.spikes.n_steps,
        )
