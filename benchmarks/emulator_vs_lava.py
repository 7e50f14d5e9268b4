"""Time Lava's bit-accurate simulator against neurodeploy's Loihi 2 emulator on the same networks.

Usage::

    python benchmarks/emulator_vs_lava.py [--sizes 100,300,1000,3000,10000] [--steps 1000]
                                          [--samples 2] [--lava-max-synapse-steps 2e10] [--json]

Each network is a random ``loihi2`` hardware model: an input population (20 % of the neurons), two
recurrent LIF layers (the rest, minus a 10-neuron LI readout), feedforward fan-in of at most 128
per neuron with delays 0..``--max-delay`` and delay-free recurrence, inputs at 5 % per step. Both
run the same samples with v recorded; the emulator is timed after a warm-up call (JIT compile
excluded), Lava end to end (process build, compile, run, read-back, stop).

Lava's per-step cost grows with ``(max_delay + 1) * n_post * n_pre`` per delayed projection
(``DelayDense`` re-expands its weights every step), so for networks above
``--lava-max-synapse-steps`` Lava runs fewer steps (the table says so, and the times compared are
for that shorter run; the emulator is timed on the same shorter run). The verdict of agreement
(spikes and v identical at every step) is printed too.

``--json`` prints one object: ``speedup`` (median of Lava s / emulator s over the networks Lava
ran), ``rows`` (one per network) and the settings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np

from neurodeploy.network import Network, Population, Projection
from neurodeploy.records import Recording, first_mismatch
from neurodeploy.spikes import SpikeData

_FAN_IN = 128


def random_network(rng: np.random.Generator, n_neurons: int, *, max_delay: int = 4) -> Network:
    """Random ``loihi2`` model of about ``n_neurons`` neurons: input -> h1 (rec) -> h2 (rec) -> readout."""
    n_out = 10
    n_in = max(1, n_neurons // 5)
    n_hidden = max(1, (n_neurons - n_in - n_out) // 2)
    pops = [Population(name="input", size=n_in, kind="input")]
    for name, n_pre in (("h1", n_in), ("h2", n_hidden)):
        # threshold in proportion to the feedforward fan-in keeps hidden rates at a few % per step
        vth = int(rng.uniform(8, 12) * min(n_pre, _FAN_IN))
        pops.append(_lif(rng, name, n_hidden, vth=vth))
    pops.append(_lif(rng, "readout", n_out, vth=131071, kind="li"))
    projs = [
        _projection(rng, pops[0], pops[1], max_delay, mean=8),
        _projection(rng, pops[1], pops[1], 0, mean=-8),
        _projection(rng, pops[1], pops[2], max_delay, mean=8),
        _projection(rng, pops[2], pops[2], 0, mean=-8),
        _projection(rng, pops[2], pops[3], 0, mean=0),
    ]
    return Network(
        dt_ms=1.0, populations=tuple(pops), projections=tuple(projs), profile="loihi2"
    ).validate()


def _lif(
    rng: np.random.Generator, name: str, size: int, *, vth: int, kind: str = "lif"
) -> Population:
    hw = {
        "du": np.array([int(rng.integers(200, 800))]),
        "dv": np.array([int(rng.integers(100, 400))]),
        "vth": np.array([vth]),
        "bias_mant": rng.integers(-8, 8, size),
        "bias_exp": np.array([4]),
    }
    return Population(name=name, size=size, kind=kind, hw_params=hw)


def _projection(
    rng: np.random.Generator, source: Population, target: Population, max_delay: int, *, mean: int
) -> Projection:
    shape = (target.size, source.size)
    density = min(1.0, _FAN_IN / source.size)
    weights = np.clip(rng.normal(mean, 24, shape).round(), -256, 254).astype(np.int64)
    weights *= rng.random(shape) < density
    delays = rng.integers(0, max_delay + 1, shape) if max_delay else None
    hw = {"weight_exp": 0, "num_weight_bits": 8}
    return Projection(
        source=source.name, target=target.name, weights=weights, delays=delays, hw_params=hw
    )


def synaptic_events(network: Network, inputs: SpikeData, rec: Recording) -> int:
    """Spikes delivered to non-zero synapses: sum over projections of pre spikes x fan-out."""
    counts = {
        p.name: rec[p.name].spikes.sum(axis=(0, 1))
        for p in network.populations
        if p.kind != "input"
    }
    raster = inputs.to_dense()
    lo = 0
    for pop in network.inputs:
        counts[pop.name] = raster[:, :, lo : lo + pop.size].sum(axis=(0, 1))
        lo += pop.size
    return int(
        sum(counts[p.source] @ np.count_nonzero(p.weights, axis=0) for p in network.projections)
    )


def bench_one(
    n_neurons: int, *, steps: int, samples: int, max_delay: int, lava_budget: float, seed: int
) -> dict[str, Any]:
    """Build one network, run emulator and Lava, return a table row."""
    from neurodeploy.backends.lava import LavaBackend, auto_samples_per_network
    from neurodeploy.emulator import run as emulate

    rng = np.random.default_rng([seed, n_neurons])
    network = random_network(rng, n_neurons, max_delay=max_delay)
    n_in = network.inputs[0].size
    synapses = int(sum(np.count_nonzero(p.weights) for p in network.projections))
    dense_work = sum(p.weights.size * (p.max_delay + 1) for p in network.projections)
    lava_steps = (
        steps if dense_work * steps <= lava_budget else max(10, int(lava_budget // dense_work))
    )
    raster = (rng.random((samples, steps, n_in)) < 0.05).astype(np.uint8)
    inputs = SpikeData.from_dense(raster)
    short = inputs if lava_steps == steps else SpikeData.from_dense(raster[:, :lava_steps])

    emulate(network, SpikeData.from_dense(raster[:1, :2]))  # JIT warm-up
    t0 = time.perf_counter()
    emu_full = emulate(network, inputs)
    emu_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emu_short = emulate(network, short) if short is not inputs else emu_full
    emu_short_s = time.perf_counter() - t0 if short is not inputs else emu_s
    events = synaptic_events(network, inputs, emu_full)

    t0 = time.perf_counter()
    lava = LavaBackend().run(network, short)
    lava_s = time.perf_counter() - t0
    mismatch = first_mismatch(emu_short, lava)
    rate = float(np.mean([emu_full[n].spikes.mean() for n in ("h1", "h2")]))
    return {
        "neurons": sum(p.size for p in network.populations),
        "synapses": synapses,
        "steps": steps,
        "lava_steps": lava_steps,
        "samples": samples,
        "samples_per_lava_network": auto_samples_per_network(network, samples),
        "lava_s": lava_s,
        "lava_s_per_sample": lava_s / samples,
        "emulator_s": emu_s,
        "emulator_s_same_steps": emu_short_s,
        "speedup": lava_s / emu_short_s,
        "synaptic_events": events,
        "emulator_events_per_s": events / emu_s,
        "hidden_rate_per_step": rate,
        "agree": mismatch is None,
        "first_mismatch": None if mismatch is None else str(mismatch),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    head = f"{'neurons':>8} {'synapses':>10} {'steps':>6} {'Lava s':>9} {'Lava s/sample':>13} {'emulator s':>10} {'speedup':>8} {'emu events/s':>13} {'agree':>5}"
    lines = [head, "-" * len(head)]
    for r in rows:
        steps = str(r["steps"]) if r["lava_steps"] == r["steps"] else f"{r['lava_steps']}*"
        lines.append(
            f"{r['neurons']:>8} {r['synapses']:>10} {steps:>6} {r['lava_s']:>9.2f} {r['lava_s_per_sample']:>13.2f} "
            f"{r['emulator_s_same_steps']:>10.4f} {r['speedup']:>8.0f} {r['emulator_events_per_s']:>13.3g} "
            f"{'yes' if r['agree'] else 'NO':>5}"
        )
    if any(r["lava_steps"] != r["steps"] for r in rows):
        lines.append(
            "* Lava too slow for the full run: Lava and emulator both timed on this many steps "
            "(emulator events/s from the full run)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100,300,1000,3000,10000", help="comma-separated neuron counts"
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--max-delay", type=int, default=4)
    parser.add_argument(
        "--lava-max-synapse-steps",
        type=float,
        default=2e10,
        help="dense synapse-delay-steps budget above which Lava runs fewer steps",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(
            bench_one(
                size,
                steps=args.steps,
                samples=args.samples,
                max_delay=args.max_delay,
                lava_budget=args.lava_max_synapse_steps,
                seed=args.seed,
            )
        )
        if not args.json:
            print(f"done {size} neurons", file=sys.stderr, flush=True)
    speedup = statistics.median(r["speedup"] for r in rows)
    if args.json:
        settings = {k: getattr(args, k) for k in ("steps", "samples", "max_delay", "seed")}
        print(json.dumps({"speedup": speedup, "rows": rows, "settings": settings}, indent=2))
    else:
        print(_table(rows))
        print(f"median speedup (Lava s / emulator s): {speedup:.0f}x")
    return 0 if all(r["agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
