"""Delays onto a target: rounded (not floored), then refused or clamped beyond its range."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neurodeploy.errors import ProfileLimitError
from neurodeploy.network import Network, Projection
from neurodeploy.profiles import HardwareProfile
from neurodeploy.quantize.decisions import DelayDecision

__all__ = ["check_delay_range", "map_delays"]


def check_delay_range(network: Network, profile: HardwareProfile, on_overflow: str) -> None:
    """With ``on_overflow == "error"``, ProfileLimitError naming every projection whose rounded
    delays exceed the profile's range (one line each, with the remedies)."""
    delay_max = profile.delay_range.high
    too_long = [
        f"projections/{i} ({p.name})/delays: {int((np.rint(p.delays) > delay_max).sum())} delays exceed "
        f"the {profile.name} limit of {delay_max} steps (max {p.max_delay}); "
        f"use --on-overflow clamp, or fine-tune with "
        f"`neurodeploy train CONFIG --finetune MODEL --target {profile.name}`"
        for i, p in enumerate(network.projections)
        if p.delays.size and np.rint(p.delays).max() > delay_max
    ]
    if too_long and on_overflow == "error":
        raise ProfileLimitError("\n".join(too_long))


def map_delays(
    projection: Projection, profile: HardwareProfile
) -> tuple[NDArray[np.int64], DelayDecision]:
    """Integer delays within the profile's range, and the counts the report shows."""
    rounded = np.rint(projection.delays).astype(np.int64)
    decision = DelayDecision(
        delays_rounded_changed=int((rounded != projection.delays).sum()),
        delays_clamped=int((rounded > profile.delay_range.high).sum()),
    )
    return np.clip(rounded, profile.delay_range.low, profile.delay_range.high), decision
