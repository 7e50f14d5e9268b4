"""SpiNNaker2 backend: a deploy bundle for py-spinnaker2, runs on a board, and board-vs-emulator checks.

Mapping of a ``spinnaker2`` hardware model onto py-spinnaker2 (``from spinnaker2 import snn``):

============================  ====================================================================
network element               py-spinnaker2 construct
============================  ====================================================================
input population              ``snn.Population(size, "spike_list", {neuron: [ticks]})``, per sample
lif / li population           ``snn.Population(size, "lif_curr_exp", params, record=["spikes", "v"])``
                              with ``alpha_decay = decay_mem``, ``exc_decay = inh_decay =
                              decay_syn``, ``threshold`` (for ``li``: a finite power of two v
                              provably never reaches, :func:`li_threshold`), ``i_offset = bias`` (a
                              list where neurons differ), ``v_init = v_reset = 0.0``,
                              ``reset`` from the ``reset`` option, refractory period 0
projection                    ``snn.Projection(pre, post, [[pre, post, weight, delay], ...])``, one
                              row per non-zero integer weight (sign = synapse type), delay = field
placement                     ``pop.set_max_atoms_per_core(n)`` with ``n`` from
                              :mod:`neurodeploy.backends.spinnaker2_placement`
============================  ====================================================================

The bundle (:func:`export_spinnaker2`) is a folder a board user can take anywhere: ``network.json``,
``inputs.json`` (when inputs are given), ``placement.json`` and ``placement.txt``,
``run_on_spinnaker2.py`` (standalone runner: numpy, h5py, py-spinnaker2), ``README.md`` and the
hardware model ``model.h5``. The runner's results file goes back to :func:`compare_results`.

Floats in the JSON files are written with Python's shortest round-trip repr of float32-exact
values, so the chip receives exactly the model's float32 parameters. Every JSON file is strict
JSON (``allow_nan=False``: no ``NaN``/``Infinity`` tokens, which other parsers reject). A
non-spiking readout (``li``, threshold ``+inf`` in the hardware model and the emulator) gets the
finite threshold of :func:`li_threshold`, as py-spinnaker2 users write a non-spiking output
(``"threshold": 1e9  # set to non-spiking`` in a Braille example built on py-spinnaker2), but
with a bound proven for the model instead of a guess, so board and emulator still agree exactly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurodeploy.backend import Capabilities
from neurodeploy.backends import spinnaker2_runner as runner
from neurodeploy.backends.spinnaker2_placement import Placement, format_placement, place
from neurodeploy.backends.spinnaker2_readme import bundle_readme
from neurodeploy.errors import BackendUnavailableError, ConfigError, ProfileLimitError
from neurodeploy.files import atomic_path, write_network
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network
from neurodeploy.records import Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.targets.spinnaker2.arithmetic import V_RESET
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2
from neurodeploy.validation import require_channels, require_profile

__all__ = [
    "BUNDLE_FILES",
    "INSTALL_HINT",
    "SpiNNaker2Backend",
    "bundle_inputs",
    "bundle_network",
    "export_spinnaker2",
    "inputs_fingerprint",
    "li_threshold",
    "model_fingerprint",
]

INSTALL_HINT = runner.INSTALL_HINT
BUNDLE_FILES = (
    "network.json",
    "inputs.json",
    "placement.json",
    "placement.txt",
    "run_on_spinnaker2.py",
    "README.md",
    "model.h5",
)
_HOST_ENV = "NEURODEPLOY_SPINNAKER2_HOST"

if TYPE_CHECKING:
    from neurodeploy.backends.spinnaker2_results import BoardComparison


def model_fingerprint(network: Network) -> str:
    """SHA-256 of everything that decides a run: dt, populations, weights and delays (hex)."""
    h = hashlib.sha256()
    h.update(json.dumps({"dt_ms": float(network.dt_ms), "profile": network.profile}).encode())
    for pop in network.populations:
        fields = [pop.name, pop.kind, int(pop.size), pop.decay_mem, pop.decay_syn, pop.threshold]
        h.update(json.dumps(fields).encode())
        h.update(np.ascontiguousarray(pop.bias, np.float64).tobytes())
    for proj in network.projections:
        h.update(json.dumps([proj.source, proj.target]).encode())
        h.update(np.ascontiguousarray(np.rint(proj.weights), np.int64).tobytes())
        h.update(np.ascontiguousarray(np.rint(proj.delays), np.int64).tobytes())
    return h.hexdigest()


def inputs_fingerprint(inputs: SpikeData) -> str:
    """SHA-256 of the input spikes (events, sample boundaries, channels, steps) (hex)."""
    h = hashlib.sha256()
    h.update(json.dumps([int(inputs.n_channels), int(inputs.n_steps)]).encode())
    for array in (inputs.steps, inputs.units, inputs.offsets):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _scalar_or_list(values: np.ndarray) -> float | list[float]:
    """One number if every value has the same bit pattern (so 0.0 and -0.0 differ), else a list."""
    values = np.ascontiguousarray(values, np.float64)
    bits = values.view(np.uint64)
    if values.size and (bits == bits[0]).all():
        return float(values[0])
    return [float(x) for x in values]


#: Largest power of two a float32 holds (2**127); an ``li`` threshold must not exceed it.
_F32_MAX_POW2 = 2.0**127


def _pow2_at_least(x: float) -> float:
    """The smallest power of two >= ``x`` (and >= 1)."""
    return 2.0 ** max(0, math.ceil(math.log2(x))) if x > 1 else 1.0


def li_threshold(network: Network, pop: Population, input_multiplicity: int = 1) -> float:
    """A finite float32 threshold that v of the non-spiking population ``pop`` provably never reaches.

    Proof (float32, round to nearest even: monotonic, odd-symmetric, exact on float32 values).
    Let ``K_E`` / ``K_H`` be the largest per-neuron sum of the excitatory / inhibitory integer
    weights onto ``pop`` (a source spikes at most once per tick, an input channel at most
    ``input_multiplicity`` times; a synapse delivers at most once per arrival tick), so a tick's
    input is an integer in ``[0, K]`` and its float32 value is at most ``k = 2**ceil(log2 K)``.
    With ``S = 2**25 k``: if ``0 <= I <= S`` then ``decay*I <= I`` (decay in [0, 1]) and
    ``decay*I + in <= S + k < S + ulp(S)/2``, so the rounded update (fused or not) is ``<= S``:
    ``0 <= I_exc <= S_E``, ``0 <= I_inh <= S_H`` forever. Every addend of the v update (``I_exc -
    I_inh`` or each current alone, and ``i_offset``) is at most ``C = max(S_E, S_H, 2**ceil(log2
    max|i_offset|))`` in magnitude; with ``V = 2**25 C``, ``|v| <= V`` implies ``|alpha*v| <= V``
    and ``|x + y| <= V + C < V + ulp(V)/2``, so each rounded step stays ``<= V`` in magnitude, in
    every order the profile options select. The returned ``2 V`` is therefore never reached
    (neither ``>`` nor ``>=`` fires), so the board running this threshold and the emulator
    running ``+inf`` produce the same bits. It is a power of two, so exactly a float32.

    Raises
    ------
    ProfileLimitError
        ``2 V`` exceeds the float32 range (absurd fan-in or |i_offset|): no finite threshold
        is provably safe.
    """
    exc = np.zeros(pop.size, np.float64)
    inh = np.zeros(pop.size, np.float64)
    for proj in network.projections:
        if proj.target != pop.name:
            continue
        weights = np.rint(proj.weights)
        times = input_multiplicity if network.population(proj.source).kind == "input" else 1
        exc += times * np.where(weights > 0, weights, 0).sum(axis=1)
        inh += times * np.where(weights < 0, -weights, 0).sum(axis=1)
    s_exc = 2.0**25 * _pow2_at_least(float(exc.max(initial=0.0)))
    s_inh = 2.0**25 * _pow2_at_least(float(inh.max(initial=0.0)))
    offset = float(np.abs(pop.bias.astype(np.float32)).max(initial=0.0))
    bound = 2.0**25 * max(s_exc, s_inh, _pow2_at_least(offset))
    if 2 * bound > _F32_MAX_POW2:
        raise ProfileLimitError(
            f"populations/{pop.name}: no finite float32 threshold is provably out of reach for this "
            f"li readout (|v| bound 2**{int(math.log2(bound))}); reduce its fan-in weights or |bias|"
        )
    return 2 * bound


def _input_multiplicity(inputs: SpikeData | None) -> int:
    """Most events of one channel at one tick in one sample (1 without inputs)."""
    if inputs is None or len(inputs.steps) == 0:
        return 1
    sample = np.repeat(np.arange(len(inputs)), np.diff(inputs.offsets))
    keys = np.stack([sample, inputs.steps, inputs.units], axis=1).astype(np.int64)
    _, counts = np.unique(keys, axis=0, return_counts=True)
    return max(1, int(counts.max()))


def _neuron_params(
    network: Network, pop: Population, options: Mapping[str, Any], input_multiplicity: int = 1
) -> dict[str, Any]:
    """py-spinnaker2 ``lif_curr_exp`` params of one population."""
    threshold = (
        float(pop.threshold) if pop.is_spiking else li_threshold(network, pop, input_multiplicity)
    )
    return {
        "alpha_decay": float(pop.decay_mem),
        "exc_decay": float(pop.decay_syn),
        "inh_decay": float(pop.decay_syn),
        "threshold": threshold,
        "i_offset": _scalar_or_list(pop.bias),
        "v_init": 0.0,
        "v_reset": V_RESET,
        "reset": options["reset"],
        options["t_refrac_key"]: 0,
    }


def _connections(proj: Projection) -> list[list[int]]:
    weights = np.rint(proj.weights).astype(np.int64)
    delays = np.rint(proj.delays).astype(np.int64)
    post, pre = np.nonzero(weights)
    order = np.lexsort((post, pre))  # by pre neuron, then post: one synapse row after another
    pre, post = pre[order], post[order]
    rows = np.stack([pre, post, weights[post, pre], delays[post, pre]], axis=1)
    return rows.tolist()


def bundle_network(
    network: Network,
    options: Mapping[str, Any],
    placement: Placement | None = None,
    input_multiplicity: int = 1,
) -> dict[str, Any]:
    """The ``network.json`` document of ``network`` (see the module docstring).

    ``input_multiplicity``: the most spikes one input channel sends at one tick (for the proven
    ``li`` threshold, :func:`li_threshold`).
    """
    placement = placement or place(network, options)
    channel = 0
    pops = []
    for pop in network.populations:
        entry: dict[str, Any] = {"name": pop.name, "kind": pop.kind, "size": int(pop.size)}
        if pop.kind == "input":
            entry["neuron_model"] = "spike_list"
            entry["input_channels"] = [channel, channel + pop.size]
            channel += pop.size
        else:
            entry["neuron_model"] = "lif_curr_exp"
            entry["params"] = _neuron_params(network, pop, options, input_multiplicity)
            entry["record"] = ["spikes", "v"]
            entry["v_scale"] = float(pop.v_scale)
        entry["max_atoms_per_core"] = placement.neurons_per_core[pop.name]
        pops.append(entry)
    projs = []
    for proj in network.projections:
        connections = _connections(proj)
        projs.append(
            {
                "pre": proj.source,
                "post": proj.target,
                "weight_scale": float(proj.weight_scale),
                "n_connections": len(connections),
                "connections": connections,
            }
        )
    return {
        "format": runner.BUNDLE_FORMAT,
        "format_version": runner.BUNDLE_VERSION,
        "name": str(network.metadata.get("name", "neurodeploy")),
        "model_fingerprint": model_fingerprint(network),
        "dt_ms": float(network.dt_ms),
        "options": dict(options),
        "populations": pops,
        "projections": projs,
    }


def bundle_inputs(network: Network, inputs: SpikeData) -> dict[str, Any]:
    """The ``inputs.json`` document: per sample, ``spike_list`` params of every input population."""
    _check_inputs(network, inputs)
    ranges = []
    start = 0
    for pop in network.inputs:
        ranges.append((pop.name, start, start + pop.size))
        start += pop.size
    samples = []
    for b in range(len(inputs)):
        steps, units = inputs.sample(b)
        sample: dict[str, dict[str, list[int]]] = {}
        for name, lo, hi in ranges:
            params: dict[str, list[int]] = {}
            for tick, unit in zip(steps.tolist(), units.tolist(), strict=True):
                if lo <= unit < hi:
                    params.setdefault(str(unit - lo), []).append(tick)
            sample[name] = dict(sorted(params.items(), key=lambda item: int(item[0])))
        samples.append(sample)
    return {
        "format": "neurodeploy-spinnaker2-inputs",
        "format_version": 1,
        "inputs_fingerprint": inputs_fingerprint(inputs),
        "n_samples": len(inputs),
        "n_steps": int(inputs.n_steps),
        "n_channels": int(inputs.n_channels),
        "labels": [int(x) for x in inputs.labels],
        "samples": samples,
    }


def _check_inputs(network: Network, inputs: SpikeData) -> None:
    require_channels(network, inputs)
    inputs.validate("inputs")


_NUMBER_LIST = re.compile(r"\[\s*([-+0-9.eE]+(?:,\s*[-+0-9.eE]+)*)\s*\]")


def _write_text(path: Path, text: str, mode: int = 0o644) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
        tmp.chmod(mode)


def _write_json(path: Path, document: Any) -> None:
    """Strict, indented JSON with every list of plain numbers on one line (a connection per line).

    ``allow_nan=False``: a NaN or infinity raises ValueError instead of writing a token
    (``NaN``, ``Infinity``) that strict JSON parsers reject.
    """
    text = json.dumps(document, indent=1, allow_nan=False)
    text = _NUMBER_LIST.sub(
        lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text
    )
    _write_text(path, text + "\n")


def export_spinnaker2(
    network: Network,
    out_dir: str | os.PathLike[str],
    inputs: SpikeData | None = None,
    *,
    options: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write a SpiNNaker2 deploy bundle for ``network`` into ``out_dir``.

    Parameters
    ----------
    network : Network
        Hardware model, profile ``spinnaker2``.
    out_dir : path
        Bundle folder; created if missing, files of the same names replaced.
    inputs : SpikeData, optional
        Samples to run (channels: the input populations' neurons in network order; step = tick).
    options : mapping, optional
        Overrides of the profile options (reset mode, placement limits, ...).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    NetworkError, ProfileLimitError, ConfigError
        Wrong profile, a broken limit (values, neurons per PE, synapse memory, PEs per chip, an
        ``li`` readout with no provably safe finite threshold), inputs that do not fit, or a bad
        option.
    """
    require_profile(network, SPINNAKER2.name, "the SpiNNaker2 backend")
    network.validate()
    check_network(network)
    resolved = SPINNAKER2.resolve_options(network, options)
    placement = place(network, resolved)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if inputs is not None:
        _check_inputs(network, inputs)
    multiplicity = _input_multiplicity(inputs)
    _write_json(out / "network.json", bundle_network(network, resolved, placement, multiplicity))
    written.append(out / "network.json")
    if inputs is not None:
        _write_json(out / "inputs.json", bundle_inputs(network, inputs))
        written.append(out / "inputs.json")
    _write_json(out / "placement.json", placement.to_json())
    written.append(out / "placement.json")
    _write_text(out / "placement.txt", format_placement(network, placement))
    written.append(out / "placement.txt")
    _write_text(out / "run_on_spinnaker2.py", Path(runner.__file__).read_text(), mode=0o755)
    written.append(out / "run_on_spinnaker2.py")
    _write_text(out / "README.md", bundle_readme(network, resolved, placement, inputs))
    written.append(out / "README.md")
    written.append(write_network(network, out / "model.h5"))
    (out / "model.h5").chmod(0o644)
    return written


_CAPABILITIES = Capabilities(
    profiles=frozenset({"spinnaker2"}), exports=True, exports_inputs=True, deploys=True
)


@dataclass(frozen=True)
class SpiNNaker2Backend:
    """Exports ``spinnaker2`` hardware models as deploy bundles and runs them on a chip.

    Parameters
    ----------
    name : str
        Registry key.
    capabilities : Capabilities
        Runs, exports (with input samples) and deploys ``spinnaker2`` hardware models.
    host : str or None
        Ethernet IP of the chip for :meth:`run`; None reads ``NEURODEPLOY_SPINNAKER2_HOST``.
    sys_tick_in_s : float
        Seconds per tick on the chip; large enough that no tick overruns.
    """

    name: str = "spinnaker2"
    capabilities: Capabilities = _CAPABILITIES
    host: str | None = None
    sys_tick_in_s: float = runner.DEFAULT_SYS_TICK_S

    def is_available(self) -> bool:
        """True when py-spinnaker2 (``import spinnaker2``) is importable here."""
        try:
            return importlib.util.find_spec("spinnaker2") is not None
        except (ImportError, ValueError):
            return False

    def unavailable_reason(self) -> str:
        """One line: what to install, and how to get a bundle without it."""
        return (
            f"{INSTALL_HINT}; without it, `neurodeploy export MODEL.h5 --backend spinnaker2 --out DIR "
            "--data SPEC` writes a bundle whose run_on_spinnaker2.py runs on a machine that has it"
        )

    def export(
        self,
        network: Network,
        out_dir: str | os.PathLike[str],
        inputs: SpikeData | None = None,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Write the deploy bundle; see :func:`export_spinnaker2`."""
        return export_spinnaker2(network, out_dir, inputs, options=options)

    def deploy(
        self,
        network: Network,
        out_dir: str | os.PathLike[str],
        inputs: SpikeData,
        *,
        host: str | None = None,
        sys_tick_in_s: float | None = None,
        record_v: bool = True,
        options: Mapping[str, Any] | None = None,
        log: Any = None,
    ) -> Path:
        """Export the bundle to ``out_dir``, run every sample on the chip, return ``results.h5``.

        Raises
        ------
        BackendUnavailableError
            py-spinnaker2 is not importable (checked before anything is written).
        ConfigError
            No host given, or a bad option.
        """
        if not self.is_available():
            raise BackendUnavailableError(self.unavailable_reason())
        host = host or self.host or os.environ.get(_HOST_ENV)
        if not host:
            raise ConfigError(
                f"spinnaker2: the chip's address is needed: pass --host IP (or set {_HOST_ENV})"
            )
        export_spinnaker2(network, out_dir, inputs, options=options)
        try:
            return runner.run_bundle(
                out_dir,
                host=host,
                sys_tick_in_s=sys_tick_in_s or self.sys_tick_in_s,
                record_voltages=record_v,
                overwrite=True,
                log=log or (lambda message: None),
            )
        except runner.BundleError as exc:
            raise ConfigError(str(exc)) from None
        except ImportError as exc:
            raise BackendUnavailableError(str(exc)) from None

    def compare(
        self,
        network: Network,
        results_path: str | os.PathLike[str],
        inputs: SpikeData | None = None,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> BoardComparison:
        """Board results versus the emulator; see
        :func:`neurodeploy.backends.spinnaker2_results.compare_results`."""
        from neurodeploy.backends.spinnaker2_results import compare_results

        return compare_results(network, results_path, inputs, options=options)

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        """Run every sample of ``inputs`` on the chip at :attr:`host`.

        Returns
        -------
        Recording
            Per non-input population: spikes uint8 and v float32 (or None), each
            (n_samples, n_steps, size), as the chip recorded them.

        Raises
        ------
        BackendUnavailableError
            py-spinnaker2 is not importable; the message says what to install.
        ConfigError
            No host: construct with ``host=...`` or set ``NEURODEPLOY_SPINNAKER2_HOST``.
        """
        from neurodeploy.backends.spinnaker2_results import read_results

        if not self.is_available():
            raise BackendUnavailableError(self.unavailable_reason())
        with tempfile.TemporaryDirectory(prefix="neurodeploy-spinnaker2-") as tmp:
            results = self.deploy(network, tmp, inputs, record_v=record_v)
            return read_results(results).recording
