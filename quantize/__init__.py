"""Quantization: map a float network onto a hardware profile and report what changed.

:func:`quantize` is the one entry point; each profile contributes a mapping function in
:data:`MAPPERS` (adding a target adds a mapper, never a branch in shared code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neurodeploy.errors import ConfigError
from neurodeploy.network import Network, Projection
from neurodeploy.quantize import loihi2, spinnaker2
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.report import build_report
from neurodeploy.spikes import SpikeData

__all__ = ["DEQUANTIZERS", "GRIDS", "MAPPERS", "QuantizationResult", "dequantize", "quantize"]

MAPPERS: dict[str, Callable[..., tuple[Network, dict]]] = {
    "loihi2": loihi2.map_loihi2,
    "spinnaker2": spinnaker2.map_spinnaker2,
}
DEQUANTIZERS: dict[str, Callable[[Network], Network]] = {
    "loihi2": loihi2.dequantize_loihi2,
    "spinnaker2": spinnaker2.dequantize_spinnaker2,
}
#: Per profile: a hardware projection -> (low, high, multiple) of its integer weights.
GRIDS: dict[str, Callable[[Projection], tuple[int, int, int]]] = {
    "loihi2": loihi2.projection_grid,
    "spinnaker2": spinnaker2.projection_grid,
}
ON_OVERFLOW = ("error", "clamp")


@dataclass(frozen=True)
class QuantizationResult:
    """A hardware model and the report of every decision that produced it."""

    hardware: Network
    report: dict[str, Any]


def quantize(
    network: Network,
    target: str,
    *,
    calibration: SpikeData | None = None,
    on_overflow: str = "error",
    sensitivity_draws: int = 8,
) -> QuantizationResult:
    """Map float ``network`` onto profile ``target``.

    Parameters
    ----------
    network : Network
        Float model.
    target : str
        A key of :data:`MAPPERS`.
    calibration : SpikeData, optional
        Samples (with labels, for accuracy) on which scales are chosen and float and emulated
        behaviour are compared. Without them every synapse counts equally and the report has no
        activity comparison.
    on_overflow : {"error", "clamp"}
        Delays beyond the target's range: refuse (default) or clamp.
    sensitivity_draws : int
        Float runs of the calibration data under 1e-3 relative weight noise that tell the report
        which changed decisions are borderline (:mod:`neurodeploy.sensitivity`); 0 skips them.

    Returns
    -------
    QuantizationResult
    """
    if network.is_hardware:
        raise ConfigError(f"quantize expects a float model, got a {network.profile} hardware model")
    mapper = MAPPERS.get(target)
    if mapper is None:
        raise ConfigError(f"target must be one of {', '.join(sorted(MAPPERS))}, got {target!r}")
    if on_overflow not in ON_OVERFLOW:
        raise ConfigError(
            f"on_overflow must be one of {', '.join(ON_OVERFLOW)}, got {on_overflow!r}"
        )
    network.validate()
    if calibration is None:
        stats = Calibration.uniform(network)
    else:
        stats = Calibration.from_data(network, calibration)  # streamed: memory per batch
    hardware, decisions = mapper(network, stats, on_overflow=on_overflow)
    report = build_report(
        network,
        hardware,
        decisions,
        calibration,
        sensitivity_draws=sensitivity_draws,
    )
    hardware = hardware.with_metadata(quantization=report["summary"])
    return QuantizationResult(hardware=hardware, report=report)


def dequantize(hardware: Network) -> Network:
    """The float model (canonical semantics) that hardware model ``hardware`` approximates.

    Quantization-aware fine-tuning trains through ``dequantize(quantize(model))``; comparing a
    float run of it with the emulator isolates the target's arithmetic from its grid.
    """
    if hardware.profile not in DEQUANTIZERS:
        raise ConfigError(
            f"profile must be one of {', '.join(sorted(DEQUANTIZERS))}, got {hardware.profile!r}"
        )
    return DEQUANTIZERS[hardware.profile](hardware).validate()
