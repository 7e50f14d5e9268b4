"""The dataset record, the time grid, and option checks shared by every loader.

Each ``check_*`` returns the checked value or, for a bad one, raises a one-line ConfigError; given
a :class:`~neurodeploy.validation.Problems` it records the line there and returns None instead,
so a loader reports every bad option at once.

Time-grid rules (one definition for every dataset):

- A trial of ``t_max_ms`` at step ``dt_ms`` has ``n_steps = ceil(t_max_ms / dt_ms)`` steps
  (:func:`n_steps_for`; a ratio within 1e-12 of an integer counts as that integer).
- Recorded spike times (SHD/SSC files) are binned down: a spike at ``t`` goes to step
  ``floor(t / dt)``; a spike stored as the float nearest to ``k * dt`` goes to step ``k``
  (:func:`bin_seconds`). Spikes at or after ``n_steps * dt`` are dropped and two spikes of one
  channel in one step merge (``SpikeData`` spikes are binary).
- Generated latencies (Yin-Yang, digits, sequence detection) are rounded to the nearest step,
  half up (:func:`round_ms_to_steps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import Problems

__all__ = [
    "MAX_CLASSES",
    "MAX_STEPS",
    "Dataset",
    "bin_seconds",
    "class_counts",
    "n_steps_for",
    "round_ms_to_steps",
]

#: Most steps a trial may have (SpikeData stores steps as int32).
MAX_STEPS = 2**31 - 1
#: Most classes a dataset may have: per-class lists are built, so a damaged label or
#: ``n_classes`` of 1e9 must be an error, not an allocation that runs for minutes.
MAX_CLASSES = 65536
_RATIO_TOL = 1e-12
# A stored time this many units in the last place below a grid point k*dt still counts as k*dt.
_ULPS = 4
# ... but never more than half a step (matters only for float16 times).
_MAX_TOL_STEPS = 0.5


@dataclass(frozen=True)
class Dataset:
    """Spike-encoded samples of one split, with everything needed to reproduce them.

    Parameters
    ----------
    name : str
        Canonical spec, e.g. ``"yinyang:train"`` or ``"shd:/data/shd_train.h5"``.
    spikes : SpikeData
        The samples (event lists, ``n_channels`` inputs, ``n_steps`` steps) and their labels.
    n_classes : int
        Number of classes; every label is in ``[0, n_classes)``.
    dt_ms : float, ms
        Time step the spikes are binned at.
    info : dict
        Provenance, JSON-serialisable: source, split, seed, encoding parameters, ``t_max_ms``,
        ``class_counts``, dropped/merged event counts.
    """

    name: str
    spikes: SpikeData
    n_classes: int
    dt_ms: float
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.spikes)

    @property
    def n_channels(self) -> int:
        return self.spikes.n_channels

    @property
    def n_steps(self) -> int:
        return self.spikes.n_steps


def n_steps_for(t_max_ms: float, dt_ms: float, problems: Problems | None = None) -> int | None:
    """Number of steps covering a trial of ``t_max_ms``: ``ceil(t_max_ms / dt_ms)``.

    A ratio within 1e-12 (relative) of an integer counts as that integer, so
    ``n_steps_for(1.1, 0.1) == 11`` despite float rounding. With ``problems``, bad values are
    recorded there and None is returned instead of raising.

    Raises
    ------
    ConfigError
        If either value is not a finite number > 0, or the trial has more than
        :data:`MAX_STEPS` steps; one line per problem.
    """
    found = Problems() if problems is None else problems
    t_max = check_float("t_max_ms", t_max_ms, positive=True, problems=found)
    dt = check_float("dt_ms", dt_ms, positive=True, problems=found)
    n_steps = None
    if t_max is not None and dt is not None:
        ratio = t_max / dt
        n_steps = max(1, math.ceil(ratio - _RATIO_TOL * max(1.0, ratio)))
        if n_steps > MAX_STEPS:
            found.add(
                "",
                f"t_max_ms / dt_ms = {t_max:g} / {dt:g} gives {n_steps} steps; at most {MAX_STEPS}",
            )
            n_steps = None
    if problems is None:
        found.raise_if_any(ConfigError)
    return n_steps


def bin_seconds(times_s: NDArray[np.floating], dt_ms: float) -> NDArray[np.int64]:
    """Step index ``floor(t / dt)`` of each recorded spike time (seconds).

    A time stored as the float nearest to ``k * dt``, or up to 4 units in the last place of its
    dtype below it, goes to step ``k``: float rounding in a file never moves a spike to the
    previous step. (For float32 seconds that window is under 0.7 us at t <= 1.4 s.)

    Parameters
    ----------
    times_s : float ndarray, shape (n,), s
        Finite, non-negative spike times, any float dtype.
    dt_ms : float, ms
    """
    times_s = np.asarray(times_s)
    eps = float(np.finfo(times_s.dtype).eps) if times_s.dtype.kind == "f" else 0.0
    # Capped far below int64's limit, so a huge time stays a huge step (dropped beyond the trial
    # or refused beyond MAX_STEPS) instead of wrapping to a negative one.
    x = np.minimum(times_s.astype(np.float64) * (1000.0 / dt_ms), 2.0**62)
    tol = np.minimum((_ULPS * eps + 4 * np.finfo(np.float64).eps) * x, _MAX_TOL_STEPS)
    return np.floor(x + tol).astype(np.int64)


def round_ms_to_steps(times_ms: NDArray[np.floating], dt_ms: float) -> NDArray[np.int64]:
    """Nearest step (half up) of generated spike times in ms."""
    return np.floor(np.asarray(times_ms, dtype=np.float64) / dt_ms + 0.5).astype(np.int64)


def class_counts(labels: NDArray[np.integer], n_classes: int) -> list[int]:
    """Samples per class, as a JSON-friendly list (``n_classes`` <= :data:`MAX_CLASSES`)."""
    if not 1 <= n_classes <= MAX_CLASSES:
        raise ConfigError(f"n_classes must be in [1, {MAX_CLASSES}], got {n_classes}")
    return [int(c) for c in np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes)]


def _report(problems: Problems | None, line: str) -> None:
    """Record ``line`` in ``problems``, or raise it as a ConfigError when there is no collector."""
    if problems is None:
        raise ConfigError(line)
    problems.add("", line)


def check_float(
    name: str,
    value: Any,
    *,
    positive: bool = False,
    non_negative: bool = False,
    where: str = "",
    problems: Problems | None = None,
) -> float | None:
    """``value`` as a finite float; else the line ``"<where>: <name> must be ..."``, raised as a
    :class:`ConfigError`, or recorded in ``problems`` (and None returned) when given."""
    prefix = f"{where}: " if where else ""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    number = float(value) if ok else math.nan
    if not math.isfinite(number) or (positive and number <= 0) or (non_negative and number < 0):
        need = "> 0" if positive else ">= 0" if non_negative else "finite"
        _report(problems, f"{prefix}{name} must be a finite number {need}, got {value!r}")
        return None
    return number


def check_latency_window(
    t_early_ms: Any, t_late_ms: Any, where: str, problems: Problems
) -> tuple[float | None, float | None]:
    """The window of a latency code: both times finite and >= 0 and ``t_late_ms > t_early_ms``;
    problems are recorded in ``problems`` (and None returned for a bad time)."""
    early = check_float("t_early_ms", t_early_ms, non_negative=True, where=where, problems=problems)
    late = check_float("t_late_ms", t_late_ms, non_negative=True, where=where, problems=problems)
    if early is not None and late is not None and late <= early:
        problems.add(where, f"t_late_ms must be > t_early_ms = {early:g}, got {late:g}")
    return early, late


def check_int(
    name: str, value: Any, *, minimum: int, where: str = "", problems: Problems | None = None
) -> int | None:
    """``value`` as an int ``>= minimum``; else one line, raised or recorded (see
    :func:`check_float`)."""
    prefix = f"{where}: " if where else ""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or int(value) < minimum:
        _report(problems, f"{prefix}{name} must be an integer >= {minimum}, got {value!r}")
        return None
    return int(value)


def check_bool(
    name: str, value: Any, *, where: str = "", problems: Problems | None = None
) -> bool | None:
    """``value`` as a bool; else one line, raised or recorded (see :func:`check_float`)."""
    if not isinstance(value, bool | np.bool_):
        prefix = f"{where}: " if where else ""
        _report(problems, f"{prefix}{name} must be true or false, got {value!r}")
        return None
    return bool(value)


def check_last_step(
    last_ms: float,
    n_steps: int,
    dt_ms: float,
    what: str,
    where: str,
    problems: Problems | None = None,
) -> None:
    """One line, raised or recorded, if a generated spike at ``last_ms`` falls outside the trial."""
    last_step = int(round_ms_to_steps(np.array([last_ms]), dt_ms)[0])
    if last_step >= n_steps:
        _report(
            problems,
            f"{where}: {what} = {last_ms:g} ms falls on step {last_step}, outside the trial of "
            f"{n_steps} steps (t_max_ms = {n_steps * dt_ms:g}); raise t_max_ms or lower {what}",
        )
