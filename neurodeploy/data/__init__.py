"""Datasets as spike trains on the step grid: one entry point, :func:`load_dataset`.

Specs:

- ``yinyang:train|validation|test``: reference Yin-Yang, latency-coded (:mod:`.yinyang`)
- ``shd:PATH``: any file in the SHD/SSC layout, binned at ``dt_ms`` (:mod:`.shd`)
- ``seqdetect:train|test``: order-of-two-spikes task of MKN25 (:mod:`.seqdetect`)
- ``digits:train|test``: scikit-learn 8x8 digits, latency-coded (:mod:`.digits`)

Every loader returns a :class:`Dataset` whose ``spikes`` is a :class:`neurodeploy.spikes.SpikeData`.
Time-grid rules are in :mod:`.base`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from neurodeploy.data import digits, seqdetect, shd, yinyang
from neurodeploy.data.base import Dataset, check_int, n_steps_for
from neurodeploy.errors import ConfigError, ModelFileError, NeurodeployError
from neurodeploy.network import Network
from neurodeploy.validation import Problems, require_channels

__all__ = ["SPECS", "Dataset", "load_dataset", "model_dataset", "n_steps_for"]

_LOADERS: dict[str, Callable[..., Dataset]] = {
    "yinyang": yinyang.load,
    "shd": shd.load,
    "seqdetect": seqdetect.load,
    "digits": digits.load,
}
#: Accepted spec forms, for messages and help texts.
SPECS = "yinyang:train|validation|test, shd:PATH, seqdetect:train|test, digits:train|test"
_COMMON = {"dt_ms", "t_max_ms", "seed"}


def _options(kind: str) -> list[str]:
    params = inspect.signature(_LOADERS[kind]).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in _COMMON]


def load_dataset(
    spec: str,
    *,
    dt_ms: float,
    t_max_ms: float | None = None,
    seed: int = 0,
    **options: Any,
) -> Dataset:
    """Load the dataset named by ``spec`` as spikes binned at ``dt_ms``.

    Parameters
    ----------
    spec : str
        ``kind:argument``, one of :data:`SPECS`.
    dt_ms : float, ms
        Time step.
    t_max_ms : float, ms, optional
        Trial length (``n_steps = ceil(t_max_ms / dt_ms)``); each dataset's default when None.
    seed : int
        Random seed of generated datasets (Yin-Yang, sequence detection); files and the fixed
        digits split ignore it.
    **options
        Dataset-specific keyword options (see each loader, e.g. ``bias=True`` for Yin-Yang).

    Raises
    ------
    ConfigError
        Bad spec, unknown option or bad value, missing file.
    ModelFileError
        A file whose content breaks the SHD layout.
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise ConfigError(f"dataset spec must be one of {SPECS}, got {spec!r}")
    kind, _, argument = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in _LOADERS:
        raise ConfigError(
            f"dataset spec {spec!r}: unknown dataset {kind!r}; expected one of {SPECS}"
        )
    if not argument:
        raise ConfigError(
            f"dataset spec {spec!r}: missing split or path after ':'; expected one of {SPECS}"
        )
    if kind == "shd" and not os.path.isfile(os.path.expanduser(argument)):
        # The file is the first thing to fix: options meant for another dataset come after.
        raise ConfigError(f"dataset {spec!r}: {argument}: no such file")
    allowed = _options(kind)
    unknown = sorted(set(options) - set(allowed))
    problems = Problems()
    if unknown:
        problems.add(
            f"dataset {spec!r}",
            f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(allowed) or 'none'}",
        )
    n_steps_for(1.0 if t_max_ms is None else t_max_ms, dt_ms, problems)  # checks both values
    seed = check_int("seed", seed, minimum=0, where=f"dataset {spec!r}", problems=problems)
    problems.raise_if_any(ConfigError)  # then the loader checks its own options, all at once
    try:
        return _LOADERS[kind](argument, dt_ms=float(dt_ms), t_max_ms=t_max_ms, seed=seed, **options)
    except NeurodeployError:
        raise
    except Exception as exc:  # h5py and numpy raise many kinds on a damaged file
        if kind != "shd":
            raise
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ModelFileError(
            f"{argument}: damaged or unreadable SHD-layout file ({detail})"
        ) from None


def model_dataset(spec: str, network: Network, *, max_samples: int | None = None) -> Dataset:
    """Load ``spec`` as the model saw its data at training: the network's ``dt_ms``, and the trial
    length, seed and (for the same kind of dataset) loader options of ``metadata["config"]["data"]``.

    Keeps the first ``max_samples`` samples when given. NetworkError when the dataset's channels
    do not fit the network's input populations (:func:`neurodeploy.validation.require_channels`).
    """
    config = network.metadata.get("config", {})
    recorded = dict(config.get("data", {})) if isinstance(config, Mapping) else {}
    same_kind = _kind(spec) == _kind(str(recorded.get("train", "")))
    dataset = load_dataset(
        spec,
        dt_ms=network.dt_ms,
        t_max_ms=recorded.get("t_max_ms") or None,
        seed=int(recorded.get("seed", 0)),
        **(dict(recorded.get("options", {})) if same_kind else {}),
    )
    require_channels(network, dataset.spikes, f"dataset {spec!r}")
    _require_labels(network, dataset, spec)
    if max_samples is not None and max_samples < len(dataset):
        dataset = replace(dataset, spikes=dataset.spikes.subset(slice(0, max_samples)))
    return dataset


def _require_labels(network: Network, dataset: Dataset, spec: str) -> None:
    """ConfigError (one line) for an empty dataset or labels the model cannot output."""
    if len(dataset) == 0:
        raise ConfigError(f"dataset {spec!r}: has no samples; nothing to evaluate")
    if network.readout is None:
        return
    n_out = network.population(network.output_population).size
    labels = dataset.spikes.labels
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= n_out:
        raise ConfigError(
            f"dataset {spec!r}: labels must be in [0, {n_out - 1}] (the model's "
            f"{n_out} output neurons, population {network.output_population}), got {lo}..{hi}"
        )


def _kind(spec: str) -> str:
    return spec.partition(":")[0].strip().lower()
