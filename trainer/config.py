"""Training configuration: TOML file -> frozen dataclasses, validated strictly.

Sections ``[data]``, ``[model]``, ``[loss]``, ``[train]``; every field has a default (see the
dataclasses). An optional ``[finetune]`` section holds ``[train]`` fields that replace ``[train]``'s
when a trained model is fine-tuned for a hardware target (:meth:`Config.for_finetuning`), so a
config carries its own fine-tuning recipe. Unknown fields and wrong types fail with ``ConfigError("file: section.field:
message")``. ``--set section.field=value`` overrides are parsed as TOML values (a value that is not
valid TOML is taken as a string, so ``--set data.train=shd:/x/train.h5`` works).

Weights in ``[model]`` are in threshold-normalised units: a weight ``w`` is stored as
``w * (1 - decay_mem) * (1 - decay_syn) * tau_syn_ms / dt_ms`` (the target population's decays),
so the same numbers work at any ``dt_ms`` (mlGeNN's scale). Delays are in time steps.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurodeploy.errors import ConfigError
from neurodeploy.readout import READOUTS

__all__ = [
    "Config",
    "DataConfig",
    "LossConfig",
    "ModelConfig",
    "TrainConfig",
    "config_to_dict",
    "load_config",
]


@dataclass(frozen=True)
class DataConfig:
    """Dataset specs (``neurodeploy.data.load_dataset``) and the time grid."""

    train: str = "yinyang:train"
    validation: str = ""  # "" = none
    test: str = ""  # "" = none
    dt_ms: float = 0.1
    t_max_ms: float = 0.0  # 0 = the dataset's default
    options: dict = field(default_factory=dict)  # dataset options, e.g. {bias = true}
    seed: int = 0  # seed of generated datasets
    max_train_samples: int = 0  # 0 = all


@dataclass(frozen=True)
class ModelConfig:
    """Architecture: input -> hidden (lif, optionally recurrent) ... -> output (li or lif)."""

    n_inputs: int = 0  # 0 = channels of the dataset
    n_outputs: int = 0  # 0 = classes of the dataset
    hidden: list = field(default_factory=lambda: [100])
    recurrent: bool = False
    output: str = "li"  # "li" | "lif"
    tau_mem_ms: float = 20.0
    tau_syn_ms: float = 5.0
    threshold: float = 1.0
    out_tau_mem_ms: float = 0.0  # 0 = tau_mem_ms
    out_tau_syn_ms: float = 0.0  # 0 = tau_syn_ms
    input_init: list = field(default_factory=lambda: [0.03, 0.01])  # normal [mean, std]
    hidden_init: list = field(default_factory=lambda: [0.0, 0.03])  # between hidden layers
    recurrent_init: list = field(default_factory=lambda: [0.0, 0.02])
    output_init: list = field(default_factory=lambda: [0.0, 0.03])
    max_delay_steps: int = 0  # feedforward projections
    recurrent_max_delay_steps: int = 0
    delay_init_steps: list = field(default_factory=lambda: [0.0, 0.0])  # uniform [lo, hi]
    recurrent_delay_init_steps: list = field(default_factory=lambda: [0.0, 0.0])
    # Decays are rounded to multiples of 1/decay_resolution (0 = exact exp(-dt/tau)). 4096 is
    # Loihi 2's 12-bit grid (also exact in SpiNNaker2's float32): quantization then keeps them.
    decay_resolution: int = 0


@dataclass(frozen=True)
class LossConfig:
    """Readout rule and loss settings (:mod:`neurodeploy.trainer.losses`)."""

    readout: str = "max_voltage"
    logit_scale: float = 1.0
    tau0_ms: float = 0.5
    tau1_ms: float = 6.4
    alpha: float = 3e-3
    phantom: float = 1.0
    reg_upper: float = 0.0
    reg_lower: float = 0.0
    reg_target: float = 0.0  # spikes per hidden neuron per trial


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation."""

    seed: int = 0
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3  # in normalised weight units per step
    lr_delay: float = 0.1
    learn_delays: bool = False
    lr_decay: float = 1.0  # multiplies both learning rates after every epoch
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    silent_boost: float = 0.0  # added (normalised units) to input weights of silent hidden neurons
    # Std of multiplicative weight noise in each training batch's forward pass (0 = none): the
    # gradient of the perturbed run updates the clean weights, so the model learns margins that
    # survive small weight errors such as a hardware grid's.
    weight_noise: float = 0.0
    denom_guard: float = 0.1
    keep_checkpoints: int = 0  # 0 = keep every epoch's checkpoint, else only the newest N


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    finetune: dict = field(default_factory=dict)  # [train] fields used when fine-tuning

    def for_finetuning(self) -> Config:
        """This config with ``[finetune]``'s fields in place of ``[train]``'s."""
        return dataclasses.replace(
            self, train=dataclasses.replace(self.train, **self.finetune), finetune={}
        )


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "train": TrainConfig}
#: Section whose fields are ``[train]`` fields, applied by :meth:`Config.for_finetuning`.
_FINETUNE = "finetune"
_LIST_ITEM = {
    "hidden": int,
    "input_init": float,
    "hidden_init": float,
    "recurrent_init": float,
    "output_init": float,
    "delay_init_steps": float,
    "recurrent_delay_init_steps": float,
}


def _type_name(t: Any) -> str:
    return {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(t, str(t))


def _coerce(where: str, name: str, value: Any, kind: Any) -> Any:
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: must be {_type_name(float)}, got {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: must be {_type_name(int)}, got {value!r}")
        return value
    if kind is bool or kind is str or kind is dict:
        if not isinstance(value, kind):
            raise ConfigError(f"{where}: must be {_type_name(kind)}, got {value!r}")
        return dict(value) if kind is dict else value
    if kind is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: must be {_type_name(list)}, got {value!r}")
        item = _LIST_ITEM.get(name, float)
        return [_coerce(f"{where}[{i}]", "", v, item) for i, v in enumerate(value)]
    raise AssertionError(kind)


def _field_kind(cls: type, f: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    t = hints[f.name]
    if isinstance(t, types.GenericAlias):
        return t.__origin__
    return t


def _build(raw: dict, source: str) -> Config:
    unknown = sorted(set(raw) - {*_SECTIONS, _FINETUNE})
    if unknown:
        raise ConfigError(
            f"{source}: {unknown[0]}: unknown section; expected one of "
            f"{', '.join([*_SECTIONS, _FINETUNE])}"
        )
    parts: dict[str, Any] = {}
    for section, cls in [*_SECTIONS.items(), (_FINETUNE, TrainConfig)]:
        values = raw.get(section, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: {section}: must be a table")
        names = {f.name: f for f in dataclasses.fields(cls)}
        for key in values:
            if key not in names:
                raise ConfigError(
                    f"{source}: {section}.{key}: unknown field; expected one of {', '.join(names)}"
                )
        kwargs = {
            key: _coerce(f"{source}: {section}.{key}", key, value, _field_kind(cls, names[key]))
            for key, value in values.items()
        }
        parts[section] = kwargs if section == _FINETUNE else cls(**kwargs)
    config = Config(**parts)
    _check(config, source)
    _check(config.for_finetuning(), source, section=_FINETUNE)
    return config


def _check(c: Config, source: str, *, section: str = "train") -> None:
    """Validate ``c``; ``[train]`` problems are reported under ``section``."""

    def bad(where: str, message: str) -> None:
        if where.startswith("train."):
            where = f"{section}.{where.removeprefix('train.')}"
        raise ConfigError(f"{source}: {where}: {message}")

    if c.data.dt_ms <= 0:
        bad("data.dt_ms", f"must be > 0, got {c.data.dt_ms}")
    if c.data.t_max_ms < 0:
        bad("data.t_max_ms", f"must be >= 0 (0 = dataset default), got {c.data.t_max_ms}")
    for key in (
        "n_inputs",
        "n_outputs",
        "max_delay_steps",
        "recurrent_max_delay_steps",
        "decay_resolution",
    ):
        if getattr(c.model, key) < 0:
            bad(f"model.{key}", f"must be >= 0, got {getattr(c.model, key)}")
    if not c.model.hidden or any(h < 1 for h in c.model.hidden):
        bad("model.hidden", f"must be a non-empty list of sizes >= 1, got {c.model.hidden}")
    if c.model.output not in ("li", "lif"):
        bad("model.output", f"must be 'li' or 'lif', got {c.model.output!r}")
    for key in ("tau_mem_ms", "tau_syn_ms", "threshold"):
        if getattr(c.model, key) <= 0:
            bad(f"model.{key}", f"must be > 0, got {getattr(c.model, key)}")
    for key in (
        "input_init",
        "hidden_init",
        "recurrent_init",
        "output_init",
        "delay_init_steps",
        "recurrent_delay_init_steps",
    ):
        value = getattr(c.model, key)
        if len(value) != 2:
            bad(f"model.{key}", f"must have 2 numbers, got {value}")
    if c.loss.readout not in READOUTS:
        bad("loss.readout", f"must be one of {', '.join(READOUTS)}, got {c.loss.readout!r}")
    if (c.loss.readout == "first_spike") != (c.model.output == "lif"):
        bad(
            "loss.readout",
            f"{c.loss.readout!r} needs model.output = "
            f"{'lif' if c.loss.readout == 'first_spike' else 'li'}, got {c.model.output!r}",
        )
    if c.train.keep_checkpoints < 0:
        bad("train.keep_checkpoints", f"must be >= 0, got {c.train.keep_checkpoints}")
    for key in ("epochs", "batch_size"):
        if getattr(c.train, key) < 1:
            bad(f"train.{key}", f"must be >= 1, got {getattr(c.train, key)}")
    for key in ("lr", "lr_delay", "lr_decay", "weight_noise"):
        if getattr(c.train, key) < 0:
            bad(f"train.{key}", f"must be >= 0, got {getattr(c.train, key)}")


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.field=value")
    key, _, text = item.partition("=")
    path = key.strip().split(".")
    if len(path) != 2 or not all(path):
        raise ConfigError(f"--set {item!r}: the key must be section.field, got {key.strip()!r}")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    return path, value


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read ``path`` (None: defaults only), apply ``section.field=value`` overrides, validate."""
    raw: dict = {}
    source = "config"
    if path is not None:
        path = Path(path)
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    for item in overrides:
        (section, key), value = _parse_override(item)
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            raise ConfigError(f"{source}: {section}: must be a table")
        raw[section][key] = value
    return _build(raw, source)


def config_to_dict(config: Config) -> dict:
    """The config as plain nested dicts (JSON/TOML-serialisable)."""
    return dataclasses.asdict(config)


def config_from_dict(raw: dict, source: str = "stored config") -> Config:
    """Inverse of :func:`config_to_dict` (validated)."""
    return _build(raw, source)
