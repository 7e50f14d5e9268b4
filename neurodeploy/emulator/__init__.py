"""Every model's reference run: the canonical float model and each target's bit-accurate emulator.

:func:`run` dispatches on the model: a float model (``profile is None``) runs the canonical float
simulation (:mod:`neurodeploy.emulator.canonical`, the forward pass the trainer differentiates);
a hardware model runs the emulator its target registers (:mod:`neurodeploy.targets`), the
reference every backend is checked against.
"""

from __future__ import annotations

from neurodeploy.network import Network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

__all__ = ["run"]


def run(
    network: Network, inputs: SpikeData, *, record_v: bool = True, record_u: bool = False
) -> Recording:
    """Run ``network`` on every sample of ``inputs``: the float model or the target's emulator.

    Returns per non-input population spikes and, for hardware models if asked, v and u, each
    shaped (n_samples, n_steps, size), in the target's number type (float64 for float models,
    which always carry v and u).
    """
    if network.profile is None:
        from neurodeploy.emulator.canonical import simulate

        return simulate(network, inputs)
    from neurodeploy.targets import get_target

    return get_target(network.profile).emulate(
        network, inputs, record_v=record_v, record_u=record_u
    )
