"""Bit-accurate SpiNNaker2 emulator: packs a ``spinnaker2`` hardware model for the Numba kernel.

Model: py-spinnaker2 ``lif_curr_exp`` on one PE per core, all state and parameters float32
(docs/ARCHITECTURE.md, "SpiNNaker2 arithmetic"). Per tick ``t`` (the first tick is 0), with the
profile's default options:

1. ``in_exc``, ``in_inh`` = float32 of the integer sums of |weight| of the excitatory and
   inhibitory synapses whose spikes land in ring slot ``t & 7`` (then the slot is cleared).
2. ``I_exc = exc_decay*I_exc + in_exc``; ``I_inh = inh_decay*I_inh + in_inh``.
3. ``v = (alpha_decay*v + (I_exc - I_inh)) + i_offset``.
4. spike if ``v > threshold``; then ``v = v_reset`` (0.0).
5. every spike of tick ``t`` (neurons and ``spike_list`` inputs) adds ``|w|`` into slot
   ``(t + 1 + d) & 7`` of its synapse type, so it arrives at tick ``t + 1 + d``.

Every ``*`` and ``+`` rounds to float32. The options of :data:`neurodeploy.targets.spinnaker2.profile.SPINNAKER2`
change the order (``update_order``, ``i_offset``, ``current_sum``), the comparison
(``threshold_op``), the reset and fused multiply-adds (``fma``); they come from the profile
defaults, then ``network.profile_options``, then the ``options`` argument.

Mapping from the hardware model: ``alpha_decay = decay_mem``, ``exc_decay = inh_decay =
decay_syn``, ``threshold`` (``+inf`` for ``li`` populations, which never fire), ``i_offset =
bias``, ``v_reset = 0``; a weight ``w > 0`` is an excitatory synapse of weight ``w``, ``w < 0`` an
inhibitory one of weight ``|w|``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurodeploy.emulator.layout import Outputs, layout
from neurodeploy.network import Network
from neurodeploy.profiles import check_network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.spinnaker2.arithmetic import V_RESET
from neurodeploy.targets.spinnaker2.kernels import (
    N_OPTIONS,
    OPT_FMA,
    OPT_LEFT_TO_RIGHT,
    OPT_OFFSET_BEFORE,
    OPT_RESET_SUBTRACT,
    OPT_THRESHOLD_GE,
    OPT_VOLTAGE_FIRST,
    spinnaker2_run,
)
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2
from neurodeploy.validation import require_profile

__all__ = ["options_array", "run_spinnaker2"]


def options_array(options: Mapping[str, Any]) -> NDArray[np.int64]:
    """The kernel's int64 options array for resolved profile ``options``."""
    out = np.zeros(N_OPTIONS, np.int64)
    out[OPT_VOLTAGE_FIRST] = options["update_order"] == "voltage_first"
    out[OPT_THRESHOLD_GE] = options["threshold_op"] == ">="
    out[OPT_RESET_SUBTRACT] = options["reset"] == "reset_by_subtraction"
    out[OPT_OFFSET_BEFORE] = options["i_offset"] == "before_decay"
    out[OPT_LEFT_TO_RIGHT] = options["current_sum"] == "left_to_right"
    out[OPT_FMA] = bool(options["fma"])
    return out


def run_spinnaker2(
    network: Network,
    inputs: SpikeData,
    *,
    record_v: bool = True,
    record_u: bool = False,
    options: Mapping[str, Any] | None = None,
) -> Recording:
    """Emulate ``network`` (profile ``spinnaker2``) on every sample of ``inputs``.

    Parameters
    ----------
    network : Network
        Hardware model for the ``spinnaker2`` profile.
    inputs : SpikeData
        Channels are the input populations' neurons concatenated in network order; step = tick.
    record_v, record_u : bool
        Also record v (after reset) and ``u = I_exc - I_inh``, float32.
    options : mapping, optional
        Overrides of the profile options (see :data:`neurodeploy.targets.spinnaker2.profile.SPINNAKER2`).

    Returns
    -------
    Recording
        Per non-input population: spikes uint8 and optionally v, u float32, each
        (n_samples, n_steps, size).

    Raises
    ------
    NetworkError, ProfileLimitError, ConfigError
        Wrong profile, a broken limit, inputs that do not fit, or a bad option.
    """
    require_profile(network, SPINNAKER2.name, "the SpiNNaker2 emulator")
    check_network(network)
    resolved = SPINNAKER2.resolve_options(network, options)
    events, offsets, neuron_params, syn_ptr, syn_data = _pack(network, inputs)
    out = Outputs.allocate(
        len(inputs),
        inputs.n_steps,
        neuron_params.shape[0],
        np.float32,
        record_v=record_v,
        record_u=record_u,
    )
    spinnaker2_run(
        events,
        offsets,
        neuron_params,
        syn_ptr,
        syn_data,
        options_array(resolved),
        out.spikes,
        out.v,
        out.u,
    )
    return out.split(network)


def _pack(
    network: Network, inputs: SpikeData
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float32], NDArray[np.int64], NDArray[np.int64]
]:
    """Arrays of :func:`spinnaker2_run`: events, offsets, neuron params, synapse pointers, synapses."""
    in_offset, neuron_offset, n_inputs, n_neurons = layout(network, inputs)

    neuron_params = np.zeros((n_neurons, 6), np.float32)
    for pop in network.populations:
        if pop.kind == "input":
            continue
        sl = slice(neuron_offset[pop.name], neuron_offset[pop.name] + pop.size)
        neuron_params[sl, 0] = np.float32(pop.decay_mem)
        neuron_params[sl, 1] = np.float32(pop.decay_syn)
        neuron_params[sl, 2] = np.float32(pop.decay_syn)
        neuron_params[sl, 3] = np.float32(pop.threshold) if pop.is_spiking else np.float32(np.inf)
        neuron_params[sl, 4] = pop.bias.astype(np.float32)
        neuron_params[sl, 5] = np.float32(V_RESET)

    rows = []  # (source, post, weight, delay)
    for proj in network.projections:
        weights = np.rint(proj.weights).astype(np.int64)
        delays = np.rint(proj.delays).astype(np.int64)
        post, pre = np.nonzero(weights)
        if network.population(proj.source).kind == "input":
            source = in_offset[proj.source] + pre
        else:
            source = n_inputs + neuron_offset[proj.source] + pre
        rows.append(
            np.stack(
                [source, neuron_offset[proj.target] + post, weights[post, pre], delays[post, pre]],
                axis=1,
            ).astype(np.int64)
        )
    syn = np.concatenate(rows) if rows else np.zeros((0, 4), np.int64)
    syn = syn[np.argsort(syn[:, 0], kind="stable")]
    syn_ptr = np.searchsorted(syn[:, 0], np.arange(n_inputs + n_neurons + 1)).astype(np.int64)
    syn_data = np.ascontiguousarray(syn[:, 1:])
    events = np.stack([inputs.steps, inputs.units], axis=1).astype(np.int64)
    return events, inputs.offsets, neuron_params, syn_ptr, syn_data
