"""The datasets of a training run: loaded from the config's specs and checked against the model."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.config import Config

__all__ = ["TrainingData", "fingerprint", "grouped_split", "load_data", "stratified_split"]


def grouped_split(
    groups: NDArray[np.integer], fraction: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(train, validation) sample indices, sorted: whole groups (e.g. speakers), taken in the
    order of ``default_rng([seed, VALIDATION_STREAM])``, until at least ``fraction`` of the
    samples are held out (at least one group, never all)."""
    groups = np.asarray(groups)
    names = np.unique(groups)
    order = np.random.default_rng([seed, VALIDATION_STREAM]).permutation(len(names))
    held: list = []
    n_held = 0
    for k in order[: max(1, len(names) - 1)]:
        if held and n_held >= fraction * len(groups):
            break
        held.append(names[k])
        n_held += int((groups == names[k]).sum())
    mask = np.isin(groups, held)
    return np.flatnonzero(~mask).astype(np.int64), np.flatnonzero(mask).astype(np.int64)


def stratified_split(
    labels: NDArray[np.integer], fraction: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(train, validation) sample indices, sorted: ``round(fraction * n_c)`` samples of each class
    ``c`` (at least one where ``n_c >= 2``, never all of a class) drawn for validation with
    ``default_rng([seed, VALIDATION_STREAM])``."""
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, VALIDATION_STREAM])
    held: list[NDArray[np.int64]] = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = round(fraction * len(members))
        k = min(max(k, 1 if len(members) >= 2 else 0), len(members) - 1)
        held.append(rng.permutation(members)[:k])
    validation = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(len(labels)), validation)
    return train.astype(np.int64), validation.astype(np.int64)


#: Last word of the validation split's seed (a stream of its own).
VALIDATION_STREAM = 0x5A1


@dataclass(frozen=True)
class TrainingData:
    train: SpikeData
    validation: SpikeData | None
    test: SpikeData | None
    n_inputs: int
    n_classes: int
    names: dict[str, str]
    #: SHA-256 of every split's spikes, labels and shape (:func:`fingerprint`); stored in each
    #: checkpoint so that a run resumes only on the data it started with.
    fingerprint: str = field(default="")


def fingerprint(sets: dict[str, SpikeData | None]) -> str:
    """SHA-256 (hex) of the samples of each named split: events, offsets, labels, shape."""
    h = hashlib.sha256()
    for key in sorted(sets):
        s = sets[key]
        if s is None:
            continue
        h.update(f"{key}:{s.n_channels}:{s.n_steps}:{len(s)}\0".encode())
        for array in (s.steps, s.units, s.offsets, s.labels):
            a = np.ascontiguousarray(array)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def load_data(config: Config) -> TrainingData:
    """Load and check the datasets of ``config`` (ConfigError on any problem)."""
    from neurodeploy.data import load_dataset

    d = config.data
    t_max = d.t_max_ms or None

    def load(spec: str):
        return load_dataset(spec, dt_ms=d.dt_ms, t_max_ms=t_max, seed=d.seed, **d.options)

    train = load(d.train)
    spikes = train.spikes
    if d.max_train_samples:
        spikes = spikes.subset(np.arange(min(d.max_train_samples, len(spikes))))
    sets = {"train": spikes}
    names = {"train": train.name}
    if d.validation_fraction:
        if d.validation_by == "speaker":
            from neurodeploy.data.shd import read_extra

            speakers = read_extra(d.train.partition(":")[2], "speaker")[: len(spikes)]
            if len(speakers) != len(spikes):
                raise ConfigError(
                    f"{train.name}: extra/speaker has {len(speakers)} entries for {len(spikes)} "
                    "samples"
                )
            keep, held = grouped_split(speakers, d.validation_fraction, d.seed)
        else:
            keep, held = stratified_split(spikes.labels, d.validation_fraction, d.seed)
        if len(keep) == 0 or len(held) == 0:
            raise ConfigError(
                f"{train.name}: data.validation_fraction = {d.validation_fraction} leaves "
                f"{len(keep)} training and {len(held)} validation samples"
            )
        sets = {"train": spikes.subset(keep), "validation": spikes.subset(held)}
        names["validation"] = (
            f"{train.name} (validation split {d.validation_fraction:g} by {d.validation_by})"
        )
    n_classes = train.n_classes
    n_channels = spikes.n_channels
    for key in ("validation", "test"):
        spec = getattr(d, key)
        if spec:
            ds = load(spec)
            sets[key] = ds.spikes
            names[key] = ds.name
            n_classes = max(n_classes, ds.n_classes)
            n_channels = max(n_channels, ds.spikes.n_channels)
    n_in = config.model.n_inputs or n_channels
    n_out = config.model.n_outputs or n_classes
    for key, s in sets.items():
        spec = names[key]
        if s.n_events and int(s.units.max()) >= n_in:
            raise ConfigError(
                f"{spec}: spike unit {int(s.units.max())} is beyond the {n_in} input channels (model.n_inputs)"
            )
        if len(s) and (int(s.labels.min()) < 0 or int(s.labels.max()) >= n_out):
            raise ConfigError(
                f"{spec}: labels must be in [0, {n_out - 1}] (model.n_outputs), got "
                f"{int(s.labels.min())}..{int(s.labels.max())}"
            )
        if len(s) == 0:
            raise ConfigError(f"{spec}: the data set is empty")
        if s.n_channels != n_in:
            s = SpikeData(s.steps, s.units, s.offsets, s.labels, n_in, s.n_steps)
            sets[key] = s
    return TrainingData(
        train=sets["train"],
        validation=sets.get("validation"),
        test=sets.get("test"),
        n_inputs=n_in,
        n_classes=n_out,
        names=names,
        fingerprint=fingerprint(sets),
    )
