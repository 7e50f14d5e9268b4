"""Training orchestration: data, initial network, epochs, checkpoints, metrics, the model file.

A run directory holds ``checkpoints/epoch_NNNN.h5`` (parameters, Adam state; HDF5, never pickle),
``metrics.jsonl`` (one JSON object per epoch), ``curve.png`` and, at the end, ``model.h5`` (the
float network, with the config, metrics, seed, versions and readout rule in its metadata).
Rerunning on the same directory resumes after the last checkpoint; because every epoch's shuffle
is drawn from ``default_rng([seed, epoch])`` the result equals an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ConfigError
from neurodeploy.files import atomic_path, write_network
from neurodeploy.network import Network, Population, Projection, decay_from_tau
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.config import Config, config_from_dict, config_to_dict
from neurodeploy.trainer.engine import Engine, RegParams
from neurodeploy.trainer.losses import LossParams
from neurodeploy.trainer.optim import Adam

__all__ = ["Trainer", "TrainingData", "evaluate_network", "load_data", "train"]

log = logging.getLogger(__name__)
CHECKPOINT_FORMAT = "neurodeploy-checkpoint"

#: (weights, delays) -> (weights, delays) used by the forward pass; gradients pass straight through.
ParamTransform = Callable[[list[NDArray], list[NDArray]], tuple[list[NDArray], list[NDArray]]]


@dataclass(frozen=True)
class TrainingData:
    train: SpikeData
    validation: SpikeData | None
    test: SpikeData | None
    n_inputs: int
    n_classes: int
    names: dict[str, str]


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
    )


def _decay(tau_ms: float, dt_ms: float, resolution: int) -> float:
    """``exp(-dt/tau)``, rounded to a multiple of ``1/resolution`` when ``resolution`` > 0."""
    decay = decay_from_tau(tau_ms, dt_ms)
    return round(decay * resolution) / resolution if resolution else decay


def _unit(dt_ms: float, tau_mem_ms: float, tau_syn_ms: float) -> float:
    dm, ds = decay_from_tau(tau_mem_ms, dt_ms), decay_from_tau(tau_syn_ms, dt_ms)
    return (1.0 - dm) * (1.0 - ds) * tau_syn_ms / dt_ms


@dataclass
class Trainer:
    """Network structure plus trainable state (weights, float delays, Adam)."""

    config: Config
    template: Network
    weights: list[NDArray[np.float64]]
    delays: list[NDArray[np.float64]]
    max_delays: list[int]
    units: list[float]  # weight unit of each projection (its target's)
    ff_mask: list[bool]

    @classmethod
    def initial(cls, config: Config, n_in: int, n_out: int) -> Trainer:
        m = config.model
        dt = config.data.dt_ms
        rng = np.random.default_rng(config.train.seed)
        tm_out = m.out_tau_mem_ms or m.tau_mem_ms
        ts_out = m.out_tau_syn_ms or m.tau_syn_ms
        pops = [Population(name="input", size=n_in, kind="input")]
        for k, size in enumerate(m.hidden):
            pops.append(
                Population(
                    name=f"hidden{k}" if len(m.hidden) > 1 else "hidden",
                    size=size,
                    kind="lif",
                    decay_mem=_decay(m.tau_mem_ms, dt, m.decay_resolution),
                    decay_syn=_decay(m.tau_syn_ms, dt, m.decay_resolution),
                    threshold=m.threshold,
                )
            )
        pops.append(
            Population(
                name="output",
                size=n_out,
                kind=m.output,
                decay_mem=_decay(tm_out, dt, m.decay_resolution),
                decay_syn=_decay(ts_out, dt, m.decay_resolution),
                threshold=m.threshold,
            )
        )
        hid_unit = _unit(dt, m.tau_mem_ms, m.tau_syn_ms)
        out_unit = _unit(dt, tm_out, ts_out)
        projs, units, maxd, ff = [], [], [], []
        weights, delays = [], []

        def add(src, tgt, init, unit, dmax, dinit, is_ff):
            n_post, n_pre = tgt.size, src.size
            w = rng.normal(init[0], init[1], (n_post, n_pre)) * unit
            lo, hi = min(dinit[0], dmax), min(dinit[1], dmax)
            d = (
                rng.uniform(lo, hi, (n_post, n_pre))
                if hi > lo
                else np.full((n_post, n_pre), float(lo))
            )
            projs.append(Projection(source=src.name, target=tgt.name, weights=w, delays=d))
            weights.append(w)
            delays.append(d)
            units.append(unit)
            maxd.append(int(dmax))
            ff.append(is_ff)

        for k in range(len(m.hidden)):
            src, tgt = pops[k], pops[k + 1]
            add(
                src,
                tgt,
                m.input_init if k == 0 else m.hidden_init,
                hid_unit,
                m.max_delay_steps,
                m.delay_init_steps,
                True,
            )
            if m.recurrent:
                add(
                    tgt,
                    tgt,
                    m.recurrent_init,
                    hid_unit,
                    m.recurrent_max_delay_steps,
                    m.recurrent_delay_init_steps,
                    False,
                )
        add(
            pops[-2], pops[-1], m.output_init, out_unit, m.max_delay_steps, m.delay_init_steps, True
        )
        template = Network(dt_ms=dt, populations=tuple(pops), projections=tuple(projs))
        return cls(config, template, weights, delays, maxd, units, ff)

    @classmethod
    def from_network(
        cls, config: Config, network: Network, *, delay_limit: int | None = None
    ) -> Trainer:
        """Continue from a trained float ``network`` (fine-tuning). Delays are capped at
        ``delay_limit`` steps when given (a target's delay range)."""
        dt = network.dt_ms
        weights, delays, maxd, units, ff = [], [], [], [], []
        for proj in network.projections:
            tgt = network.population(proj.target)
            tau_m = (
                -dt / np.log(tgt.decay_mem) if 0 < tgt.decay_mem < 1 else config.model.tau_mem_ms
            )
            tau_s = (
                -dt / np.log(tgt.decay_syn) if 0 < tgt.decay_syn < 1 else config.model.tau_syn_ms
            )
            limit = (
                config.model.recurrent_max_delay_steps
                if proj.is_recurrent
                else config.model.max_delay_steps
            )
            limit = max(limit, int(np.ceil(proj.delays.max(initial=0.0))))
            if delay_limit is not None:
                limit = min(limit, delay_limit)
            weights.append(np.array(proj.weights, dtype=np.float64))
            delays.append(np.clip(np.array(proj.delays, dtype=np.float64), 0.0, limit))
            maxd.append(int(limit))
            units.append(_unit(dt, tau_m, tau_s))
            ff.append(not proj.is_recurrent)
        template = Network(
            dt_ms=dt, populations=network.populations, projections=network.projections
        )
        return cls(config, template, weights, delays, maxd, units, ff)

    def network(self, metadata: dict[str, Any] | None = None) -> Network:
        """The current float network (delays clamped to each projection's range)."""
        projs = tuple(
            Projection(
                source=p.source, target=p.target, weights=w.copy(), delays=np.clip(d, 0.0, m)
            )
            for p, w, d, m in zip(
                self.template.projections, self.weights, self.delays, self.max_delays, strict=True
            )
        )
        return Network(
            dt_ms=self.template.dt_ms,
            populations=self.template.populations,
            projections=projs,
            metadata=metadata or {},
        )


def loss_params(config: Config) -> LossParams:
    c = config.loss
    return LossParams(
        readout=c.readout,
        logit_scale=c.logit_scale,
        tau0_ms=c.tau0_ms,
        tau1_ms=c.tau1_ms,
        alpha=c.alpha,
        phantom=c.phantom,
    )


def evaluate_network(
    engine: Engine,
    tr: Trainer,
    spikes: SpikeData,
    config: Config,
    batch_size: int = 256,
    transform: ParamTransform | None = None,
) -> tuple[float, float]:
    """(accuracy, mean loss) of the trainer's current parameters on ``spikes``."""
    lp = loss_params(config)
    weights, delays = transform(tr.weights, tr.delays) if transform else (tr.weights, tr.delays)
    correct = 0
    total_loss = 0.0
    for start in range(0, len(spikes), batch_size):
        idx = np.arange(start, min(start + batch_size, len(spikes)))
        r = engine.run(weights, delays, spikes, idx, lp, dt_ms=config.data.dt_ms, grad=False)
        correct += int((r.predicted == spikes.labels[idx]).sum())
        total_loss += float(r.loss.sum())
    return correct / len(spikes), total_loss / len(spikes)


# ---------------------------------------------------------------- checkpoints


def _checkpoint_path(run_dir: Path, epoch: int) -> Path:
    return run_dir / "checkpoints" / f"epoch_{epoch:04d}.h5"


def _save_checkpoint(path: Path, epoch: int, tr: Trainer, adam_w: Adam, adam_d: Adam) -> None:
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = CHECKPOINT_FORMAT
        f.attrs["format_version"] = 1
        f.attrs["epoch"] = epoch
        f.attrs["config"] = json.dumps(config_to_dict(tr.config), sort_keys=True)
        f.attrs["adam_w_t"] = adam_w.t
        f.attrs["adam_d_t"] = adam_d.t
        for q in range(len(tr.weights)):
            g = f.create_group(f"projections/{q}")
            g["weights"] = tr.weights[q]
            g["delays"] = tr.delays[q]
            g["adam_w_m"] = adam_w.m[q]
            g["adam_w_v"] = adam_w.v[q]
            g["adam_d_m"] = adam_d.m[q]
            g["adam_d_v"] = adam_d.v[q]


def _load_checkpoint(path: Path, tr: Trainer, adam_w: Adam, adam_d: Adam) -> int:
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != CHECKPOINT_FORMAT:
                raise ConfigError(f"{path}: not a neurodeploy checkpoint")
            stored = config_from_dict(json.loads(f.attrs["config"]), str(path))
            if config_to_dict(stored)["model"] != config_to_dict(tr.config)["model"]:
                raise ConfigError(
                    f"{path}: the checkpoint's [model] differs from the config; use a new run directory"
                )
            adam_w.t = int(f.attrs["adam_w_t"])
            adam_d.t = int(f.attrs["adam_d_t"])
            for q in range(len(tr.weights)):
                g = f[f"projections/{q}"]
                tr.weights[q] = np.asarray(g["weights"][()], dtype=np.float64)
                tr.delays[q] = np.asarray(g["delays"][()], dtype=np.float64)
                adam_w.m[q] = g["adam_w_m"][()]
                adam_w.v[q] = g["adam_w_v"][()]
                adam_d.m[q] = g["adam_d_m"][()]
                adam_d.v[q] = g["adam_d_v"][()]
            return int(f.attrs["epoch"])
    except (OSError, KeyError) as exc:
        raise ConfigError(
            f"{path}: damaged checkpoint ({exc}); delete it to resume from the one before"
        ) from None


def _last_checkpoint(run_dir: Path) -> tuple[int, Path] | None:
    found = sorted((run_dir / "checkpoints").glob("epoch_*.h5"))
    if not found:
        return None
    return int(found[-1].stem.split("_")[1]), found[-1]


# ---------------------------------------------------------------- main loop


def _versions() -> dict[str, str]:
    import numba

    import neurodeploy

    return {
        "neurodeploy": getattr(neurodeploy, "__version__", "0.1.0"),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": sys.version.split()[0],
    }


def _plot(run_dir: Path, history: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    for key in ("train_accuracy", "validation_accuracy", "test_accuracy"):
        if key in history[0]:
            ax2.plot(epochs, [100 * h[key] for h in history], label=key.replace("_accuracy", ""))
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.legend()
    ax1.grid(alpha=0.3)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(run_dir / "curve.png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _noisy(
    weights: list[NDArray[np.float64]], relative: float, rng: np.random.Generator
) -> list[NDArray[np.float64]]:
    """Copies of ``weights`` each multiplied by ``1 + relative * N(0, 1)``."""
    return [w * (1.0 + relative * rng.standard_normal(w.shape)) for w in weights]


def train(
    config: Config,
    run_dir: str | Path,
    *,
    progress: bool = True,
    data: TrainingData | None = None,
    stop_after: int | None = None,
    start_from: Trainer | None = None,
    transform: ParamTransform | None = None,
    metadata: dict[str, Any] | None = None,
) -> Network:
    """Train (or resume) into ``run_dir``; returns the trained float network (also ``model.h5``).

    ``stop_after`` ends the call after that many epochs of this call (tests use it to
    interrupt a run); the model file is then not written. ``start_from`` replaces the random
    initial network (fine-tuning); ``transform`` maps (weights, delays) to what the forward
    pass uses, with straight-through gradients onto the float parameters (quantization-aware
    training); ``metadata`` is merged into the model file's.
    """
    run_dir = Path(run_dir)
    data = data or load_data(config)
    tr = start_from or Trainer.initial(config, data.n_inputs, data.n_classes)
    c = config.train
    adam_w = Adam([w.shape for w in tr.weights], c.beta1, c.beta2, c.eps)
    adam_d = Adam([d.shape for d in tr.delays], c.beta1, c.beta2, c.eps)
    run_dir.mkdir(parents=True, exist_ok=True)
    start = 0
    last = _last_checkpoint(run_dir)
    history: list[dict] = []
    metrics_path = run_dir / "metrics.jsonl"
    if last is not None:
        start = _load_checkpoint(last[1], tr, adam_w, adam_d)
        if metrics_path.exists():
            history = [
                json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()
            ]
            history = [h for h in history if h["epoch"] <= start]
        log.info("resuming %s after epoch %d", run_dir, start)
    learn_d = c.learn_delays and any(m > 0 for m in tr.max_delays)
    engine = Engine(
        tr.template,
        tr.max_delays,
        denom_guard=c.denom_guard,
        learn_delays=[learn_d and m > 0 for m in tr.max_delays],
    )
    lp = loss_params(config)
    reg = RegParams(
        upper=config.loss.reg_upper, lower=config.loss.reg_lower, target=config.loss.reg_target
    )
    dt = config.data.dt_ms
    spikes = data.train
    n = len(spikes)
    hidden_slices = _hidden_slices(engine)
    done = 0
    for epoch in range(start + 1, c.epochs + 1):
        if stop_after is not None and done >= stop_after:
            return tr.network()
        t0 = time.perf_counter()
        lr = c.lr * c.lr_decay ** (epoch - 1)
        lr_d = c.lr_delay * c.lr_decay ** (epoch - 1)
        order = np.random.default_rng([c.seed, epoch]).permutation(n)
        batches = [order[i : i + c.batch_size] for i in range(0, n, c.batch_size)]
        loss_sum = 0.0
        correct = 0
        epoch_counts = np.zeros(engine.packed.n_all)
        bar = _progress(len(batches), f"epoch {epoch}/{c.epochs}", progress)
        for b, idx in enumerate(batches):
            w_run, d_run = (
                transform(tr.weights, tr.delays) if transform else (tr.weights, tr.delays)
            )
            if c.weight_noise > 0:
                w_run = _noisy(w_run, c.weight_noise, np.random.default_rng([c.seed, epoch, b]))
            r = engine.run(w_run, d_run, spikes, idx, lp, dt_ms=dt, reg=reg)
            loss_sum += float(r.loss.sum())
            correct += int((r.predicted == spikes.labels[idx]).sum())
            epoch_counts += r.counts.sum(axis=0)
            adam_w.step(tr.weights, r.grad_w, [lr * u for u in tr.units])  # lr in normalised units
            if learn_d:
                adam_d.step(tr.delays, r.grad_d, lr_d)
                for q, m in enumerate(tr.max_delays):
                    np.clip(tr.delays[q], 0.0, m, out=tr.delays[q])
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / max(1, bar.n * c.batch_size):.3f}")
        if bar is not None:
            bar.close()
        silent = _boost_silent(tr, hidden_slices, epoch_counts, c.silent_boost)
        record: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": loss_sum / n,
            "train_accuracy": correct / n,
            "hidden_spikes_per_neuron": float(
                sum(epoch_counts[a:b].sum() for a, b in hidden_slices.values())
                / max(1, sum(b - a for a, b in hidden_slices.values()))
                / n
            ),
            "silent_neurons": silent,
            "lr": lr,
        }
        for key in ("validation", "test"):
            s = getattr(data, key)
            if s is not None:
                acc, loss = evaluate_network(engine, tr, s, config, transform=transform)
                record[f"{key}_accuracy"] = acc
                record[f"{key}_loss"] = loss
        record["epoch_seconds"] = time.perf_counter() - t0
        history.append(record)
        _save_checkpoint(_checkpoint_path(run_dir, epoch), epoch, tr, adam_w, adam_d)
        if c.keep_checkpoints:
            for old in sorted((run_dir / "checkpoints").glob("epoch_*.h5"))[: -c.keep_checkpoints]:
                old.unlink()
        with atomic_path(metrics_path) as tmp:
            tmp.write_text("".join(json.dumps(h, sort_keys=True) + "\n" for h in history))
        if epoch % 10 == 0 or epoch == c.epochs:
            _plot(run_dir, history)
        if progress:
            parts = [f"{k}={v:.4f}" for k, v in record.items() if k.endswith(("accuracy", "loss"))]
            print(f"epoch {epoch}: " + " ".join(parts), file=sys.stderr)
        done += 1
    final = history[-1] if history else {}
    metadata = {
        "readout": config.loss.readout,
        "config": config_to_dict(config),
        "metrics": final,
        "seed": c.seed,
        "versions": _versions(),
        "datasets": data.names,
        "n_steps": int(spikes.n_steps),
        "trainer": "neurodeploy.trainer (EventProp)",
        **(metadata or {}),
    }
    network = tr.network(metadata)
    write_network(network, run_dir / "model.h5")
    return network


def _hidden_slices(engine: Engine) -> dict[str, tuple[int, int]]:
    from neurodeploy.trainer import kernels as K

    p = engine.packed
    out = {}
    for q, name in enumerate(p.names):
        if q != p.out_pop and p.pops_i[q, K.P_KIND] == K.K_LIF:
            off = int(p.pops_i[q, K.P_OFFSET])
            out[name] = (off, off + int(p.pops_i[q, K.P_SIZE]))
    return out


def _boost_silent(
    tr: Trainer, hidden: dict[str, tuple[int, int]], counts: NDArray, boost: float
) -> int:
    n_silent = 0
    for name, (a, b) in hidden.items():
        silent = counts[a:b] == 0
        n_silent += int(silent.sum())
        if boost and silent.any():
            for q, proj in enumerate(tr.template.projections):
                if proj.target == name and tr.ff_mask[q]:
                    tr.weights[q][silent, :] += boost * tr.units[q]
    return n_silent


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal (logs, CI); the per-epoch line remains.
    return tqdm(
        total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True, disable=None
    )
