"""What lava-dl's ``netx.hdf5.Network`` builds from a dense netx file, rewritten from its documented
behaviour (lava-dl ``netx/hdf5.py``, ``netx/utils.py``, ``netx/blocks/process.py``) for the default
tests, which run without lava-dl (and torch): per layer, its weight-bit optimisation, then
Dense/DelayDense (no sign mode passed, ``max_delay = 62``), and a LIF with ``du = iDecay - 1``,
``bias_exp = 6``. The vendor tier (``tests/vendor``, ``make test-vendors``) loads the same files
with lava-dl 0.6.0's own loader."""

from __future__ import annotations

import h5py
import numpy as np

from neurodeploy._lava_compat import import_lava


def optimize_weight_bits(weight: np.ndarray) -> tuple[np.ndarray, int, int]:
    """netx's choice of (scaled weights, num_weight_bits, weight_exp) for integer weights."""
    hi, lo = weight.max(), weight.min()
    if (hi > 254 and lo < 0) or (lo < -256 and hi > 0):
        weight = np.clip(weight, -256, 254)
        hi, lo = weight.max(), weight.min()
    if hi < 0:
        signed, scale = 0, -256 / lo
    elif lo >= 0:
        signed, scale = 0, 255 / hi
    else:
        signed, scale = 1, min(127 / hi, -128 / lo)
    bits = int(np.floor(np.log2(scale))) + signed
    n = 8
    while n > 0 and np.any(weight % (2**n)):
        n -= 1
    return weight.astype(np.int64) << bits, 8 - bits - (n - signed), -bits


def build(path, raster_t: np.ndarray):
    """RingBuffer(raster_t[channel, step]) feeding the file's layers; returns (source, LIFs)."""
    import_lava()
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    source = RingBuffer(data=raster_t.astype(np.int32))
    previous, lifs = source.s_out, []
    with h5py.File(path, "r") as f:
        for i in range(len(f["layer"])):
            g = f["layer"][str(i)]
            kind = g["type"][0].decode("ascii")
            n = int(np.prod(g["shape"][()]))
            neuron = g["neuron"]
            lif = LIF(
                shape=(n,),
                du=int(neuron["iDecay"][()]) - 1,
                dv=int(neuron["vDecay"][()]),
                vth=int(neuron["vThMant"][()]),
                bias_mant=g["bias"][()].astype(int).astype(np.int32),
                bias_exp=6,
            )
            weight = g["weight"][()].astype(int)
            if kind == "dense_rec":
                joint, bits, exp = optimize_weight_bits(
                    np.hstack([weight, g["weight_rec"][()].astype(int)])
                )
                parts = [joint[:, : weight.shape[1]], joint[:, weight.shape[1] :]]
            else:
                w, bits, exp = optimize_weight_bits(weight)
                parts = [w]
            if "delay" in g:
                delay = g["delay"][()]
                if delay.ndim == 1:
                    delay = (
                        np.repeat(delay[:, None], weight.shape[1], 1)
                        if delay.size == n
                        else np.repeat(delay[None, :], n, 0)
                    )
                synapse = DelayDense(
                    weights=parts[0],
                    delays=delay.astype(int),
                    max_delay=62,
                    weight_exp=exp,
                    num_weight_bits=bits,
                )
            else:
                synapse = Dense(weights=parts[0], weight_exp=exp, num_weight_bits=bits)
            previous.connect(synapse.s_in)
            synapse.a_out.connect(lif.a_in)
            if kind == "dense_rec":
                rec = Dense(weights=parts[1], weight_exp=exp, num_weight_bits=bits)
                lif.s_out.connect(rec.s_in)
                rec.a_out.connect(lif.a_in)
            previous = lif.s_out
            lifs.append(lif)
    return source, lifs
