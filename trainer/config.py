"""Training configuration: TOML file -> frozen dataclasses, validated strictly.

Sections ``[data]``, ``[model]``, ``[loss]``, ``[train]``, ``[augment]`` (input augmentation,
off by default); every field has a default (see the
dataclasses). An optional ``[finetune]`` section holds ``[train]`` fields that replace ``[train]``'s
when a trained model is fine-tuned for a hardware target (:meth:`Config.for_finetuning`), so a
config carries its own fine-tuning recipe. Every unknown section or field, wrong type and
out-of-range value is reported at once: one ConfigError with a line ``"file: section.field:
message"`` per problem. ``--set section.field=value`` overrides are parsed as TOML values (a
value that is not valid TOML is taken as a string, so ``--set data.train=shd:/x/train.h5``
works).

Weights in ``[model]`` are in threshold-normalised units: a weight ``w`` is stored as
``w * (1 - decay_mem) * (1 - decay_syn) * tau_syn_ms / dt_ms`` (the target population's decays),
so the same numbers work at any ``dt_ms`` (mlGeNN's scale). Delays are in time steps.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurodeploy.errors import ConfigError
from neurodeploy.network import MAX_DELAY_STEPS as NETWORK_MAX_DELAY
from neurodeploy.readout import READOUTS
from neurodeploy.validation import Problems

__all__ = [
    "AugmentConfig",
    "Config",
    "DataConfig",
    "LossConfig",
    "ModelConfig",
    "TrainConfig",
    "config_to_dict",
    "learning_rate",
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
    # Fraction of the training file held out as the validation split (stratified by class, drawn
    # with ``seed``); 0 = none. Excludes ``validation``.
    validation_fraction: float = 0.0
    # "class": stratified by class; "speaker": whole speakers (an SHD-layout file's
    # extra/speaker) held out until the fraction is reached, as for voices never heard in training.
    validation_by: str = "class"


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
    # Gradient engine: "eventprop" (exact event-based adjoint, delays learnable) or "bptt"
    # (backpropagation through time with a pseudo-derivative; delays fixed, memory grows with T)
    method: str = "eventprop"
    surrogate: str = "fast_sigmoid"  # bptt: fast_sigmoid | straight_through | lee
    surrogate_width: float = 0.5  # bptt: width of the pseudo-derivative, in thresholds
    keep_checkpoints: int = 0  # 0 = keep every epoch's checkpoint, else only the newest N
    # Decoupled (AdamW) weight decay per step, relative to the learning rate: w -= lr * wd * w.
    weight_decay: float = 0.0
    # "exp": lr * lr_decay**(epoch-1); "cosine": from lr down to lr * lr_min over the epochs;
    # "step": lr * lr_decay**((epoch-1) // lr_step_epochs).
    lr_schedule: str = "exp"
    lr_min: float = 0.0  # cosine floor, as a fraction of lr
    lr_step_epochs: int = 1
    # With a validation split: write the best-validation epoch's network as model.h5 (and the
    # last epoch's as model_last.h5).
    keep_best: bool = False
    early_stop: int = 0  # with a validation split: stop after N epochs without improvement


@dataclass(frozen=True)
class AugmentConfig:
    """Input augmentation of the training samples (:mod:`neurodeploy.data.augment`); all off by
    default."""

    channel_shift: int = 0  # max channels, uniform integer per sample; shifted-out spikes dropped
    time_shift: int = 0  # max steps, uniform integer per sample
    time_stretch: float = 0.0  # relative, factor uniform in [1 - x, 1 + x] per sample
    blend: float = 0.0  # probability of blending a sample with a same-class partner
    delete: float = 0.0  # probability of deleting each spike
    jitter: float = 0.0  # std of per-spike time jitter, steps


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    finetune: dict = field(default_factory=dict)  # [train] fields used when fine-tuning

    def for_finetuning(self) -> Config:
        """This config with ``[finetune]``'s fields in place of ``[train]``'s."""
        return dataclasses.replace(
            self, train=dataclasses.replace(self.train, **self.finetune), finetune={}
        )


#: Largest delay a config may ask for, in steps (the float model's limit,
#: :data:`neurodeploy.network.MAX_DELAY_STEPS`).
MAX_DELAY_STEPS = NETWORK_MAX_DELAY
#: Most neurons a config may ask for per field (far above any network this trains in memory).
MAX_UNITS = 1_000_000
MAX_EPOCHS = 1_000_000
#: ``train.method``: the trainer's gradient engines; ``train.surrogate``: BPTT pseudo-derivatives.
METHODS = ("eventprop", "bptt")
SURROGATES = ("fast_sigmoid", "straight_through", "lee")

#: Learning-rate schedules of ``train.lr_schedule`` (:func:`learning_rate`).
LR_SCHEDULES = ("exp", "cosine", "step")


def learning_rate(t: TrainConfig, base: float, epoch: int) -> float:
    """The learning rate of ``epoch`` (1-based) for a base rate ``base`` under ``t``'s schedule."""
    if t.lr_schedule == "cosine":
        frac = (epoch - 1) / max(1, t.epochs - 1)
        return base * (t.lr_min + (1.0 - t.lr_min) * 0.5 * (1.0 + math.cos(math.pi * frac)))
    if t.lr_schedule == "step":
        return base * t.lr_decay ** ((epoch - 1) // t.lr_step_epochs)
    return base * t.lr_decay ** (epoch - 1)


_SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "loss": LossConfig,
    "train": TrainConfig,
    "augment": AugmentConfig,
}
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


class _Bad:
    """Marks a value whose type was wrong (the problem is already recorded)."""


_BAD = _Bad()


def _coerce(where: str, name: str, value: Any, kind: Any, problems: Problems) -> Any:
    """``value`` as ``kind``; else records ``"<where>: must be ..."`` and returns ``_BAD``."""

    def bad(t: Any) -> _Bad:
        problems.add(where, f"must be {_type_name(t)}, got {value!r}")
        return _BAD

    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return bad(float)
        if not math.isfinite(value):
            problems.add(where, f"must be a finite number, got {value!r}")
            return _BAD
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return bad(int)
        return value
    if kind is bool or kind is str or kind is dict:
        if not isinstance(value, kind):
            return bad(kind)
        return dict(value) if kind is dict else value
    if kind is list:
        if not isinstance(value, list):
            return bad(list)
        item = _LIST_ITEM.get(name, float)
        items = [_coerce(f"{where}[{i}]", "", v, item, problems) for i, v in enumerate(value)]
        return _BAD if any(v is _BAD for v in items) else items
    raise AssertionError(kind)


def _field_kind(cls: type, f: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    t = hints[f.name]
    if isinstance(t, types.GenericAlias):
        return t.__origin__
    return t


def _build(raw: dict, source: str) -> Config:
    """The validated config of ``raw``; one ConfigError listing every problem otherwise."""
    problems = Problems()
    failed: set[str] = set()  # "section.field" with a wrong type: range checks skip them
    expected = ", ".join([*_SECTIONS, _FINETUNE])
    for section in sorted(set(raw) - {*_SECTIONS, _FINETUNE}):
        problems.add(section, f"unknown section; expected one of {expected}")
    parts: dict[str, Any] = {}
    for section, cls in [*_SECTIONS.items(), (_FINETUNE, TrainConfig)]:
        values = raw.get(section, {})
        if not isinstance(values, dict):
            problems.add(section, "must be a table")
            values = {}
        names = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            where = f"{section}.{key}"
            if key not in names:
                problems.add(where, f"unknown field; expected one of {', '.join(names)}")
                continue
            value = _coerce(where, key, value, _field_kind(cls, names[key]), problems)
            if value is _BAD:
                failed.add(where)
            else:
                kwargs[key] = value
        parts[section] = kwargs if section == _FINETUNE else cls(**kwargs)
    config = Config(**parts)
    _check(config, problems, failed)
    _check_train(
        config.for_finetuning().train, problems, failed, section=_FINETUNE, only=config.finetune
    )
    problems.raise_if_any(ConfigError, source)
    return config


def _check(c: Config, problems: Problems, failed: set[str]) -> None:
    """Range and consistency checks of ``c`` (``[train]`` included); fields in ``failed`` had a
    wrong type and are not checked again."""

    def bad(where: str, message: str, *also: str) -> None:
        if failed.isdisjoint((where, *also)):
            problems.add(where, message)

    if c.data.dt_ms <= 0:
        bad("data.dt_ms", f"must be > 0, got {c.data.dt_ms}")
    if c.data.t_max_ms < 0:
        bad("data.t_max_ms", f"must be >= 0 (0 = dataset default), got {c.data.t_max_ms}")
    for key in ("seed", "max_train_samples"):
        if getattr(c.data, key) < 0:
            bad(f"data.{key}", f"must be >= 0, got {getattr(c.data, key)}")
    if not 0 <= c.data.validation_fraction < 1:
        bad("data.validation_fraction", f"must be in [0, 1), got {c.data.validation_fraction}")
    if c.data.validation_by not in ("class", "speaker"):
        bad("data.validation_by", f"must be 'class' or 'speaker', got {c.data.validation_by!r}")
    elif c.data.validation_by == "speaker" and not c.data.train.startswith("shd:"):
        bad(
            "data.validation_by",
            "'speaker' needs an SHD-layout training file (data.train = shd:PATH)",
        )
    if c.data.validation_fraction and c.data.validation:
        bad(
            "data.validation_fraction",
            "a validation split of the training file excludes data.validation; set one of them",
            "data.validation",
        )
    a = c.augment
    for key in ("channel_shift", "time_shift", "time_stretch", "jitter"):
        if getattr(a, key) < 0:
            bad(f"augment.{key}", f"must be >= 0, got {getattr(a, key)}")
    if a.time_stretch >= 1:
        bad("augment.time_stretch", f"must be < 1, got {a.time_stretch}")
    for key in ("blend", "delete"):
        if not 0 <= getattr(a, key) <= 1:
            bad(f"augment.{key}", f"must be in [0, 1], got {getattr(a, key)}")
    for key in (
        "n_inputs",
        "n_outputs",
        "max_delay_steps",
        "recurrent_max_delay_steps",
        "decay_resolution",
    ):
        if getattr(c.model, key) < 0:
            bad(f"model.{key}", f"must be >= 0, got {getattr(c.model, key)}")
    for key in ("max_delay_steps", "recurrent_max_delay_steps"):
        if getattr(c.model, key) > MAX_DELAY_STEPS:
            bad(f"model.{key}", f"must be <= {MAX_DELAY_STEPS}, got {getattr(c.model, key)}")
    if c.model.decay_resolution == 1:
        bad("model.decay_resolution", "must be 0 (exact decays) or >= 2, got 1")
    for key in ("n_inputs", "n_outputs"):
        if getattr(c.model, key) > MAX_UNITS:
            bad(f"model.{key}", f"must be <= {MAX_UNITS}, got {getattr(c.model, key)}")
    if sum(max(h, 0) for h in c.model.hidden) > MAX_UNITS:
        bad("model.hidden", f"must have at most {MAX_UNITS} neurons in all, got {c.model.hidden}")
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
    for key in ("logit_scale", "tau0_ms", "tau1_ms"):
        if getattr(c.loss, key) <= 0:
            bad(f"loss.{key}", f"must be > 0, got {getattr(c.loss, key)}")
    for key in ("alpha", "phantom", "reg_upper", "reg_lower", "reg_target"):
        if getattr(c.loss, key) < 0:
            bad(f"loss.{key}", f"must be >= 0, got {getattr(c.loss, key)}")
    if c.loss.readout not in READOUTS:
        bad("loss.readout", f"must be one of {', '.join(READOUTS)}, got {c.loss.readout!r}")
    elif (c.loss.readout == "first_spike") != (c.model.output == "lif"):
        bad(
            "loss.readout",
            f"{c.loss.readout!r} needs model.output = "
            f"{'lif' if c.loss.readout == 'first_spike' else 'li'}, got {c.model.output!r}",
            "model.output",
        )
    _check_train(c.train, problems, failed)


def _check_train(
    t: TrainConfig,
    problems: Problems,
    failed: set[str],
    *,
    section: str = "train",
    only: Collection[str] | None = None,
) -> None:
    """Range checks of ``[train]`` fields (those in ``only`` when given), reported under
    ``section``."""

    def bad(key: str, message: str) -> None:
        where = f"{section}.{key}"
        if where not in failed and (only is None or key in only):
            problems.add(where, message)

    if t.keep_checkpoints < 0:
        bad("keep_checkpoints", f"must be >= 0, got {t.keep_checkpoints}")
    if t.seed < 0:
        bad("seed", f"must be >= 0, got {t.seed}")
    for key in ("epochs", "batch_size"):
        if getattr(t, key) < 1:
            bad(key, f"must be >= 1, got {getattr(t, key)}")
    if t.epochs > MAX_EPOCHS:
        bad("epochs", f"must be <= {MAX_EPOCHS}, got {t.epochs}")
    for key in ("lr", "lr_decay", "eps"):
        if getattr(t, key) <= 0:
            bad(key, f"must be > 0, got {getattr(t, key)}")
    for key in (
        "lr_delay",
        "weight_noise",
        "silent_boost",
        "denom_guard",
        "weight_decay",
        "lr_min",
    ):
        if getattr(t, key) < 0:
            bad(key, f"must be >= 0, got {getattr(t, key)}")
    for key in ("beta1", "beta2"):
        if not 0 <= getattr(t, key) < 1:
            bad(key, f"must be in [0, 1), got {getattr(t, key)}")
    if t.method not in METHODS:
        bad("method", f"must be one of {', '.join(METHODS)}, got {t.method!r}")
    elif t.method == "bptt" and t.learn_delays:
        bad("learn_delays", "must be false with train.method = 'bptt' (BPTT keeps delays fixed)")
    if t.surrogate not in SURROGATES:
        bad("surrogate", f"must be one of {', '.join(SURROGATES)}, got {t.surrogate!r}")
    if not t.surrogate_width > 0:
        bad("surrogate_width", f"must be > 0, got {t.surrogate_width}")
    if t.lr_schedule not in LR_SCHEDULES:
        bad("lr_schedule", f"must be one of {', '.join(LR_SCHEDULES)}, got {t.lr_schedule!r}")
    if t.lr_step_epochs < 1:
        bad("lr_step_epochs", f"must be >= 1, got {t.lr_step_epochs}")
    if t.early_stop < 0:
        bad("early_stop", f"must be >= 0, got {t.early_stop}")


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
            raw = tomllib.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not a UTF-8 text file (byte {exc.start}: {exc.reason}); "
                "a config is TOML text"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
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
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: must be a table of sections, got {type(raw).__name__}")
    return _build(raw, source)
