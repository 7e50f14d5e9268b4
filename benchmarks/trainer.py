"""EventProp trainer: speed and memory on an SHD-size network.

Network: 700 inputs -> 256 recurrent LIF -> 20 LI (max-voltage readout), dt = 1 ms, batch 32,
learned delays on every projection. Inputs are synthetic with SHD-like statistics: each sample is a
~0.8 s "word" of about 8,000 spikes whose active channels sweep a band of the 700 channels (as the
cochlea model's output does), followed by silence up to T.

- speed: training steps (forward, adjoint, Adam) at T = 1,000 steps, max delay 62; samples/s and
  the projected time of one 8,156-sample SHD epoch on this machine, plus the CPU time per sample
  (which, unlike wall time, barely depends on what else the machine runs);
- memory: peak resident memory of a fresh process that trains a few batches, for T = 250 ... 4,000
  steps (max delay 62) and for max delay 0, 62, 250 steps (T = 1,000). ``memory_ratio`` is the
  peak at the largest T over the peak at the smallest T. ``traced_mb`` is the peak of the arrays
  the Python side allocates (tracemalloc), i.e. excluding the interpreter and libraries.

Run: ``python benchmarks/trainer.py [--json] [--batches N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

SHD_EPOCH = 8156


def shd_like(n_samples: int, n_steps: int, seed: int = 0):
    from neurodeploy.spikes import SpikeData

    rng = np.random.default_rng(seed)
    samples, labels = [], []
    for _ in range(n_samples):
        length = int(rng.integers(600, 1000))
        t = np.sort(rng.integers(0, length, size=8000))
        centre = rng.uniform(150, 550) + 120 * np.sin(t / length * np.pi * rng.uniform(1, 3))
        units = np.clip(np.rint(centre + rng.normal(0, 60, size=t.size)), 0, 699).astype(int)
        samples.append((t, units))
        labels.append(int(rng.integers(0, 20)))
    return SpikeData.from_events(samples, np.array(labels), n_channels=700, n_steps=n_steps)


def _setup(n_steps: int, max_delay: int, n_samples: int):
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.engine import Engine
    from neurodeploy.trainer.loop import loss_params
    from neurodeploy.trainer.optim import Adam
    from neurodeploy.trainer.state import Trainer

    cfg = load_config(
        None,
        [
            "data.dt_ms=1.0",
            "model.hidden=[256]",
            "model.recurrent=true",
            f"model.max_delay_steps={max_delay}",
            f"model.recurrent_max_delay_steps={max_delay}",
            f"model.delay_init_steps=[0.0, {max_delay}.0]",
            "train.learn_delays=true",
            # ~14 spikes per hidden neuron per trial on these inputs: the activity mlGeNN's SHD
            # examples regularise towards (nu = 14)
            "model.input_init=[0.023, 0.01]",
        ],
    )
    tr = Trainer.initial(cfg, 700, 20)
    engine = Engine(tr.template, tr.max_delays)
    adam_w = Adam([w.shape for w in tr.weights])
    adam_d = Adam([d.shape for d in tr.delays])
    return cfg, tr, engine, adam_w, adam_d, loss_params(cfg), shd_like(n_samples, n_steps)


def _train_batches(setup, n_batches: int, batch: int = 32) -> tuple[float, int]:
    _cfg, tr, engine, adam_w, adam_d, lp, spikes = setup
    start = time.perf_counter()
    done = 0
    hidden = 0
    for k in range(n_batches):
        idx = (np.arange(batch) + k * batch) % len(spikes)
        r = engine.run(tr.weights, tr.delays, spikes, idx, lp, dt_ms=1.0)
        hidden += int(r.counts[:, 700:956].sum())
        adam_w.step(tr.weights, r.grad_w, [1e-3 * u for u in tr.units])
        adam_d.step(tr.delays, r.grad_d, 0.1)
        done += batch
    _train_batches.hidden_rate = hidden / max(done, 1) / 256
    return time.perf_counter() - start, done


def child(n_steps: int, max_delay: int, n_batches: int) -> dict:
    setup = _setup(n_steps, max_delay, 64)
    _train_batches(setup, 1)  # compile / warm up
    tracemalloc.start()
    cpu0 = time.process_time()
    seconds, samples = _train_batches(setup, n_batches)
    cpu = time.process_time() - cpu0
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "T": n_steps,
        "max_delay": max_delay,
        "peak_mb": peak,
        "traced_mb": traced,
        "samples_per_second": samples / seconds,
        "cpu_ms_per_sample": 1000 * cpu / samples,
        "hidden_spikes_per_neuron": _train_batches.hidden_rate,
    }


def _spawn(n_steps: int, max_delay: int, n_batches: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n_steps), str(max_delay), str(n_batches)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--batches", type=int, default=12, help="batches timed for the speed figure")
    ap.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    import numba

    speed = _spawn(1000, 62, args.batches)
    sps = speed["samples_per_second"]
    by_t = {t: _spawn(t, 62, 2) for t in (250, 500, 1000, 2000, 4000)}
    by_d = {d: _spawn(1000, d, 2) for d in (0, 62, 250)}
    result = {
        "network": "700 -> 256 recurrent LIF -> 20 LI, dt 1 ms, batch 32, learned delays",
        "threads": numba.config.NUMBA_NUM_THREADS,
        "samples_per_second": sps,
        "hidden_spikes_per_neuron": speed["hidden_spikes_per_neuron"],
        "cpu_ms_per_sample": speed["cpu_ms_per_sample"],
        "load_average": os.getloadavg()[0],
        "epoch_seconds": SHD_EPOCH / sps,
        "peak_mb": {str(t): r["peak_mb"] for t, r in by_t.items()},
        "traced_mb": {str(t): r["traced_mb"] for t, r in by_t.items()},
        "peak_mb_by_max_delay": {str(d): r["peak_mb"] for d, r in by_d.items()},
        "traced_mb_by_max_delay": {str(d): r["traced_mb"] for d, r in by_d.items()},
        "memory_ratio": by_t[4000]["peak_mb"] / by_t[250]["peak_mb"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"speed ({result['network']}, T = 1000, max delay 62, {result['threads']} threads)")
    print(f"  hidden spikes/neuron    {speed['hidden_spikes_per_neuron']:10.1f}")
    print(f"  training samples/s      {sps:10.1f}")
    print(f"  SHD epoch (8,156)       {result['epoch_seconds']:10.1f} s")
    print(f"  CPU time per sample     {result['cpu_ms_per_sample']:10.1f} ms (all threads)")
    print(
        f"  1-min load average      {result['load_average']:10.1f} (other processes slow this down)"
    )
    print("memory vs T (max delay 62)")
    print(f"  {'T':>6} {'peak MB':>10} {'traced MB':>10}")
    for t, r in by_t.items():
        print(f"  {t:>6} {r['peak_mb']:>10.1f} {r['traced_mb']:>10.1f}")
    print(f"  memory_ratio (T=4000 / T=250) = {result['memory_ratio']:.3f}")
    print("memory vs max delay (T = 1000)")
    print(f"  {'delay':>6} {'peak MB':>10} {'traced MB':>10}")
    for d, r in by_d.items():
        print(f"  {d:>6} {r['peak_mb']:>10.1f} {r['traced_mb']:>10.1f}")


if __name__ == "__main__":
    main()
