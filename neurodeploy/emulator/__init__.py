"""Bit-accurate emulators of each target's arithmetic: the reference every backend is checked against.

:func:`run` dispatches on the hardware model's profile.
"""

from __future__ import annotations

from collections.abc import Callable

from neurodeploy.emulator.loihi2 import run_loihi2
from neurodeploy.emulator.spinnaker2 import run_spinnaker2
from neurodeploy.errors import NetworkError
from neurodeploy.network import Network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

__all__ = ["EMULATORS", "run"]

EMULATORS: dict[str, Callable[..., Recording]] = {
    "loihi2": run_loihi2,
    "spinnaker2": run_spinnaker2,
}


def run(
    network: Network, inputs: SpikeData, *, record_v: bool = True, record_u: bool = False
) -> Recording:
    """Emulate hardware model ``network`` on every sample of ``inputs``.

    Returns per non-input population spikes and, if asked, v and u, each shaped
    (n_samples, n_steps, size), in the target's number type.
    """
    emulator = EMULATORS.get(network.profile or "")
    if emulator is None:
        raise NetworkError(
            f"profile must be one of {', '.join(sorted(EMULATORS))} to emulate, got {network.profile!r}"
        )
    return emulator(network, inputs, record_v=record_v, record_u=record_u)
