"""Quantization: map a float network onto a hardware target and report what changed.

:func:`quantize` is the one entry point. Each target names its mapping function
(``Target.mapping`` in :mod:`neurodeploy.targets`, e.g. ``neurodeploy.quantize.loihi2:map_loihi2``)
and :func:`mapper` resolves it, so adding a target adds a mapping module, never a branch in shared
code. The way back is the target's own (:func:`neurodeploy.targets.dequantize`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neurodeploy.errors import ConfigError
from neurodeploy.network import Network
from neurodeploy.quantize.calibration import Calibration
from neurodeploy.quantize.report import build_report
from neurodeploy.spikes import SpikeData
from neurodeploy.targets import get_target, target_names

__all__ = ["QuantizationResult", "map_to_target", "mapper", "quantize"]

#: ``mapping(network, calibration, *, on_overflow) -> (hardware model, decisions)``
Mapping = Callable[..., tuple[Network, dict]]

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
        A registered target (:func:`neurodeploy.targets.target_names`).
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
    mapping = mapper(target)
    if on_overflow not in ON_OVERFLOW:
        raise ConfigError(
            f"on_overflow must be one of {', '.join(ON_OVERFLOW)}, got {on_overflow!r}"
        )
    network.validate()
    if calibration is None:
        stats = Calibration.uniform(network)
    else:
        stats = Calibration.from_data(network, calibration)  # streamed: memory per batch
    hardware, decisions = mapping(network, stats, on_overflow=on_overflow)
    report = build_report(
        network,
        hardware,
        decisions,
        calibration,
        sensitivity_draws=sensitivity_draws,
    )
    hardware = hardware.with_metadata(quantization=report["summary"])
    return QuantizationResult(hardware=hardware, report=report)


def mapper(target: str) -> Mapping:
    """The mapping function target ``target`` names; ConfigError naming the targets otherwise."""
    if target not in target_names():
        raise ConfigError(f"target must be one of {', '.join(target_names())}, got {target!r}")
    module, function = get_target(target).mapping.split(":")
    return getattr(importlib.import_module(module), function)


def map_to_target(
    network: Network, target: str, calibration: Calibration, *, on_overflow: str = "clamp"
) -> Network:
    """Only the mapping of :func:`quantize` (no report): the hardware model of float ``network``
    for ``target`` with scales chosen on ``calibration``. Fine-tuning starts from it."""
    hardware, _ = mapper(target)(network, calibration, on_overflow=on_overflow)
    return hardware
