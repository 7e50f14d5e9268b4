"""The epoch loop: train (or resume) a run directory, evaluate, write the model file.

A run directory holds ``checkpoints/epoch_NNNN.h5`` (:mod:`.checkpoints`), ``metrics.jsonl`` and
``curve.png`` (:mod:`.metrics`) and, at the end, ``model.h5`` (the float network with its readout
rule, and the config, metrics, seed and versions in its metadata). Rerunning on the same directory resumes
after the last checkpoint; because every epoch's shuffle is drawn from
``default_rng([seed, epoch])`` the result equals an uninterrupted run. Progress goes to a
:class:`~neurodeploy.trainer.progress.Progress` (callbacks per epoch and batch).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.data.augment import Augmenter, AugmentParams
from neurodeploy.errors import ConfigError, NeurodeployError
from neurodeploy.files import output_dir_problem, write_network
from neurodeploy.network import MAX_FLOAT_MAGNITUDE, Network
from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.bptt import make_engine
from neurodeploy.trainer.checkpoints import (
    checkpoint_path,
    last_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from neurodeploy.trainer.config import Config, config_to_dict, learning_rate
from neurodeploy.trainer.data import TrainingData, load_data
from neurodeploy.trainer.engine import Engine, RegParams
from neurodeploy.trainer.losses import LossParams
from neurodeploy.trainer.metrics import plot_curve, read_history, write_history
from neurodeploy.trainer.optim import Adam
from neurodeploy.trainer.progress import Progress, as_progress
from neurodeploy.trainer.state import Trainer

__all__ = [
    "ParamTransform",
    "TrainingDiverged",
    "evaluate_network",
    "loss_params",
    "prepare_run_dir",
    "train",
]


class TrainingDiverged(NeurodeployError, ArithmeticError):
    """The loss or a parameter became NaN or infinite; the run stopped at that batch."""


def prepare_run_dir(run_dir: str | Path, *, restart: bool = False) -> None:
    """Check that ``run_dir`` can be a run directory (ConfigError, one line, nothing created);
    with ``restart``, then remove what an earlier run left there (checkpoints, metrics, curve,
    model) so that training starts over."""
    run_dir = Path(run_dir)
    line = output_dir_problem(run_dir, "--out")
    if line:
        raise ConfigError(line)
    if restart and run_dir.is_dir():
        for old in sorted((run_dir / "checkpoints").glob("epoch_*.h5")):
            old.unlink()
        for name in ("metrics.jsonl", "curve.png", "model.h5", "model_last.h5", _BEST):
            (run_dir / name).unlink(missing_ok=True)


log = logging.getLogger(__name__)

#: The best-validation epoch's checkpoint (``train.keep_best``), relative to the run directory.
_BEST = "checkpoints/best.h5"

#: (weights, delays) -> (weights, delays) used by the forward pass; gradients pass straight through.
ParamTransform = Callable[[list[NDArray], list[NDArray]], tuple[list[NDArray], list[NDArray]]]


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


def train(
    config: Config,
    run_dir: str | Path,
    *,
    progress: bool | Progress = True,
    data: TrainingData | None = None,
    stop_after: int | None = None,
    start_from: Trainer | None = None,
    transform: ParamTransform | None = None,
    metadata: dict[str, Any] | None = None,
    restart: bool = False,
) -> Network:
    """Train (or resume) into ``run_dir``; returns the trained float network (also ``model.h5``).

    ``progress``: True for a bar and a line per epoch on stderr, False for silence, or a
    :class:`~neurodeploy.trainer.progress.Progress` to be called per epoch and batch.
    ``stop_after`` ends the call after that many epochs of this call (tests use it to
    interrupt a run); the model file is then not written. ``start_from`` replaces the random
    initial network (fine-tuning); ``transform`` maps (weights, delays) to what the forward
    pass uses, with straight-through gradients onto the float parameters (quantization-aware
    training); ``metadata`` is merged into the model file's. ``restart`` discards what an earlier
    run left in ``run_dir`` instead of resuming it.

    A run directory resumes only with the configuration and data it was started with (a
    ConfigError naming the differing fields otherwise). A loss or parameter that becomes NaN or
    infinite stops the run at that batch (:class:`TrainingDiverged`); the checkpoints of the
    epochs before it stay, and no model file is written.
    """
    run_dir = Path(run_dir)
    prepare_run_dir(run_dir, restart=restart)
    report = as_progress(progress)
    data = data or load_data(config)
    tr = start_from or Trainer.initial(config, data.n_inputs, data.n_classes)
    c = config.train
    adam_w = Adam([w.shape for w in tr.weights], c.beta1, c.beta2, c.eps)
    adam_d = Adam([d.shape for d in tr.delays], c.beta1, c.beta2, c.eps)
    run_dir.mkdir(parents=True, exist_ok=True)
    start = 0
    last = last_checkpoint(run_dir)
    history: list[dict] = []
    metrics_path = run_dir / "metrics.jsonl"
    if last is not None:
        start = load_checkpoint(last[1], tr, adam_w, adam_d, data.fingerprint)
        history = read_history(metrics_path, start)
        log.info("resuming %s after epoch %d", run_dir, start)
        on_resume = getattr(report, "on_resume", None)
        if on_resume is not None:
            on_resume(start, c.epochs, run_dir)
    learn_d = c.learn_delays and any(m > 0 for m in tr.max_delays)
    engine = make_engine(tr.template, tr.max_delays, c, [learn_d and m > 0 for m in tr.max_delays])
    lp = loss_params(config)
    reg = RegParams(
        upper=config.loss.reg_upper, lower=config.loss.reg_lower, target=config.loss.reg_target
    )
    dt = config.data.dt_ms
    spikes = data.train
    n = len(spikes)
    hidden_slices = _hidden_slices(engine)
    aug = AugmentParams(**dataclasses.asdict(config.augment))
    augmenter = Augmenter(aug, spikes) if aug.enabled else None
    select = data.validation is not None and (c.keep_best or c.early_stop > 0)
    done = 0
    for epoch in range(start + 1, c.epochs + 1):
        if stop_after is not None and done >= stop_after:
            return tr.network()
        if select and c.early_stop and _since_best(history) >= c.early_stop:
            log.info("early stop after epoch %d", epoch - 1)
            break
        t0 = time.perf_counter()
        lr = learning_rate(c, c.lr, epoch)
        lr_d = learning_rate(c, c.lr_delay, epoch)
        order = np.random.default_rng([c.seed, epoch]).permutation(n)
        batches = [order[i : i + c.batch_size] for i in range(0, n, c.batch_size)]
        loss_sum = 0.0
        correct = 0
        seen = 0
        epoch_counts = np.zeros(engine.packed.n_all)
        report.on_epoch_start(epoch, c.epochs, len(batches))
        for b, idx in enumerate(batches):
            w_run, d_run = (
                transform(tr.weights, tr.delays) if transform else (tr.weights, tr.delays)
            )
            if c.weight_noise > 0:
                w_run = _noisy(w_run, c.weight_noise, np.random.default_rng([c.seed, epoch, b]))
            batch, rows = spikes, idx
            if augmenter is not None:  # sample idx[k] with the draws of [seed, epoch, idx[k]]
                batch = augmenter.batch(idx, seed=c.seed, epoch=epoch)
                rows = np.arange(len(idx), dtype=np.int64)
            r = engine.run(w_run, d_run, batch, rows, lp, dt_ms=dt, reg=reg)
            batch_loss = float(r.loss.sum())
            if not np.isfinite(batch_loss):
                _diverged(run_dir, epoch, b, len(batches), f"the loss is {batch_loss}", c)
            loss_sum += batch_loss
            correct += int((r.predicted == spikes.labels[idx]).sum())
            seen += len(idx)
            epoch_counts += r.counts.sum(axis=0)
            # lr in normalised units; decoupled decay relative to lr (AdamW), unit-free
            adam_w.step(tr.weights, r.grad_w, [lr * u for u in tr.units], decay=lr * c.weight_decay)
            if learn_d:
                adam_d.step(tr.delays, r.grad_d, lr_d)
                for q, m in enumerate(tr.max_delays):
                    np.clip(tr.delays[q], 0.0, m, out=tr.delays[q])
            bad = _non_finite(tr)
            if bad:
                _diverged(run_dir, epoch, b, len(batches), bad, c)
            report.on_batch(epoch, b, loss_sum / seen)
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
        # The metrics and the best checkpoint go first: a run killed before the epoch's
        # checkpoint repeats the epoch (the history is read back up to the checkpoint), one
        # killed after it finds both.
        write_history(metrics_path, history)
        if select and _since_best(history) == 0:
            save_checkpoint(run_dir / _BEST, epoch, tr, adam_w, adam_d, data.fingerprint)
        save_checkpoint(
            checkpoint_path(run_dir, epoch), epoch, tr, adam_w, adam_d, data.fingerprint
        )
        prune_checkpoints(run_dir, c.keep_checkpoints)
        if epoch % 10 == 0 or epoch == c.epochs:
            plot_curve(run_dir / "curve.png", history)
        report.on_epoch(record)
        done += 1
    if history and history[-1]["epoch"] != c.epochs:  # stopped early: the last curve
        plot_curve(run_dir / "curve.png", history)
    final = history[-1] if history else {}
    best_tr = None
    if select and c.keep_best and history and (run_dir / _BEST).exists():
        best_epoch = _best_index(history)
        best_tr = dataclasses.replace(
            tr, weights=[w.copy() for w in tr.weights], delays=[d.copy() for d in tr.delays]
        )
        spare_w = Adam([w.shape for w in tr.weights], c.beta1, c.beta2, c.eps)
        spare_d = Adam([d.shape for d in tr.delays], c.beta1, c.beta2, c.eps)
        if (
            load_checkpoint(run_dir / _BEST, best_tr, spare_w, spare_d, data.fingerprint)
            != (history[best_epoch]["epoch"])
        ):
            raise ConfigError(f"{run_dir / _BEST}: not the best epoch's checkpoint; use --restart")
    metadata = {
        "config": config_to_dict(config),
        "metrics": final,
        "seed": c.seed,
        "versions": _versions(),
        "datasets": data.names,
        "n_steps": int(spikes.n_steps),
        "trainer": f"neurodeploy.trainer ({'BPTT' if c.method == 'bptt' else 'EventProp'})",
        **(metadata or {}),
    }
    network = tr.network(metadata)
    if best_tr is None:
        write_network(network, run_dir / "model.h5")
        return network
    write_network(network, run_dir / "model_last.h5")
    best = history[_best_index(history)]
    best_network = best_tr.network({**metadata, "metrics": best, "selected": "best validation"})
    write_network(best_network, run_dir / "model.h5")
    return best_network


def _best_index(history: list[dict[str, Any]]) -> int:
    """Index of the best-validation record: highest accuracy, then lowest loss, then earliest."""
    keys = [(-h["validation_accuracy"], h["validation_loss"], i) for i, h in enumerate(history)]
    return min(keys)[2]


def _since_best(history: list[dict[str, Any]]) -> int:
    """Epochs since the best-validation epoch (0 when the last epoch is the best)."""
    return len(history) - 1 - _best_index(history) if history else 0


def _non_finite(tr: Trainer) -> str | None:
    """The first trainable parameter array holding NaN, inf or a magnitude no model file may
    hold (:data:`~neurodeploy.network.MAX_FLOAT_MAGNITUDE`), as ``"projections/q/weights"``."""
    for q, (w, d) in enumerate(zip(tr.weights, tr.delays, strict=True)):
        for key, value in (("weights", w), ("delays", d)):
            if not np.isfinite(value).all():
                return f"projections/{q}/{key} is not finite"
            if value.size and np.abs(value).max() > MAX_FLOAT_MAGNITUDE:
                return (
                    f"projections/{q}/{key} is not finite or beyond {MAX_FLOAT_MAGNITUDE:g} "
                    "in magnitude"
                )
    return None


def _diverged(run_dir: Path, epoch: int, batch: int, n_batches: int, what: str, c: Any) -> None:
    last = last_checkpoint(run_dir)
    kept = f"{last[1]} (epoch {last[0]}) is kept" if last else "no checkpoint was written"
    raise TrainingDiverged(
        f"{run_dir}: epoch {epoch}, batch {batch + 1}/{n_batches}: {what}; training stopped and "
        f"{kept}; lower train.lr (now {c.lr:g}) or check the data and model settings"
    )


def _versions() -> dict[str, str]:
    import numba

    import neurodeploy

    return {
        "neurodeploy": neurodeploy.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": sys.version.split()[0],
    }


def _noisy(
    weights: list[NDArray[np.float64]], relative: float, rng: np.random.Generator
) -> list[NDArray[np.float64]]:
    """Copies of ``weights`` each multiplied by ``1 + relative * N(0, 1)``."""
    return [w * (1.0 + relative * rng.standard_normal(w.shape)) for w in weights]


def _hidden_slices(engine: Engine) -> dict[str, tuple[int, int]]:
    from neurodeploy.emulator.canonical_kernels import K_LIF

    p = engine.packed
    return {k: v for k, v in p.slices(K_LIF).items() if k != p.names[p.out_pop]}


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
