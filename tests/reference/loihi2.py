"""Slow, obvious Loihi 2 reference: one numpy step per process, written from the Lava semantics
in docs/ARCHITECTURE.md (int32 numpy arithmetic with its natural wraps), not from the kernel."""

from __future__ import annotations

import numpy as np

from neurodeploy.network import Network


def _sign_mode(w):
    if w.min() >= 0:
        return 2
    if w.max() <= 0:
        return 3
    return 1


def _prepare(w, nwb, mode):
    mode = mode or _sign_mode(w)
    w = w.astype(np.int32)
    if mode == 3:
        w = -w
    w = np.clip(w, -256 if mode == 1 else 0, 255).astype(np.int32)
    t = 8 - nwb + (mode == 1)
    w = (w >> t) << t
    return -w if mode == 3 else w


def run_reference(network: Network, raster: np.ndarray, stats: dict | None = None):
    """raster[step, n_inputs] (one sample) -> {pop: (spikes[step, n], v[step, n], u[step, n])}.

    ``stats`` (if given) counts "u_wraps" and "v_saturations"."""
    stats = {} if stats is None else stats
    stats.setdefault("u_wraps", 0)
    stats.setdefault("v_saturations", 0)
    n_steps = raster.shape[0]
    state, col = {}, 0
    in_cols = {}
    for pop in network.populations:
        if pop.kind == "input":
            in_cols[pop.name] = slice(col, col + pop.size)
            col += pop.size
            continue
        hw = {k: np.broadcast_to(v, (pop.size,)).astype(np.int64) for k, v in pop.hw_params.items()}
        state[pop.name] = dict(
            u=np.zeros(pop.size, np.int32),
            v=np.zeros(pop.size, np.int32),
            s=np.zeros(pop.size, bool),
            du=int(hw["du"][0]),
            dv=int(hw["dv"][0]),
            vth=int(hw["vth"][0]) << 6,
            bias=np.where(
                hw["bias_exp"] >= 0,
                hw["bias_mant"].astype(np.int32) << np.maximum(hw["bias_exp"], 0).astype(np.int32),
                hw["bias_mant"].astype(np.int32) >> np.maximum(-hw["bias_exp"], 0).astype(np.int32),
            ).astype(np.int32),
            rec=([], [], []),
        )
    conns = []
    for proj in network.projections:
        d = np.rint(proj.delays).astype(np.int64)
        w = _prepare(
            np.rint(proj.weights).astype(np.int64),
            proj.hw_params["num_weight_bits"],
            proj.hw_params.get("sign_mode", 0),
        )
        conns.append(dict(proj=proj, w=w, d=d, buf=np.zeros((w.shape[0], d.max() + 1), np.int32)))
    for t in range(n_steps):
        # Dense processes send their oldest slot.
        sent = [c["buf"][:, 0].copy() for c in conns]
        a_in = {name: np.zeros(len(st["u"]), np.int16) for name, st in state.items()}
        for c, out in zip(conns, sent, strict=True):
            a_in[c["proj"].target] = a_in[c["proj"].target] + out  # int16 + int32 -> int32
        spikes_now = {name: raster[t, sl].astype(bool) for name, sl in in_cols.items()}
        for name, st in state.items():
            du_u = np.int64(st["u"]) * (4096 - (st["du"] + 1))
            du_u = np.int32(np.sign(du_u) * (np.abs(du_u) >> 12))
            du_u += np.left_shift(a_in[name].astype(np.int32), 6)
            stats["u_wraps"] += int(((du_u > 2**23) | (du_u <= -(2**23))).sum())
            x = np.where(du_u > 2**23, du_u - 2**24, du_u)
            x = np.where(x <= -(2**23), du_u + 2**24, x)
            st["u"][:] = x
            dv_v = np.int64(st["v"]) * (4096 - st["dv"])
            dv_v = np.int32(np.sign(dv_v) * (np.abs(dv_v) >> 12))
            raw = dv_v + st["u"] + st["bias"]
            stats["v_saturations"] += int((np.abs(raw.astype(np.int64)) > 2**23 - 1).sum())
            st["v"][:] = np.clip(raw, -(2**23) + 1, 2**23 - 1)
            s = st["v"] > st["vth"]
            st["v"][s] = 0
            spikes_now[name] = s
            st["rec"][0].append(s.astype(np.uint8))
            st["rec"][1].append(st["v"].copy())
            st["rec"][2].append(st["u"].copy())
        for c in conns:
            s = spikes_now[c["proj"].source]
            we = c["proj"].hw_params["weight_exp"]
            acc = np.stack(
                [
                    np.where(c["d"] == k, c["w"], 0)[:, s].sum(axis=1)
                    for k in range(c["buf"].shape[1])
                ],
                axis=1,
            ).astype(np.int64)
            acc = acc << we if we > 0 else acc >> -we
            c["buf"][:, 0] = 0
            c["buf"] = np.roll(c["buf"], -1, axis=1)
            c["buf"] += acc
    return {name: tuple(np.array(r) for r in st["rec"]) for name, st in state.items()}
