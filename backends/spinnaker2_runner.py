#!/usr/bin/env python3
"""Run a neurodeploy SpiNNaker2 bundle on a SpiNNaker2 chip and save spikes and voltages.

Standalone (Python 3.8+): needs only numpy, h5py and py-spinnaker2 (``from spinnaker2 import
snn, hardware``; not on PyPI: ``pip install git+https://gitlab.com/spinnaker2/py-spinnaker2.git``).
neurodeploy writes this file into every bundle as ``run_on_spinnaker2.py``; it reads ``network.json``,
``inputs.json`` and ``placement.json`` from its own folder (or ``--bundle``).

Usage::

    python run_on_spinnaker2.py --host 192.168.1.17 [--sys-tick 0.002] [--samples 0:10]
                                [--results results.h5] [--no-voltages] [--overwrite]

For every sample it builds the network (``snn.Population`` / ``snn.Projection`` /
``snn.Network``), runs it for ``n_steps`` ticks with ``hardware.SpiNNaker2Chip(eth_ip=HOST)
.run(net, n_steps, sys_tick_in_s=...)`` and stores what the chip recorded.

Results file (HDF5, format ``neurodeploy-spinnaker2-results``, version 1)::

    /                          attrs: format, format_version, model_fingerprint, inputs_fingerprint,
                                      options (JSON), host, sys_tick_in_s, n_steps, n_samples,
                                      samples_done (rows filled so far), complete (bool),
                                      record_voltages, spinnaker2_version, created (UTC ISO)
    /sample_index              int64 (n_samples,): sample numbers in inputs.json
    /run_seconds               float64 (n_samples,): wall time of each hw.run
    /inputs/steps, /inputs/units   int32 (n_events,): the input spikes sent (tick, channel)
    /inputs/offsets            int64 (n_samples + 1,); /inputs/labels int64 (n_samples,)
                               attrs: n_channels, n_steps
    /populations/<name>/spikes uint8 (n_samples, n_steps, size): 1 where the neuron spiked
    /populations/<name>/v      float32 (n_samples, n_steps, size): recorded v (post-reset);
                               NaN where the chip returned no value; absent with --no-voltages

Rows are written as samples finish, so an interrupted run keeps the finished samples
(``samples_done``). Channels of ``/inputs`` are the input populations' neurons concatenated in
bundle order. Compare with the emulator on the workstation:
``neurodeploy verify MODEL.h5 --results results.h5``.

If the board log shows "Deadline missed", a tick overran and spikes were processed late; results
are then not deterministic. Re-run with a larger ``--sys-tick``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

RESULTS_FORMAT = "neurodeploy-spinnaker2-results"
RESULTS_VERSION = 1
BUNDLE_FORMAT = "neurodeploy-spinnaker2-bundle"
BUNDLE_VERSION = 1
DEFAULT_SYS_TICK_S = 2e-3
INSTALL_HINT = (
    "py-spinnaker2 is not importable: install it with "
    "`pip install git+https://gitlab.com/spinnaker2/py-spinnaker2.git` (it is not on PyPI)"
)


class BundleError(Exception):
    """A bundle file is missing or malformed, or an option is invalid."""


def _reject_constant(token: str) -> Any:
    """``json.load`` hook: the bundle is strict JSON, so ``NaN``/``Infinity`` are errors."""
    raise ValueError(f"non-standard JSON token {token}")


def load_bundle(bundle_dir: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(network, inputs, placement)`` JSON documents of the bundle in ``bundle_dir``."""
    docs = []
    for name in ("network.json", "inputs.json", "placement.json"):
        path = bundle_dir / name
        if not path.is_file():
            hint = (
                " (export the bundle with --data to include inputs)"
                if name == "inputs.json"
                else ""
            )
            raise BundleError(f"{path}: no such file{hint}")
        with open(path) as f:
            try:
                docs.append(json.load(f, parse_constant=_reject_constant))
            except ValueError as exc:
                raise BundleError(f"{path}: not strict JSON ({exc})") from None
    network, inputs, placement = docs
    if network.get("format") != BUNDLE_FORMAT or network.get("format_version") != BUNDLE_VERSION:
        raise BundleError(
            f"{bundle_dir / 'network.json'}: expected format {BUNDLE_FORMAT} version {BUNDLE_VERSION}, "
            f"got {network.get('format')!r} version {network.get('format_version')!r}"
        )
    return network, inputs, placement


def build_network(
    snn: Any,
    bundle: dict[str, Any],
    placement: dict[str, Any],
    sample: dict[str, Any],
    record_voltages: bool,
) -> tuple[Any, dict[str, Any]]:
    """The ``snn.Network`` of one sample and its populations by name.

    ``sample`` maps each input population to its ``spike_list`` params ``{neuron: [ticks]}``.
    """
    pops: dict[str, Any] = {}
    for entry in bundle["populations"]:
        name = entry["name"]
        if entry["neuron_model"] == "spike_list":
            params = {int(k): [int(t) for t in v] for k, v in sample.get(name, {}).items()}
            pop = snn.Population(
                size=entry["size"], neuron_model="spike_list", params=params, name=name
            )
        else:
            record = ["spikes", "v"] if record_voltages else ["spikes"]
            pop = snn.Population(
                size=entry["size"],
                neuron_model=entry["neuron_model"],
                params=dict(entry["params"]),
                name=name,
                record=record,
            )
        per_core = placement["neurons_per_core"].get(name)
        if per_core is not None and hasattr(pop, "set_max_atoms_per_core"):
            pop.set_max_atoms_per_core(int(per_core))
        pops[name] = pop
    projs = [
        snn.Projection(pre=pops[p["pre"]], post=pops[p["post"]], connections=p["connections"])
        for p in bundle["projections"]
    ]
    net = snn.Network(bundle.get("name", "neurodeploy"))
    net.add(*pops.values(), *projs)
    return net, pops


def spikes_to_raster(spikes: dict[Any, Any], n_steps: int, size: int) -> tuple[np.ndarray, int]:
    """uint8 raster (n_steps, size) of ``{neuron: [ticks]}``, and how many ticks fell outside."""
    raster = np.zeros((n_steps, size), np.uint8)
    dropped = 0
    for idx, ticks in spikes.items():
        ticks = np.asarray(ticks, dtype=np.int64).ravel()
        inside = (ticks >= 0) & (ticks < n_steps)
        dropped += int((~inside).sum())
        raster[ticks[inside], int(idx)] = 1
    return raster, dropped


def voltages_to_array(voltages: dict[Any, Any], n_steps: int, size: int) -> tuple[np.ndarray, int]:
    """float32 array (n_steps, size) of ``{neuron: values per tick}`` (NaN where missing), and the
    number of neurons whose trace did not have exactly ``n_steps`` values."""
    out = np.full((n_steps, size), np.nan, np.float32)
    odd = 0
    for idx, trace in voltages.items():
        trace = np.asarray(trace).ravel()
        if len(trace) != n_steps:
            odd += 1
        n = min(len(trace), n_steps)
        # float32 values decoded to float64 convert back exactly
        out[:n, int(idx)] = trace[:n].astype(np.float32)
    return out, odd


def _select(spec: str | None, n_samples: int) -> list[int]:
    if not spec:
        return list(range(n_samples))
    try:
        if ":" in spec:
            start, _, stop = spec.partition(":")
            return list(range(n_samples))[slice(int(start or 0), int(stop) if stop else None)]
        index = [int(x) for x in spec.split(",")]
    except ValueError:
        raise BundleError(
            f"--samples must be START:STOP or a comma list of integers, got {spec!r}"
        ) from None
    bad = [i for i in index if not 0 <= i < n_samples]
    if bad:
        raise BundleError(f"--samples: sample {bad[0]} is not in [0, {n_samples - 1}]")
    return index


def _create_results(
    path: Path,
    bundle: dict[str, Any],
    inputs: dict[str, Any],
    index: list[int],
    meta: dict[str, Any],
) -> h5py.File:
    f = h5py.File(path, "w")
    n, n_steps = len(index), int(inputs["n_steps"])
    f.attrs["format"] = RESULTS_FORMAT
    f.attrs["format_version"] = RESULTS_VERSION
    f.attrs["model_fingerprint"] = bundle["model_fingerprint"]
    f.attrs["inputs_fingerprint"] = inputs["inputs_fingerprint"]
    f.attrs["options"] = json.dumps(bundle["options"], sort_keys=True, allow_nan=False)
    f.attrs["n_steps"] = n_steps
    f.attrs["n_samples"] = n
    f.attrs["samples_done"] = 0
    f.attrs["complete"] = False
    f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat()  # noqa: UP017 (Python 3.8+)
    for key, value in meta.items():
        f.attrs[key] = value
    f.create_dataset("sample_index", data=np.asarray(index, np.int64))
    f.create_dataset("run_seconds", data=np.zeros(n))
    # The input spikes of the selected samples, channels = input neurons in bundle order.
    steps, units, offsets = [], [], [0]
    start = 0
    channel_start = {}
    for entry in bundle["populations"]:
        if entry["neuron_model"] == "spike_list":
            channel_start[entry["name"]] = start
            start += entry["size"]
    for i in index:
        events = [
            (int(t), channel_start[name] + int(k))
            for name, params in inputs["samples"][i].items()
            for k, ticks in params.items()
            for t in ticks
        ]
        events.sort()
        steps += [e[0] for e in events]
        units += [e[1] for e in events]
        offsets.append(offsets[-1] + len(events))
    g = f.create_group("inputs")
    g.create_dataset("steps", data=np.asarray(steps, np.int32))
    g.create_dataset("units", data=np.asarray(units, np.int32))
    g.create_dataset("offsets", data=np.asarray(offsets, np.int64))
    g.create_dataset("labels", data=np.asarray([inputs["labels"][i] for i in index], np.int64))
    g.attrs["n_channels"] = start
    g.attrs["n_steps"] = n_steps
    pops = f.create_group("populations")
    for entry in bundle["populations"]:
        if entry["neuron_model"] == "spike_list":
            continue
        shape = (n, n_steps, entry["size"])
        chunk = (1, n_steps, entry["size"])
        pg = pops.create_group(entry["name"])
        pg.create_dataset("spikes", shape=shape, dtype=np.uint8, chunks=chunk, compression="gzip")
        if meta["record_voltages"]:
            pg.create_dataset("v", shape=shape, dtype=np.float32, chunks=chunk, fillvalue=np.nan)
    return f


def run_bundle(
    bundle_dir: str | Path,
    *,
    host: str,
    results_path: str | Path | None = None,
    sys_tick_in_s: float = DEFAULT_SYS_TICK_S,
    samples: str | None = None,
    record_voltages: bool = True,
    overwrite: bool = False,
    log: Any = print,
) -> Path:
    """Run the bundle's samples on the chip at ``host``; return the results file written.

    Raises BundleError for a bad bundle or option and ImportError if py-spinnaker2 is missing.
    """
    bundle_dir = Path(bundle_dir)
    bundle, inputs, placement = load_bundle(bundle_dir)
    results_path = Path(results_path) if results_path else bundle_dir / "results.h5"
    if results_path.exists() and not overwrite:
        raise BundleError(f"{results_path} exists; pass --overwrite to replace it")
    if not sys_tick_in_s > 0:
        raise BundleError(f"--sys-tick must be > 0 seconds, got {sys_tick_in_s}")
    try:
        import spinnaker2
        from spinnaker2 import hardware, snn
    except ImportError as exc:
        raise ImportError(f"{INSTALL_HINT} ({exc})") from None
    index = _select(samples, len(inputs["samples"]))
    n_steps = int(inputs["n_steps"])
    meta = {
        "host": host,
        "sys_tick_in_s": float(sys_tick_in_s),
        "record_voltages": bool(record_voltages),
        "spinnaker2_version": str(getattr(spinnaker2, "__version__", "unknown")),
    }
    sizes = {
        e["name"]: e["size"] for e in bundle["populations"] if e["neuron_model"] != "spike_list"
    }
    with _create_results(results_path, bundle, inputs, index, meta) as f:
        for row, i in enumerate(index):
            net, pops = build_network(snn, bundle, placement, inputs["samples"][i], record_voltages)
            hw = hardware.SpiNNaker2Chip(eth_ip=host)
            start = time.perf_counter()
            hw.run(net, n_steps, sys_tick_in_s=sys_tick_in_s)
            f["run_seconds"][row] = time.perf_counter() - start
            del hw
            for name, size in sizes.items():
                raster, dropped = spikes_to_raster(pops[name].get_spikes(), n_steps, size)
                if dropped:
                    log(
                        f"warning: sample {i}: {name}: {dropped} spikes outside ticks 0..{n_steps - 1}"
                    )
                f["populations"][name]["spikes"][row] = raster
                if record_voltages:
                    volts, odd = voltages_to_array(pops[name].get_voltages(), n_steps, size)
                    if odd:
                        log(
                            f"warning: sample {i}: {name}: {odd} voltage traces without {n_steps} values"
                        )
                    f["populations"][name]["v"][row] = volts
            f.attrs["samples_done"] = row + 1
            f.flush()
            log(f"sample {i} ({row + 1}/{len(index)}) done in {f['run_seconds'][row]:.1f} s")
        f.attrs["complete"] = True
    return results_path


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description="Run a neurodeploy bundle on a SpiNNaker2 chip.")
    parser.add_argument("--host", required=True, help="Ethernet IP address of the SpiNNaker2 chip.")
    parser.add_argument(
        "--bundle", type=Path, default=here, help="Bundle folder (default: this file's)."
    )
    parser.add_argument(
        "--results", type=Path, default=None, help="Results file (default: BUNDLE/results.h5)."
    )
    parser.add_argument(
        "--sys-tick",
        type=float,
        default=DEFAULT_SYS_TICK_S,
        help=f"Seconds per tick (default {DEFAULT_SYS_TICK_S}); raise it if the log shows 'Deadline missed'.",
    )
    parser.add_argument(
        "--samples", default=None, help="START:STOP or a comma list (default: all)."
    )
    parser.add_argument("--no-voltages", action="store_true", help="Record spikes only.")
    parser.add_argument(
        "--overwrite", action="store_true", help="Replace an existing results file."
    )
    args = parser.parse_args(argv)
    try:
        path = run_bundle(
            args.bundle,
            host=args.host,
            results_path=args.results,
            sys_tick_in_s=args.sys_tick,
            samples=args.samples,
            record_voltages=not args.no_voltages,
            overwrite=args.overwrite,
        )
    except (BundleError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
