"""What a sweep runs: seeds, a grid or a sampled search over config fields, one trial each.

A *setting* is an ordered mapping ``section.field -> value text`` (the TOML text given after ``=``
in ``--set``); a *trial* is one setting with one seed. Each trial has a directory of its own,
``OUT/trials/<setting>/seed<N>``, named from the setting alone, so rerunning the same command finds
the same directories (sampled settings are drawn from ``--sample-seed``, so they repeat too).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurodeploy.errors import ConfigError

__all__ = [
    "TrialSpec",
    "combine",
    "grid_settings",
    "parse_assignment",
    "parse_seeds",
    "plan_trials",
    "sample_settings",
    "setting_label",
    "setting_name",
    "split_values",
]

#: Settings whose name would be longer than this are named by a hash of their text.
_MAX_NAME = 80


@dataclass(frozen=True)
class TrialSpec:
    """Everything a trial needs, as plain data (it travels to a Ray worker)."""

    config: str  # absolute path of the TOML config
    overrides: tuple[str, ...]  # base --set items, then the setting's, as section.field=value
    setting: dict[str, str]  # the varied fields of this trial: section.field -> value text
    seed: int
    run_dir: str  # absolute; OUT/trials/<setting>/seed<N>
    targets: tuple[str, ...] = ()
    finetune: tuple[str, ...] = ()  # targets fine-tuned (config's [finetune]) before quantizing
    sensitivity: bool = False  # also count flips on borderline test samples (slower)
    cpus: int = 1  # Numba threads
    cwd: str = field(default_factory=lambda: str(Path.cwd()))  # relative data paths resolve here

    @property
    def name(self) -> str:
        return f"{setting_name(self.setting)}/seed{self.seed}"

    @property
    def row_path(self) -> Path:
        return Path(self.run_dir) / "row.json"


def parse_seeds(text: str) -> list[int]:
    """``"0-15"``, ``"0,3,5"`` or ``"0-3,8"`` → sorted unique seeds (ConfigError otherwise)."""
    seeds: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ConfigError(f"--seeds {text!r}: expected e.g. 0-15 or 0,3,5")
        lo, hi = int(m[1]), int(m[2] if m[2] is not None else m[1])
        if hi < lo:
            raise ConfigError(f"--seeds {text!r}: {lo}-{hi} is an empty range")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def split_values(text: str) -> list[str]:
    """Split on commas outside brackets, braces and quotes: ``[128],[256]`` → two values."""
    values, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    return values


def parse_assignment(item: str, option: str) -> tuple[str, str]:
    """``section.field=text`` → (key, text); ConfigError naming ``option`` otherwise."""
    key, eq, text = item.partition("=")
    key = key.strip()
    if not eq or not re.fullmatch(r"[A-Za-z_]\w*\.[A-Za-z_]\w*", key) or not text.strip():
        raise ConfigError(f"{option} {item!r}: expected section.field=value")
    return key, text.strip()


def grid_settings(items: list[str]) -> list[dict[str, str]]:
    """The product of ``--grid section.field=v1,v2,...`` items, in the order given."""
    axes: list[tuple[str, list[str]]] = []
    for item in items:
        key, text = parse_assignment(item, "--grid")
        values = split_values(text)
        if any(not v for v in values):
            raise ConfigError(f"--grid {item!r}: an empty value")
        if key in (k for k, _ in axes):
            raise ConfigError(f"--grid {key}: given twice")
        axes.append((key, values))
    keys = [k for k, _ in axes]
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))
    ]


def _sampler(item: str):
    key, text = parse_assignment(item, "--sample")
    kind, colon, args = text.partition(":")
    values = split_values(args) if colon else []
    if kind == "choice" and values and all(values):
        return key, lambda rng: values[int(rng.integers(len(values)))]
    if kind in ("uniform", "loguniform", "randint") and len(values) == 2:
        try:
            lo, hi = (float(v) for v in values)
        except ValueError:
            lo, hi = math.nan, math.nan
        if lo < hi and (kind != "loguniform" or lo > 0):
            if kind == "uniform":
                return key, lambda rng: f"{rng.uniform(lo, hi):.6g}"
            if kind == "loguniform":
                return key, lambda rng: f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.6g}"
            return key, lambda rng: str(int(rng.integers(int(lo), int(hi) + 1)))
    raise ConfigError(
        f"--sample {item!r}: expected section.field=uniform:LO,HI, loguniform:LO,HI (LO > 0), "
        "randint:LO,HI or choice:V1,V2,..."
    )


def sample_settings(items: list[str], n: int, seed: int) -> list[dict[str, str]]:
    """``n`` settings drawn from ``--sample`` distributions (repeatable for one ``seed``)."""
    samplers = [_sampler(item) for item in items]
    rng = np.random.default_rng(seed)
    return [{key: draw(rng) for key, draw in samplers} for _ in range(n)]


def combine(grid: list[dict[str, str]], samples: list[dict[str, str]]) -> list[dict[str, str]]:
    """Every grid setting with every sampled one (either may be absent)."""
    overlap = set(grid[0] if grid else ()) & set(samples[0] if samples else ())
    if overlap:
        raise ConfigError(f"{sorted(overlap)[0]}: both in --grid and in --sample")
    return [g | s for g in (grid or [{}]) for s in (samples or [{}])]


def setting_label(setting: dict[str, str]) -> str:
    """A setting as people read it: ``model.hidden=[128], train.lr=0.01`` (``base``: none)."""
    return ", ".join(f"{k}={v}" for k, v in setting.items()) or "base"


def setting_name(setting: dict[str, str]) -> str:
    """A directory name for a setting: ``train.lr=0.01,model.hidden=[128]`` made path-safe
    (``base`` for the config as it is), or a hash when that would be long."""
    if not setting:
        return "base"
    text = ",".join(f"{k}={v}" for k, v in setting.items())
    name = re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        name = f"{name[: _MAX_NAME - 14]}~{digest}"
    return name


def plan_trials(
    config: Path,
    out: Path,
    *,
    seeds: list[int],
    settings: list[dict[str, str]],
    overrides: list[str],
    targets: tuple[str, ...],
    finetune: tuple[str, ...],
    sensitivity: bool,
    cpus: int,
) -> list[TrialSpec]:
    """One :class:`TrialSpec` per setting and seed (settings outer, seeds inner)."""
    names = [setting_name(s) for s in settings]
    if len(set(names)) != len(names):
        raise ConfigError("two settings of the sweep are the same")
    return [
        TrialSpec(
            config=str(config.resolve()),
            overrides=(*overrides, *(f"{k}={v}" for k, v in setting.items())),
            setting=setting,
            seed=seed,
            run_dir=str((out / "trials" / name / f"seed{seed}").resolve()),
            targets=targets,
            finetune=finetune,
            sensitivity=sensitivity,
            cpus=cpus,
        )
        for setting, name in zip(settings, names, strict=True)
        for seed in seeds
    ]
