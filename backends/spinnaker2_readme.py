"""The README.md of a SpiNNaker2 deploy bundle: what is in it, how to run it, what to send back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neurodeploy.backends.spinnaker2_placement import Placement
from neurodeploy.backends.spinnaker2_runner import DEFAULT_SYS_TICK_S
from neurodeploy.network import Network
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2

__all__ = ["bundle_readme"]

_TEMPLATE = """\
# SpiNNaker2 deploy bundle

Written by neurodeploy for the hardware model `model.h5` (profile `spinnaker2`,
{n_pops} populations, {n_neurons} neurons, {n_synapses} synapses, dt = {dt_ms} ms per tick).
{inputs_line}

## Run it on the board

On a machine that reaches the chip over Ethernet, with Python 3.8+, numpy, h5py and py-spinnaker2
(not on PyPI: `pip install git+https://gitlab.com/spinnaker2/py-spinnaker2.git`):

    python run_on_spinnaker2.py --host <CHIP-IP> [--sys-tick {sys_tick}] [--samples 0:10] [--no-voltages]

It runs every sample for {n_steps} ticks, one `hardware.SpiNNaker2Chip(eth_ip=...)` run per
sample, and writes `results.h5` (spikes and voltages of every non-input population; layout in
the docstring of `run_on_spinnaker2.py`). Finished samples are kept if the run is interrupted.

**Tick length.** `--sys-tick` is the real time of one tick. If the board log shows
"Deadline missed in systick", a tick overran, spikes were processed late and the results are
not deterministic: run again with a larger `--sys-tick`.

**Voltages.** Recording v of every neuron at every tick is memory-hungry on the chip (the limit
is UNVERIFIED); if a run fails on recording, use `--no-voltages` (spikes only).

## Check the results against the emulator

Bring `results.h5` back next to `model.h5` and run

    neurodeploy verify model.h5 --results results.h5

It re-runs neurodeploy's bit-accurate float32 emulator on exactly the input spikes stored in
`results.h5` and compares spikes exactly and v by float32 bit pattern (v at spiking ticks is
reported separately).

## Files

| file | content |
|---|---|
| `network.json` | populations (`neuron_model`, `params`), projections (`connections` = `[pre, post, weight, delay]`, non-zero weights only), the profile options used, the model fingerprint |
| `inputs.json` | per sample, the `spike_list` params `{{neuron: [ticks]}}` of each input population |
| `placement.json`, `placement.txt` | neurons per PE, PEs used, estimated synapse memory per PE |
| `run_on_spinnaker2.py` | the runner (numpy, h5py, py-spinnaker2 only) |
| `model.h5` | the neurodeploy hardware model |

## Parameters and units

Every population is `lif_curr_exp`: `alpha_decay` (membrane), `exc_decay` = `inh_decay`
(synaptic currents), `threshold`, `i_offset` (per neuron where they differ), `v_init` = `v_reset`
= 0, reset `{reset}`, refractory period 0 (`{t_refrac_key}`). Weights are integers in
[-15, 15] (sign = excitatory/inhibitory synapse), delays 0..7 (a spike at tick t arrives at tick
t + 1 + delay). All numbers are float32 values in hardware units, where one weight unit adds 1.0
to a current; `v_scale` (per population) and `weight_scale` (per projection) in `network.json`
map them back to the float model.

**Non-spiking readouts** ({li_line}) are written the way py-spinnaker2 users write a
non-spiking output: a large finite `threshold`. Here it is a power of two proven out of reach
for that population (twice a bound on |v| derived from its fan-in weights and |i_offset|; the
proof is in `li_threshold` of neurodeploy's `backends/spinnaker2.py`), so the readout never
spikes on the board and the emulator's `+inf` threshold gives the same bits.

Every `.json` file here is strict JSON (no `NaN`/`Infinity` tokens).

## What was checked against which source

py-spinnaker2 is on GitLab only and was not available to neurodeploy's tests; its public
copies and users were read instead:

| fact | source |
|---|---|
| `lif` params `threshold, alpha_decay, i_offset, v_init, v_reset, reset` and the two reset modes; `lif` weights integers in [-15, 15], delays 0..7 (hardware delay + 1) | the py-spinnaker2 `lif` example as repeated in `ngr-francesco/dynamic-neural-field-spinnaker2`, `dynamic_neural_field.py` |
| `lif_curr_exp*` adds `exc_decay`, `inh_decay`, `t_refrac`; `v_reset` ignored under `reset_by_subtraction` | py-spinnaker2's own NIR converter `s2_nir.py` (`convert_CubaLIF`, copies read) |
| a non-spiking output as a large finite threshold (`1e9`) | a Braille example on py-spinnaker2 (`lif_curr_exp_no_delay`) |
| `snn.Population / Projection / Network`, `hardware.SpiNNaker2Chip(eth_ip=...)`, `run(net, timesteps, sys_tick_in_s=...)`, `get_spikes`, `get_voltages`, `set_max_atoms_per_core` | `neuromorphs/NIR` `paper/03_rnn/Braille_inference_spinnaker2.py`, `dynamic_neural_field.py` above |

## Assumptions (UNVERIFIED)

- The 4-bit weight / 3-bit delay ranges for `lif_curr_exp`: documented only for `lif`.
- The refractory parameter's spelling: `t_refrac` (s2_nir) or `t_refract` (one user example);
  this bundle uses `{t_refrac_key}` (profile option `t_refrac_key`). It is always 0 ticks.
- The exception types py-spinnaker2 raises for bad parameters, weights or delays.
- The options below (profile options, values used here):

{options_table}

Placement: {total_cores} of {pes} PEs; see `placement.txt`.
"""


def bundle_readme(
    network: Network, options: Mapping[str, Any], placement: Placement, inputs: SpikeData | None
) -> str:
    """README.md text for the bundle of ``network`` exported with resolved ``options``."""
    neurons = sum(p.size for p in network.populations if p.kind != "input")
    synapses = sum(int((p.weights != 0).sum()) for p in network.projections)
    if inputs is None:
        inputs_line = (
            "No inputs were exported: `inputs.json` is missing, so re-export with `--data`."
        )
        n_steps = "the inputs' number of"
    else:
        inputs_line = f"`inputs.json` holds {len(inputs)} samples of {inputs.n_steps} ticks."
        n_steps = str(inputs.n_steps)
    li = [p.name for p in network.populations if p.kind == "li"]
    li_line = "here: " + ", ".join(f"`{name}`" for name in li) if li else "none in this model"
    rows = ["| option | value | meaning |", "|---|---|---|"]
    for key, option in SPINNAKER2.options.items():
        rows.append(f"| `{key}` | `{options[key]}` | {option.doc} |")
    return _TEMPLATE.format(
        n_pops=len(network.populations),
        n_neurons=neurons,
        n_synapses=synapses,
        dt_ms=network.dt_ms,
        inputs_line=inputs_line,
        sys_tick=DEFAULT_SYS_TICK_S,
        n_steps=n_steps,
        reset=options["reset"],
        t_refrac_key=options["t_refrac_key"],
        li_line=li_line,
        options_table="\n".join(rows),
        total_cores=placement.total_cores,
        pes=placement.limits["pes_per_chip"],
    )
