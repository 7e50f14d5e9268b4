"""What quantization decided, per population and projection: the one record that the mapping
writes and the report, its JSON and the CLI read.

Each target's mapping module extends :class:`PopulationDecision` and :class:`ProjectionDecision`
with its own fields (Loihi 2: ``du``, ``dv``, ``vth``, ``weight_exp``, sign mode; SpiNNaker2:
the float32 parameters, zeroed weights) and says in :meth:`PopulationDecision.describe` how a
person reads them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Decisions", "DelayDecision", "PopulationDecision", "ProjectionDecision"]


@dataclass(frozen=True)
class DelayDecision:
    """Delays onto the target: how many changed by rounding, how many were clamped to its limit."""

    delays_rounded_changed: int
    delays_clamped: int


@dataclass(frozen=True, kw_only=True)
class ProjectionDecision:
    """One projection's integer weights.

    Attributes
    ----------
    weight_scale : float
        Float weight per integer unit.
    weights_clipped : int
        Weights beyond the grid (set to its end); ``weights_clipped_pct`` of all.
    weight_rms_error, weight_rms_error_rel : float
        RMS of float minus grid weight (float units), and relative to the largest |w|.
    delays : DelayDecision
    """

    weight_scale: float
    weights_clipped: int
    weights_clipped_pct: float
    weight_rms_error: float
    weight_rms_error_rel: float
    delays: DelayDecision

    @property
    def delays_clamped(self) -> int:
        return self.delays.delays_clamped

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {**out.pop("delays"), **out}


@dataclass(frozen=True, kw_only=True)
class PopulationDecision:
    """One population's parameters.

    Attributes
    ----------
    v_scale : float
        Float V units per integer (hardware) V unit.
    bias_max_error : float
        Largest |float bias - hardware bias| in float V units.
    """

    v_scale: float
    bias_max_error: float

    def describe(self) -> str:
        """The parameters a person checks first, on one line."""
        return f"v_scale {self.v_scale:.4g}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decisions:
    """Every decision of one mapping, keyed by population name and projection name."""

    populations: dict[str, PopulationDecision] = field(default_factory=dict)
    projections: dict[str, ProjectionDecision] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "populations": {k: v.to_json() for k, v in self.populations.items()},
            "projections": {k: v.to_json() for k, v in self.projections.items()},
        }
