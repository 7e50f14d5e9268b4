"""Bit-accurate Loihi 2 emulator: packs a ``loihi2`` hardware model for the Numba kernel.

Arithmetic (Lava 0.10.0 ``fixed_pt``: ``PyLifModelBitAcc``, ``PyDenseModelBitAcc``,
``PyDelayDenseModelBitAcc``), per step ``t`` (Lava ``time_step = t + 1``):

1. ``a_in`` = int32 sum of every incoming projection's oldest delay slot.
2. ``u = wrap24(int32(trunc0(u * (4095 - du) / 4096)) + int32(a_in << 6))``, wrapped once at ±2^23.
3. ``v = clip(int32(trunc0(v * (4096 - dv) / 4096) + u + (bias_mant << bias_exp)), ±(2^23 - 1))``.
4. spike if ``v > vth << 6``; then ``v = 0`` (u is not reset).
5. Every projection sums the weights of this step's spikes per delay ``d`` and post neuron,
   applies ``weight_exp`` to each sum (``<<``, or floor ``>>``) and adds it, int32-wrapped, into
   the slot that is sent at step ``t + 1 + d``.

Weights first go through Lava's preprocessing
(:func:`neurodeploy.targets.loihi2.arithmetic.effective_weights`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neurodeploy.emulator.layout import Outputs, layout
from neurodeploy.network import Network, Projection
from neurodeploy.profiles import check_network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.loihi2.arithmetic import bias_int32, effective_weights, infer_sign_mode
from neurodeploy.targets.loihi2.kernels import loihi2_run
from neurodeploy.validation import require_profile

__all__ = ["run_loihi2"]


def run_loihi2(
    network: Network, inputs: SpikeData, *, record_v: bool = True, record_u: bool = False
) -> Recording:
    """Emulate ``network`` (profile ``loihi2``) on every sample of ``inputs``.

    Parameters
    ----------
    network : Network
        Hardware model for the ``loihi2`` profile.
    inputs : SpikeData
        Channels are the input populations' neurons concatenated in network order.
    record_v, record_u : bool
        Also record v (after reset) and u, int32.

    Returns
    -------
    Recording
        Per non-input population: spikes uint8 and optionally v, u int32, each
        (n_samples, n_steps, size).
    """
    require_profile(network, "loihi2", "the Loihi 2 emulator")
    check_network(network)
    packed = _pack(network, inputs)
    out = Outputs.allocate(
        len(inputs),
        inputs.n_steps,
        packed[2].shape[0],
        np.int32,
        record_v=record_v,
        record_u=record_u,
    )
    loihi2_run(*packed, out.spikes, out.v, out.u)
    return out.split(network)


def _pack(network: Network, inputs: SpikeData) -> tuple[NDArray[np.int64], ...]:
    """Arrays of :func:`loihi2_run` for ``network`` and ``inputs`` (events, offsets, neurons,
    projections, source pointers, synapse blocks, synapses)."""
    in_offset, neuron_offset, n_inputs, n_neurons = layout(network, inputs)

    neuron_params = np.zeros((n_neurons, 4), np.int64)
    for pop in network.populations:
        if pop.kind == "input":
            continue
        hw = {
            k: np.broadcast_to(np.asarray(x, np.int64), (pop.size,))
            for k, x in pop.hw_params.items()
        }
        sl = slice(neuron_offset[pop.name], neuron_offset[pop.name] + pop.size)
        neuron_params[sl, 0] = 4095 - hw["du"]
        neuron_params[sl, 1] = 4096 - hw["dv"]
        neuron_params[sl, 2] = hw["vth"] << 6
        neuron_params[sl, 3] = bias_int32(hw["bias_mant"], hw["bias_exp"])

    proj_info = np.zeros((len(network.projections), 5), np.int64)
    rows = []  # (source, proj, post, weight, delay)
    buf_offset = 0
    for p, proj in enumerate(network.projections):
        n_post = network.population(proj.target).size
        n_slots = proj.max_delay + 1
        proj_info[p] = (
            neuron_offset[proj.target],
            n_post,
            n_slots,
            buf_offset,
            proj.hw_params["weight_exp"],
        )
        buf_offset += n_slots * n_post
        rows.append(_synapses(network, proj, p, in_offset, neuron_offset, n_inputs))
    syn = np.concatenate(rows) if rows else np.zeros((0, 5), np.int64)
    # Each projection's rows come sorted by (source, post); a stable sort by source keeps that,
    # giving (source, projection, post) order.
    syn = syn[np.argsort(syn[:, 0], kind="stable")]
    # One block per (source, projection), so the kernel looks a projection up once per block.
    key = syn[:, 0] * (len(network.projections) + 1) + syn[:, 1]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(syn) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(syn)].astype(np.int64) if len(syn) else starts
    blocks = np.stack([syn[starts, 1], starts, ends], axis=1).astype(np.int64).reshape(-1, 3)
    src_ptr = np.searchsorted(syn[starts, 0], np.arange(n_inputs + n_neurons + 1)).astype(np.int64)
    syn_data = np.ascontiguousarray(syn[:, 2:], dtype=np.int32)
    events = np.stack([inputs.steps, inputs.units], axis=1).astype(np.int64)
    return events, inputs.offsets, neuron_params, proj_info, src_ptr, blocks, syn_data


def _synapses(
    network: Network,
    proj: Projection,
    p: int,
    in_offset: dict[str, int],
    neuron_offset: dict[str, int],
    n_inputs: int,
) -> NDArray[np.int64]:
    """Rows (source, projection, post, effective weight, delay) of the non-zero synapses of
    ``proj``, sorted by source then post. Works on the non-zero entries only: the sign mode
    Lava infers from the whole matrix is the same, since zeros never change it."""
    pre, post = np.nonzero(proj.weights.T)
    raw = np.rint(proj.weights[post, pre]).astype(np.int64)
    mode = proj.hw_params.get("sign_mode", 0) or infer_sign_mode(raw)
    weights = effective_weights(raw, proj.hw_params["num_weight_bits"], mode)
    weight_exp = proj.hw_params["weight_exp"]
    if weight_exp >= 0:
        weights = weights << weight_exp  # the kernel adds pre-shifted weights (exact in int64)
    keep = weights != 0
    pre, post, weights = pre[keep], post[keep], weights[keep]
    delays = np.rint(proj.delays[post, pre]).astype(np.int64)
    if network.population(proj.source).kind == "input":
        source = in_offset[proj.source] + pre
    else:
        source = n_inputs + neuron_offset[proj.source] + pre
    return np.stack([source, np.full_like(post, p), post, weights, delays], axis=1).astype(np.int64)
