"""The quantization report: every decision per layer, and float vs emulated behaviour, as JSON + PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.files import atomic_path
from neurodeploy.network import Network
from neurodeploy.quantize.calibration import samples_per_batch
from neurodeploy.quantize.decisions import Decisions
from neurodeploy.readout import accuracy, predict
from neurodeploy.records import PopulationRecord
from neurodeploy.sensitivity import sensitivity
from neurodeploy.spikes import SpikeData

__all__ = ["build_report", "write_report"]


def build_report(
    network: Network,
    hardware: Network,
    decisions: Decisions,
    calibration: SpikeData | None,
    *,
    sensitivity_draws: int = 8,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Per-layer decisions plus, with calibration data, spike counts and accuracy float vs emulated.

    The float model and the emulated ``hardware`` run the calibration samples ``batch_size`` at a
    time (default: :func:`~neurodeploy.quantize.calibration.samples_per_batch`), and only
    per-sample and per-step totals are kept, so memory does not grow with the number of
    calibration samples.

    With labelled calibration data the summary also says which changed decisions are *borderline*
    (:mod:`neurodeploy.sensitivity`): samples that the float model itself decides differently under
    relative weight noise of 1e-3 in one of ``sensitivity_draws`` draws (0: not measured).
    """
    layers: dict[str, dict[str, Any]] = {}
    for pop in hardware.populations:
        if pop.kind == "input":
            continue
        layers[pop.name] = {"population": decisions.populations[pop.name], "incoming": {}}
    for proj in network.projections:
        layers[proj.target]["incoming"][proj.name] = decisions.projections[proj.name]
    total = sum(p.weights.size for p in network.projections)
    clipped = sum(d.weights_clipped for d in decisions.projections.values())
    summary: dict[str, Any] = {
        "target": hardware.profile,
        "weights_clipped_pct": 100.0 * clipped / max(total, 1),
        "delays_clamped": sum(d.delays_clamped for d in decisions.projections.values()),
        "calibration_samples": 0 if calibration is None else len(calibration),
    }
    if calibration is None:
        return {"summary": summary, "layers": layers}
    from neurodeploy.emulator import run as emulate
    from neurodeploy.emulator.canonical import iter_recordings

    n_samples, n_steps = len(calibration), int(calibration.n_steps)
    batch_size = batch_size or samples_per_batch(network, n_steps)
    stats = {
        name: _LayerStats(n_samples, n_steps, hardware.population(name).size) for name in layers
    }
    readout = network.readout
    out = network.output_population
    float_pred = np.full(n_samples, -1, dtype=np.int64)
    emu_pred = np.full(n_samples, -1, dtype=np.int64)
    for idx, float_chunk in iter_recordings(network, calibration, batch_size=batch_size):
        emulated = emulate(hardware, calibration.subset(idx), record_v=True)
        for name, layer_stats in stats.items():
            layer_stats.add(
                idx, float_chunk[name], emulated[name], hardware.population(name).v_scale
            )
        if readout:
            float_pred[idx] = predict(float_chunk[out], readout, network.population(out).v_scale)
            emu_pred[idx] = predict(emulated[out], readout, hardware.population(out).v_scale)
        del float_chunk, emulated
    n = max(n_samples, 1)
    for name, layer in layers.items():
        layer_stats = stats[name]
        layer["spikes_per_sample"] = {
            "float": float(layer_stats.float_spikes) / n,
            "emulated": float(layer_stats.emulated_spikes) / n,
        }
        layer["spike_agreement"] = layer_stats.agreement()
        layer["divergence"] = layer_stats.divergence(network.dt_ms)
    if readout and (calibration.labels >= 0).all():
        summary["float_accuracy"] = accuracy(float_pred, calibration.labels)
        summary["emulated_accuracy"] = accuracy(emu_pred, calibration.labels)
        summary["prediction_agreement"] = float((float_pred == emu_pred).mean())
        flips = float_pred != emu_pred
        summary["prediction_flips"] = int(flips.sum())
        if sensitivity_draws > 0:
            noise = sensitivity(network, calibration, draws=sensitivity_draws, reference=float_pred)
            summary["float_noise"] = noise.to_json()
            summary["flips_on_borderline_samples"] = int((flips & noise.borderline).sum())
    return {"summary": summary, "layers": layers}


class _LayerStats:
    """One layer's float-vs-emulated totals, added up over batches of calibration samples."""

    def __init__(self, n_samples: int, n_steps: int, size: int) -> None:
        self.n_samples, self.n_steps, self.size = n_samples, n_steps, size
        self.float_spikes = 0
        self.emulated_spikes = 0
        # Per step: spikes without a partner at the same (sample, step, neuron), spikes of both.
        self.unmatched = np.zeros(n_steps, dtype=np.int64)
        self.spikes_both = np.zeros(n_steps, dtype=np.int64)
        # Per sample: step of the first spike difference (-1: none).
        self.first_mismatch = np.full(n_samples, -1, dtype=np.int64)
        # Per step: sum over samples and neurons of |v_float - v_emulated|; largest |v_float|.
        self.v_error_sum: NDArray[np.float64] | None = np.zeros(n_steps)
        self.v_float_max = 0.0

    def add(
        self,
        idx: NDArray[np.int64],
        float_record: PopulationRecord,
        emulated: PopulationRecord,
        v_scale: float,
    ) -> None:
        float_spikes, emu_spikes = float_record.spikes != 0, emulated.spikes != 0
        per_step_float = float_spikes.sum(axis=(0, 2), dtype=np.int64)
        per_step_emu = emu_spikes.sum(axis=(0, 2), dtype=np.int64)
        self.float_spikes += int(float_record.spikes.sum(dtype=np.int64))
        self.emulated_spikes += int(emulated.spikes.sum(dtype=np.int64))
        mismatch = float_spikes != emu_spikes  # (chunk, steps, size)
        self.unmatched += mismatch.sum(axis=(0, 2), dtype=np.int64)
        self.spikes_both += per_step_float + per_step_emu
        any_step = mismatch.any(axis=2)
        self.first_mismatch[idx] = np.where(any_step.any(axis=1), any_step.argmax(axis=1), -1)
        if self.v_error_sum is None or float_record.v is None or emulated.v is None:
            self.v_error_sum = None
            return
        v_float = np.asarray(float_record.v, np.float64)
        self.v_float_max = max(self.v_float_max, float(np.abs(v_float).max(initial=0.0)))
        err = np.abs(v_float - np.asarray(emulated.v, np.float64) * v_scale)
        self.v_error_sum += err.sum(axis=(0, 2))

    def agreement(self) -> float:
        """Fraction of (sample, step, neuron) where both runs spike or both stay silent."""
        elements = self.n_samples * self.n_steps * self.size
        return float(elements - int(self.unmatched.sum())) / elements if elements else float("nan")

    def divergence(self, dt_ms: float, n_bins: int = 100) -> dict[str, Any]:
        """Where in time the layer's emulated run departs from the float run.

        Per time bin (at most ``n_bins``): the spikes of either run without a partner at the same
        (sample, step, neuron) over all spikes of both runs, and the mean |v_float - v_emulated|
        relative to the float run's largest |v|. Plus, over the samples where any spike differs,
        the median time of the first difference.
        """
        n_steps = self.n_steps
        width = max(1, -(-n_steps // n_bins))
        edges = np.arange(0, n_steps, width)

        def binned(per_step: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.add.reduceat(per_step, edges) if n_steps else np.zeros(0)

        # Unmatched spikes over all spikes of both runs: 0 identical, 1 disjoint.
        unmatched = binned(self.unmatched.astype(np.float64))
        total = binned(self.spikes_both.astype(np.float64))
        out: dict[str, Any] = {
            "bin_ms": width * dt_ms,
            "spikes_unmatched": unmatched / np.maximum(total, 1.0),
        }
        diverged = self.first_mismatch >= 0
        out["samples_with_spike_mismatch"] = int(diverged.sum())
        out["first_spike_mismatch_ms"] = (
            float(np.median(self.first_mismatch[diverged])) * dt_ms if diverged.any() else None
        )
        if self.v_error_sum is not None:
            scale = max(self.v_float_max, 1e-300)
            count = self.n_samples * self.size
            per_step = self.v_error_sum / count / scale if count else np.zeros(n_steps)
            out["v_error_rel"] = binned(per_step) / width
        return out


def write_report(report: dict[str, Any], out_dir: Path, stem: str = "quantization") -> list[Path]:
    """Write ``stem.json`` and ``stem.png`` into ``out_dir`` (atomically); return their paths."""
    out_dir = Path(out_dir)
    json_path, png_path = out_dir / f"{stem}.json", out_dir / f"{stem}.png"
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(report, indent=2, sort_keys=True, default=_default))
    _plot(report, png_path)
    return [json_path, png_path]


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "to_json"):  # the decision records
        return value.to_json()
    raise TypeError(type(value).__name__)


def _plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = report["layers"]
    projs = [(name, d) for layer in layers.values() for name, d in layer["incoming"].items()]
    fig, axes = plt.subplots(1, 5, figsize=(22, 4), constrained_layout=True)
    names = [n for n, _ in projs]
    x = np.arange(len(projs))
    axes[0].bar(x, [d.weight_rms_error_rel * 100 for _, d in projs], color="tab:blue")
    axes[0].set_title("weight RMS error (% of max |w|)")
    axes[1].bar(
        x, [d.weights_clipped_pct for _, d in projs], color="tab:red", label="weights clipped %"
    )
    axes[1].bar(
        x,
        [d.delays_clamped for _, d in projs],
        bottom=[d.weights_clipped_pct for _, d in projs],
        color="tab:orange",
        label="delays clamped",
    )
    axes[1].set_title("clipped weights (%) / clamped delays")
    axes[1].legend(fontsize=8)
    for ax in axes[:2]:
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    spiking = [
        (n, layer["spikes_per_sample"])
        for n, layer in layers.items()
        if "spikes_per_sample" in layer
    ]
    if spiking:
        xs = np.arange(len(spiking))
        axes[2].bar(xs - 0.2, [s["float"] for _, s in spiking], 0.4, label="float")
        axes[2].bar(xs + 0.2, [s["emulated"] for _, s in spiking], 0.4, label="emulated")
        axes[2].set_xticks(xs, [n for n, _ in spiking], fontsize=8)
        axes[2].legend(fontsize=8)
    summary = report["summary"]
    axes[2].set_title(f"spikes per sample ({summary['target']})")
    _plot_accuracy(axes[3], summary)
    _plot_divergence(axes[4], layers)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _plot_accuracy(ax: Any, summary: dict[str, Any]) -> None:
    """Calibration accuracy float vs emulated, with the float model's band under weight noise."""
    if "float_accuracy" not in summary:
        ax.set_axis_off()
        ax.set_title("no labelled calibration data")
        return
    values = [100 * summary["float_accuracy"], 100 * summary["emulated_accuracy"]]
    low = max(0.0, min(values) - 10)
    ax.bar([0, 1], values, color=["tab:blue", "tab:orange"])
    for x, v in enumerate(values):
        ax.text(x, (low + v) / 2, f"{v:.1f}%", ha="center", color="white", fontsize=10)
    title = f"accuracy, {summary['calibration_samples']} calibration samples"
    if "float_noise" in summary:
        band = summary["float_noise"]["accuracy_under_noise"]
        ax.errorbar(
            0,
            100 * band["mean"],
            yerr=[[100 * (band["mean"] - band["min"])], [100 * (band["max"] - band["mean"])]],
            color="k",
            capsize=6,
            label="float under 1e-3 weight noise (min-max)",
        )
        ax.legend(fontsize=7, loc="upper right")
        title += (
            f"\n{summary['prediction_flips']} decisions changed, "
            f"{summary['flips_on_borderline_samples']} borderline"
        )
    ax.set_ylim(low, 102.0)
    ax.set_xticks([0, 1], ["float", "emulated"])
    ax.set_title(title, fontsize=10)


def _plot_divergence(ax: Any, layers: dict[str, Any]) -> None:
    """Per layer over time: unmatched spikes (spiking layers) or relative v error, in %."""
    drawn = False
    for name, layer in layers.items():
        d = layer.get("divergence")
        if d is None:
            continue
        unmatched = np.asarray(d["spikes_unmatched"], np.float64)
        series, label = unmatched, f"{name}: spikes not at the same step"
        if not unmatched.any() and "v_error_rel" in d:
            series, label = np.asarray(d["v_error_rel"], np.float64), f"{name}: |v error| / max|v|"
        ax.plot(np.arange(len(series)) * d["bin_ms"], 100 * series, label=label)
        drawn = True
    if not drawn:
        ax.set_axis_off()
        ax.set_title("no calibration run")
        return
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("%")
    ax.legend(fontsize=8)
    ax.set_title("where the emulated run departs from float", fontsize=10)
