"""The ``nir`` backend: exports a model as a NIR graph and runs the graph's float reading.

``export`` writes standard NIR (:mod:`neurodeploy.backends.nir_export`); ``run`` converts the model
to its NIR graph, reads the graph back (:mod:`neurodeploy.backends.nir_import`) and runs the
canonical float model of what was read, so a run checks that the exported file means the model.
A hardware model is exported and run as the float model it approximates
(:func:`neurodeploy.targets.dequantize`), as the ``float`` backend does.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from neurodeploy.backend import ANY_HARDWARE, FLOAT, Capabilities
from neurodeploy.errors import BackendUnavailableError
from neurodeploy.network import Network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData

from .nir_export import INSTALL_HINT, export_nir, to_nir_graph

__all__ = ["NirBackend"]

_CAPABILITIES = Capabilities(profiles=frozenset({FLOAT, ANY_HARDWARE}), exports=True)


@dataclass(frozen=True)
class NirBackend:
    """Standard NIR files (``nir`` 1.0.x) for float models and dequantized hardware models."""

    name: str = "nir"
    capabilities: Capabilities = _CAPABILITIES

    def is_available(self) -> bool:
        """True when the ``nir`` package is importable."""
        try:
            return importlib.util.find_spec("nir") is not None
        except (ImportError, ValueError):
            return False

    def unavailable_reason(self) -> str:
        """One line: what to install."""
        return INSTALL_HINT

    def export(self, network: Network, out: str | os.PathLike[str]) -> list[Path]:
        """Write ``out`` (a ``.nir`` path) or ``out/model.nir``; see
        :func:`neurodeploy.backends.nir_export.export_nir`."""
        return export_nir(network, out)

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        """Run the float reading of ``network``'s NIR graph: spikes and v per non-input population,
        each (n_samples, n_steps, size), as :func:`neurodeploy.emulator.canonical.simulate`."""
        if not self.is_available():
            raise BackendUnavailableError(self.unavailable_reason())
        from neurodeploy.emulator.canonical import simulate

        from .nir_import import from_nir_graph

        imported = from_nir_graph(to_nir_graph(network), dt_ms=network.dt_ms, convention="nir")
        back = imported.network
        rename = {v: k for k, v in back.metadata["nir"]["node_names"].items()}
        recording = simulate(back, inputs)
        return {rename.get(name, name): rec for name, rec in recording.items()}
