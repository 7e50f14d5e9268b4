"""The trainers side by side: EventProp, neurodeploy BPTT and PyTorch BPTT peers on one network.

Network (every method): 700 inputs -> 256 recurrent LIF -> 20 LI readout, dt = 1 ms, batch 32,
max-voltage cross-entropy, the canonical step (``I = ds I + x``, ``V = dm V + I``, spike if
``V > threshold``, reset to 0, one step of synaptic latency), the same initial weights (written by
neurodeploy's initialiser, loaded by every method) and the same synthetic SHD-like inputs
(``benchmarks/trainer.py``'s generator, drawn from one seed): ~14 hidden spikes per neuron per
sample. One training step = forward, gradient, Adam. Methods:

- ``eventprop+delays``: neurodeploy EventProp, delays on every projection learned (max 62 steps)
- ``eventprop``: neurodeploy EventProp, delays 0 and fixed
- ``bptt``: neurodeploy BPTT (``train.method = "bptt"``, fast sigmoid, width 0.5), delays 0
- ``torch-bptt``: hand-written PyTorch BPTT: a no-grad forward that keeps spikes and
  pseudo-derivatives, a hand-written backward (no autograd graph), the input as a sparse matrix
  (input currents and the input-weight gradient are sparse x dense products), the recurrent and
  readout weight gradients as one matmul each over all steps
- ``snntorch``: snnTorch 1.0 ``Synaptic`` neurons (fast-sigmoid surrogate, reset to zero) and
  ``nn.Linear`` layers, autograd, dense input (how snnTorch models are written)

Each (method, T) runs in a fresh process with the same thread count (``--threads``: numba and torch
threads): one warm-up step (compilation), then ``--batches`` timed steps; samples/s, CPU ms per
sample (process time, all threads) and peak resident memory (``ru_maxrss``, the whole process
including the warm-up). The peers need ``pip install -e .[peers]`` (torch, snntorch); if this
interpreter lacks them they run under ``--peers-python`` (default ``.venv-peers/bin/python``
when it exists), which needs only numpy, torch and snntorch: neurodeploy's process writes the
weights and inputs to a temporary ``.npz`` that both read.

Run: ``python benchmarks/trainers.py [--json] [--threads 2] [--batches 3] [--steps 250,...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

METHODS = ("eventprop+delays", "eventprop", "bptt", "torch-bptt", "snntorch")
PEERS = ("torch-bptt", "snntorch")
BATCH = 32
N_SAMPLES = 64
MAX_DELAY = 62
ROOT = Path(__file__).resolve().parents[1]


def shd_like_events(n_samples: int, seed: int = 0) -> tuple[list, np.ndarray]:
    """``benchmarks/trainer.py``'s SHD-like generator without neurodeploy: per sample (steps,
    units) of ~8,000 spikes in a ~0.8 s band sweep; labels in 0..19."""
    rng = np.random.default_rng(seed)
    samples, labels = [], []
    for _ in range(n_samples):
        length = int(rng.integers(600, 1000))
        t = np.sort(rng.integers(0, length, size=8000))
        centre = rng.uniform(150, 550) + 120 * np.sin(t / length * np.pi * rng.uniform(1, 3))
        units = np.clip(np.rint(centre + rng.normal(0, 60, size=t.size)), 0, 699).astype(int)
        samples.append((t, units))
        labels.append(int(rng.integers(0, 20)))
    return samples, np.array(labels)


def _config(max_delay: int, learn: bool, method: str):
    from neurodeploy.trainer.config import load_config

    return load_config(
        None,
        [
            "data.dt_ms=1.0",
            "model.hidden=[256]",
            "model.recurrent=true",
            f"model.max_delay_steps={max_delay}",
            f"model.recurrent_max_delay_steps={max_delay}",
            f"model.delay_init_steps=[0.0, {max_delay}.0]",
            f"train.learn_delays={'true' if learn else 'false'}",
            f"train.method={method}",
            "model.input_init=[0.023, 0.01]",  # ~14 hidden spikes per neuron (trainer.py)
        ],
    )


def write_shared(path: Path) -> None:
    """Initial network (delays 0) and parameters for the peers, from neurodeploy's initialiser."""
    from neurodeploy.trainer.state import Trainer

    tr = Trainer.initial(_config(0, False, "eventprop"), 700, 20)
    net = tr.template
    pops = {p.name: p for p in net.populations}
    arrays = {}
    for proj, w in zip(net.projections, tr.weights, strict=True):
        kind = "rec" if proj.source == proj.target else ("in" if proj.source == "input" else "out")
        arrays[f"w_{kind}"] = w
    hid = next(p for p in net.populations if p.kind == "lif")
    out = next(p for p in net.populations if p.kind == "li")
    arrays["hidden"] = np.array([hid.decay_mem, hid.decay_syn, hid.threshold])
    arrays["output"] = np.array([out.decay_mem, out.decay_syn])
    arrays["units"] = np.array([tr.units[q] for q in range(len(tr.units))], dtype=float)
    del pops
    np.savez(path, **arrays)


def _ru_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- neurodeploy


def run_neurodeploy(method: str, n_steps: int, n_batches: int) -> dict:
    from neurodeploy.spikes import SpikeData
    from neurodeploy.trainer.bptt import make_engine
    from neurodeploy.trainer.loop import loss_params
    from neurodeploy.trainer.optim import Adam
    from neurodeploy.trainer.state import Trainer

    learn = method == "eventprop+delays"
    max_delay = MAX_DELAY if learn else 0
    cfg = _config(max_delay, learn, "bptt" if method == "bptt" else "eventprop")
    tr = Trainer.initial(cfg, 700, 20)
    engine = make_engine(tr.template, tr.max_delays, cfg.train, [learn] * len(tr.max_delays))
    samples, labels = shd_like_events(N_SAMPLES)
    spikes = SpikeData.from_events(samples, labels, n_channels=700, n_steps=n_steps)
    lp = loss_params(cfg)
    adam_w = Adam([w.shape for w in tr.weights])
    adam_d = Adam([d.shape for d in tr.delays])
    hidden = [0]

    def step(k: int) -> None:
        idx = (np.arange(BATCH) + k * BATCH) % N_SAMPLES
        r = engine.run(tr.weights, tr.delays, spikes, idx, lp, dt_ms=1.0)
        hidden[0] += int(r.counts[:, 700:956].sum())
        adam_w.step(tr.weights, r.grad_w, [1e-3 * u for u in tr.units])
        if learn:
            adam_d.step(tr.delays, r.grad_d, 0.1)

    return _timed(step, n_batches, hidden)


def _timed(step, n_batches: int, hidden: list[int]) -> dict:
    step(0)  # compile / warm up
    hidden[0] = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for k in range(1, n_batches + 1):
        step(k)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    n = n_batches * BATCH
    return {
        "samples_per_second": n / wall,
        "cpu_ms_per_sample": 1000 * cpu / n,
        "peak_mb": _ru_peak_mb(),
        "hidden_spikes_per_neuron": hidden[0] / n / 256,
    }


# ----------------------------------------------------------------------------- peers (torch)


def run_peer(method: str, n_steps: int, n_batches: int, shared: str, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    z = np.load(shared)
    dm, ds, th = (float(x) for x in z["hidden"])
    odm, ods = (float(x) for x in z["output"])
    w_in = torch.tensor(z["w_in"], dtype=torch.float32)
    w_rec = torch.tensor(z["w_rec"], dtype=torch.float32)
    w_out = torch.tensor(z["w_out"], dtype=torch.float32)
    samples, labels_np = shd_like_events(N_SAMPLES)
    width = 0.5

    def batch_inputs(k: int):
        idx = (np.arange(BATCH) + k * BATCH) % N_SAMPLES
        rows, cols = [], []
        for b, s in enumerate(idx):
            t, u = samples[s]
            keep = t < n_steps
            key = np.unique(t[keep].astype(np.int64) * 700 + u[keep])  # binary spikes
            rows.append((key // 700) * BATCH + b)  # row = t * B + b
            cols.append(key % 700)
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        return r, c, torch.tensor(labels_np[idx], dtype=torch.long)

    params = [w_in.clone(), w_rec.clone(), w_out.clone()]
    for p in params:
        p.requires_grad_(True)
    lr = [1e-3 * float(u) for u in z["units"]]
    opt = torch.optim.Adam([{"params": [p], "lr": lr_} for p, lr_ in zip(params, lr, strict=True)])
    hidden = [0]

    if method == "torch-bptt":

        def step(k: int) -> None:
            r, c, labels = batch_inputs(k)
            n_rows = n_steps * BATCH
            s_in = torch.sparse_coo_tensor(
                torch.tensor(np.stack([r, c])), torch.ones(len(r)), (n_rows, 700)
            ).coalesce()
            wi, wr, wo = (p.detach() for p in params)
            with torch.no_grad():
                # input currents arriving one step after the input spike
                x = torch.sparse.mm(s_in, wi.t()).view(n_steps, BATCH, 256)
                spk = torch.zeros(n_steps, BATCH, 256)
                sg = torch.zeros(n_steps, BATCH, 256)
                vo_all = torch.zeros(n_steps, BATCH, 20)
                i_h = torch.zeros(BATCH, 256)
                v_h = torch.zeros(BATCH, 256)
                i_o = torch.zeros(BATCH, 20)
                v_o = torch.zeros(BATCH, 20)
                s_prev = torch.zeros(BATCH, 256)
                for t in range(n_steps):
                    arr = s_prev @ wr.t()
                    if t > 0:
                        arr += x[t - 1]
                    i_h.mul_(ds).add_(arr)
                    i_o.mul_(ods).add_(s_prev @ wo.t())
                    v_h.mul_(dm).add_(i_h)
                    v_o.mul_(odm).add_(i_o)
                    s = (v_h > th).float()
                    sg[t] = 1.0 / (th * (1.0 + (v_h - th).abs() / (width * th)) ** 2)
                    spk[t] = s
                    v_h.mul_(1.0 - s)
                    vo_all[t] = v_o
                    s_prev = s
                z_max, arg = vo_all.max(dim=0)
                p = torch.softmax(z_max, dim=1)
                dz = (p - torch.nn.functional.one_hot(labels, 20).float()) / BATCH
                # backward through time (hand-written)
                g_io_all = torch.zeros(n_steps + 1, BATCH, 20)
                g_ih_all = torch.zeros(n_steps + 1, BATCH, 256)
                g_vo = torch.zeros(BATCH, 20)
                g_io = torch.zeros(BATCH, 20)
                g_ph = torch.zeros(BATCH, 256)
                g_ih = torch.zeros(BATCH, 256)
                drive = torch.zeros(n_steps, BATCH, 20)
                drive.scatter_(0, arg.unsqueeze(0), dz.unsqueeze(0))
                for t in range(n_steps - 1, -1, -1):
                    g_vo = odm * g_vo + drive[t]
                    g_io = g_vo + ods * g_io
                    g_io_all[t] = g_io
                    # spikes at t arrive at t + 1
                    g_s = g_ih_all[t + 1] @ wr + g_io_all[t + 1] @ wo
                    g_ph = (dm * g_ph) * (1.0 - spk[t]) + sg[t] * g_s
                    g_ih = g_ph + ds * g_ih
                    g_ih_all[t] = g_ih
                gh = g_ih_all[1:].reshape(-1, 256)
                go = g_io_all[1:].reshape(-1, 20)
                s_flat = spk.reshape(-1, 256)
                grad_rec = gh.t() @ s_flat
                grad_out = go.t() @ s_flat
                # the input spike of row t * B + b reaches I at t + 1
                grad_in = torch.sparse.mm(s_in.t(), gh).t()
            params[0].grad = grad_in.contiguous()
            params[1].grad = grad_rec
            params[2].grad = grad_out
            opt.step()
            hidden[0] += int(spk.sum())

    else:
        import snntorch as snn
        from snntorch import surrogate

        grad_fn = surrogate.fast_sigmoid(slope=1.0 / (width * th))
        fc_in = torch.nn.Linear(700, 256, bias=False)
        fc_rec = torch.nn.Linear(256, 256, bias=False)
        fc_out = torch.nn.Linear(256, 20, bias=False)
        for fc, p in zip((fc_in, fc_rec, fc_out), params, strict=True):
            fc.weight = torch.nn.Parameter(p.detach().clone())
        opt = torch.optim.Adam(
            [
                {"params": [fc.weight], "lr": lr_}
                for fc, lr_ in zip((fc_in, fc_rec, fc_out), lr, strict=True)
            ]
        )
        lif = snn.Synaptic(
            alpha=ds, beta=dm, threshold=th, spike_grad=grad_fn, reset_mechanism="zero"
        )
        readout = snn.Synaptic(alpha=ods, beta=odm, threshold=1e9, reset_mechanism="none")

        def step(k: int) -> None:
            r, c, labels = batch_inputs(k)
            dense = torch.zeros(n_steps * BATCH, 700)
            dense[torch.tensor(r), torch.tensor(c)] = 1.0
            dense = dense.view(n_steps, BATCH, 700)
            x = fc_in(dense)
            syn, mem = lif.reset_mem()
            osyn, omem = readout.reset_mem()
            s_prev = torch.zeros(BATCH, 256)
            vo = []
            n_spk = 0.0
            for t in range(n_steps):
                arr = fc_rec(s_prev)
                if t > 0:
                    arr = arr + x[t - 1]
                _, osyn, omem = readout(fc_out(s_prev), osyn, omem)
                s_prev, syn, mem = lif(arr, syn, mem)
                vo.append(omem)
                n_spk += float(s_prev.detach().sum())
            z_max = torch.stack(vo).max(dim=0).values
            loss = torch.nn.functional.cross_entropy(z_max, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            hidden[0] += int(n_spk)

    return _timed(step, n_batches, hidden)


# ----------------------------------------------------------------------------- driver


def _peers_python(arg: str | None) -> str | None:
    if arg:
        return arg
    try:
        import snntorch  # noqa: F401
        import torch  # noqa: F401

        return sys.executable
    except ImportError:
        cand = ROOT / ".venv-peers" / "bin" / "python"
        return str(cand) if cand.exists() else None


def _spawn(python: str, method: str, n_steps: int, args, shared: str) -> dict:
    env = dict(os.environ)
    for key in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(args.threads)
    cmd = [python, __file__, "--child", method, str(n_steps), str(args.batches), shared]
    cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--steps", default="1000,250,500,2000,4000")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--peers-python", default=None)
    ap.add_argument("--child", nargs=4, metavar=("METHOD", "T", "BATCHES", "SHARED"))
    args = ap.parse_args()
    if args.child:
        method, n_steps, n_batches, shared = args.child
        if method in PEERS:
            res = run_peer(method, int(n_steps), int(n_batches), shared, args.threads)
        else:
            res = run_neurodeploy(method, int(n_steps), int(n_batches))
        print(json.dumps(res))
        return
    peers_py = _peers_python(args.peers_python)
    steps = [int(s) for s in args.steps.split(",")]
    methods = [m for m in args.methods.split(",") if m]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        shared = str(Path(tmp) / "shared.npz")
        write_shared(Path(shared))
        for n_steps in steps:
            for method in methods:
                python = peers_py if method in PEERS else sys.executable
                if python is None:
                    res = {"error": "torch/snntorch not installed (pip install -e .[peers])"}
                else:
                    res = _spawn(python, method, n_steps, args, shared)
                rows.append({"method": method, "T": n_steps, **res})
                print(_line(rows[-1]), file=sys.stderr, flush=True)  # progress
    ratios = _ratios(rows)
    doc = {"threads": args.threads, "batch": BATCH, "batches": args.batches, "rows": rows}
    doc["ratios"] = ratios
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    print(f"\n700 -> 256 recurrent -> 20, batch {BATCH}, {args.threads} threads")
    print(f"{'method':<18}{'T':>6}{'samples/s':>11}{'CPU ms/sample':>15}{'peak MB':>9}{'spk/n':>7}")
    for r in rows:
        print(_line(r))
    print("\nEventProp (delays fixed) / each BPTT, speed (samples/s) and peak memory:")
    for r in ratios:
        print(
            f"  T={r['T']:<5} vs {r['versus']:<11} speed x{r['speed']:.2f}   "
            f"memory x{r['memory']:.2f} (BPTT / EventProp)"
        )


def _line(r: dict) -> str:
    if "error" in r:
        return f"{r['method']:<18}{r['T']:>6}  error: {r['error']}"
    return (
        f"{r['method']:<18}{r['T']:>6}{r['samples_per_second']:>11.1f}"
        f"{r['cpu_ms_per_sample']:>15.1f}{r['peak_mb']:>9.0f}{r['hidden_spikes_per_neuron']:>7.1f}"
    )


def _ratios(rows: list[dict]) -> list[dict]:
    out = []
    by = {(r["method"], r["T"]): r for r in rows if "error" not in r}
    for (m, t), ep in by.items():
        if m not in ("eventprop", "eventprop+delays"):
            continue
        for other in ("bptt", *PEERS):
            b = by.get((other, t))
            if b:
                out.append(
                    {
                        "T": t,
                        "eventprop": m,
                        "versus": other,
                        "speed": ep["samples_per_second"] / b["samples_per_second"],
                        "memory": b["peak_mb"] / ep["peak_mb"],
                    }
                )
    return out


if __name__ == "__main__":
    main()
