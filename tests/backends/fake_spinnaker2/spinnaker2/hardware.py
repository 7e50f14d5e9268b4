"""Fake ``spinnaker2.hardware``: a SpiNNaker2Chip whose run emulates the snn network."""

from __future__ import annotations

import os

import numpy as np

from spinnaker2.snn import Network, log, refrac_key

RUNS = {"count": 0}


def _per_neuron(value, size):
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).copy()


def _hardware_model(net: Network):
    """A neurodeploy spinnaker2 hardware model from the snn objects (py-spinnaker2 semantics)."""
    from neurodeploy.network import Network as NdNetwork
    from neurodeploy.network import Population, Projection

    pops, reset = [], None
    for pop in net.populations:
        if pop.neuron_model == "spike_list":
            pops.append(Population(name=pop.name, size=pop.size, kind="input"))
            continue
        if pop.neuron_model != "lif_curr_exp":
            raise ValueError(f"fake: runs lif_curr_exp populations only, got {pop.neuron_model!r}")
        p = pop.params
        if p["exc_decay"] != p["inh_decay"]:
            raise ValueError("fake: exc_decay != inh_decay is not modelled")
        for key in ("v_init", "v_reset"):
            if np.any(_per_neuron(p.get(key, 0.0), pop.size) != 0.0):
                raise ValueError(f"fake: {key} must be 0")
        if p.get(refrac_key(), 0) != 0:
            raise ValueError("fake: refractory period must be 0")
        if reset not in (None, p["reset"]):
            raise ValueError("fake: one reset mode per network")
        reset = p["reset"]
        # Every population spikes at its threshold, as on the chip: a non-spiking readout is
        # only a threshold v never reaches, so the emulation runs the exported value.
        pops.append(
            Population(
                name=pop.name,
                size=pop.size,
                kind="lif",
                decay_mem=float(p["alpha_decay"]),
                decay_syn=float(p["exc_decay"]),
                threshold=float(p["threshold"]),
                bias=_per_neuron(p["i_offset"], pop.size),
            )
        )
    projs = []
    for proj in net.projections:
        weights = np.zeros((proj.post.size, proj.pre.size), np.int64)
        delays = np.zeros_like(weights)
        for i, j, w, d in proj.connections:
            if weights[j, i] != 0:
                raise ValueError(f"fake: duplicate synapse {i}->{j}")
            weights[j, i], delays[j, i] = w, d
        projs.append(
            Projection(source=proj.pre.name, target=proj.post.name, weights=weights, delays=delays)
        )
    model = NdNetwork(
        dt_ms=1.0, populations=tuple(pops), projections=tuple(projs), profile="spinnaker2"
    )
    return model, reset or "reset_by_subtraction"


class SpiNNaker2Chip:
    def __init__(self, eth_ip, experiment_backend_type=None):
        if not isinstance(eth_ip, str) or not eth_ip:
            raise ValueError(f"eth_ip must be a non-empty string, got {eth_ip!r}")
        self.eth_ip = eth_ip
        log("SpiNNaker2Chip", eth_ip=eth_ip)

    def run(
        self, net, timesteps, debug=False, sys_tick_in_s=1e-3, experiment_backend_settings=None
    ):
        from neurodeploy.spikes import SpikeData
        from neurodeploy.targets.spinnaker2.emulator import run_spinnaker2

        if not isinstance(net, Network) or not isinstance(timesteps, int) or timesteps < 1:
            raise ValueError("run(net, timesteps: int >= 1, ...)")
        log("run", timesteps=timesteps, sys_tick_in_s=sys_tick_in_s, eth_ip=self.eth_ip)
        model, reset = _hardware_model(net)
        steps, units, start = [], [], 0
        for pop in net.populations:
            if pop.neuron_model == "spike_list":
                for idx, ticks in pop.params.items():
                    steps += list(ticks)
                    units += [start + idx] * len(ticks)
                start += pop.size
        inputs = SpikeData.from_events([(steps, units)], [0], n_channels=start, n_steps=timesteps)
        rec = run_spinnaker2(model, inputs, record_v=True, options={"reset": reset})
        corrupt = os.environ.get("FAKE_SPINNAKER2_CORRUPT") == "1" and RUNS["count"] == 0
        RUNS["count"] += 1
        for pop in net.populations:
            if pop.neuron_model == "spike_list":
                continue
            spikes = rec[pop.name].spikes[0].copy()
            if corrupt:
                spikes[-1, 0] ^= 1
                corrupt = False
            pop.spikes = {
                i: [int(t) for t in np.flatnonzero(spikes[:, i])] for i in range(pop.size)
            }
            # the chip sends float32 bit patterns; py-spinnaker2 hands back Python floats
            pop.voltages = {i: rec[pop.name].v[0, :, i].astype(np.float64) for i in range(pop.size)}
