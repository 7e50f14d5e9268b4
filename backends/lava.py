"""Lava backend: run a ``loihi2`` hardware model on Lava's bit-accurate models, and export it.

Mapping of one hardware model onto Lava 0.10.0 processes (``Loihi2SimCfg(select_tag="fixed_pt")``):

============================  ====================================================================
network element               Lava construct
============================  ====================================================================
input population              ``lava.proc.io.source.RingBuffer(data[neuron, step])``
lif / li population           ``lava.proc.lif.process.LIF`` (``du, dv, vth`` shared; ``bias_mant,
                              bias_exp`` per neuron; "li" is a LIF whose ``vth`` never is reached)
projection, all delays 0      ``lava.proc.dense.process.Dense(weights, weight_exp, num_weight_bits,
                              sign_mode)``
projection with delays        ``lava.proc.dense.process.DelayDense(..., delays, max_delay=max)``
several projections into one  all ``a_out`` connect to the target's ``a_in`` (Lava sums them)
recurrent projection          ``lif.s_out -> Dense/DelayDense -> lif.a_in``
recording                     a :class:`~neurodeploy.backends._lava_procs.recorder.Recorder` per
                              population (``s_out`` in the spike phase, ``v`` after the reset), or
                              Lava ``Monitor`` s (``probe="monitor"``; same values, far slower)
============================  ====================================================================

``sign_mode`` 1/2/3 is passed as ``lava.utils.weightutils.SignMode``; 0 or absent is inferred with
Lava's own ``determine_sign_mode`` on the projection's weights.

Many samples, one compiled network. Every step of every Lava process is a round of inter-process
messages, so a step costs milliseconds however small the network. A chunk of ``B`` samples is
therefore run as one Lava network holding ``B`` independent copies: population ``p`` becomes one
LIF of ``B * size`` neurons (copy ``b`` owns neurons ``b*size .. (b+1)*size - 1``) and each
projection one block-diagonal connection. This is exactly equivalent to ``B`` separate runs:
``du, dv, vth, weight_exp, num_weight_bits`` are shared per process and are the same for every
copy; the sign mode is fixed explicitly from the unbatched weights (Lava's inference would also
agree, because zero padding changes neither ``min >= 0`` nor ``max <= 0``); clipping and
truncation act per weight; and each post-neuron's sum (on which ``weight_exp`` acts) only ever
contains its own copy's synapses plus zeros. For ``B > 1`` the block-diagonal matrices are
``Sparse`` / ``DelaySparse`` (CSR), whose bit-accurate models run the same clip, truncate, per-row
sum and per-delay shift as ``Dense`` / ``DelayDense``; ``tests/backends/test_lava.py`` checks the
two give identical traces.

Recording. Lava's ``Monitor`` hands its buffer back one value per message (~25 µs each: 1,000
steps x 1,000 neurons take ~50 s to read), so the default is a small file-backed recorder process
with the same timing (:mod:`neurodeploy.backends._lava_procs.recorder`); ``probe="monitor"`` keeps
the stock Monitors, and the tests check the two agree.

Loihi 2 chips (``LavaBackend(on_chip=True)``, registry name ``lava-loihi2``) need Intel's closed
lava-loihi package; :func:`hardware_available` says whether it is importable (it is not here). On
chip, inputs go through ``PyToNxAdapter`` and spikes come back through ``NxToPyAdapter``, one
sample per run, spikes only. That path follows lava-loihi's published adapter usage but has never
run in this repository.
"""

from __future__ import annotations

import importlib.util
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from neurodeploy._lava_compat import import_lava
from neurodeploy.backend import Capabilities
from neurodeploy.errors import BackendUnavailableError, ConfigError, NetworkError
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network
from neurodeploy.records import PopulationRecord, Recording
from neurodeploy.spikes import SpikeData
from neurodeploy.validation import require_channels, require_profile

__all__ = [
    "LavaBackend",
    "auto_samples_per_network",
    "hardware_available",
    "loihi2_hardware_backend",
]

log = logging.getLogger(__name__)

# Modules of Intel's closed lava-loihi package that Loihi2HwCfg runs need.
_HW_MODULES = (
    "lava.magma.compiler.subcompilers.nc.ncproc_compiler",
    "lava.magma.core.model.nc.model",
    "lava.proc.embedded_io.spike",
)
# Budgets of one compiled Lava network (all copies together). Measured on this repository's
# benchmark networks (benchmarks/emulator_vs_lava.py, 2 CPU cores): a Lava step costs ~1 ms per
# process whatever its size, while Sparse/DelaySparse re-expand their matrices every step at
# ~80 ns per stored synapse; block-diagonal copies pay off while the copies' synapses stay below
# ~250k (100 neurons: 64 copies -> 0.44 ms per sample-step instead of ~9; 300 neurons: 4 copies;
# 600+ neurons with fan-in 128: one sample per network is fastest).
_SYNAPSES_PER_NETWORK = 250_000
_NEURONS_PER_NETWORK = 16_384
_MAX_SAMPLES_PER_NETWORK = 64


def hardware_available() -> tuple[bool, str]:
    """Whether Loihi 2 chips can be used through ``Loihi2HwCfg`` here, and why not.

    Returns
    -------
    tuple of (bool, str)
        ``(True, "")`` when lava-nc and Intel's lava-loihi extension (NeuroCore compiler, embedded
        I/O adapters) are importable; otherwise ``False`` and a one-line reason.
    """
    try:
        import_lava()
    except BackendUnavailableError as exc:
        return False, str(exc)
    missing = []
    for module in _HW_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    if missing:
        return False, (
            "Loihi2HwCfg needs Intel's lava-loihi package (Intel Neuromorphic Research Community "
            f"members only), which is not installed: {', '.join(missing)} not importable"
        )
    return True, ""


def _lava_reason() -> str:
    """Empty when Lava imports here, else the one-line reason."""
    try:
        import_lava()
    except BackendUnavailableError as exc:
        return str(exc)
    return ""


def auto_samples_per_network(network: Network, n_samples: int) -> int:
    """Samples to run as block-diagonal copies in one Lava network: as many as keep the copies
    within ``_SYNAPSES_PER_NETWORK`` stored synapses and ``_NEURONS_PER_NETWORK`` neurons, at least
    1, at most ``min(n_samples, 64)``."""
    neurons = sum(p.size for p in network.populations)
    synapses = sum(int(np.count_nonzero(p.weights)) for p in network.projections)
    fit = min(_NEURONS_PER_NETWORK // max(neurons, 1), _SYNAPSES_PER_NETWORK // max(synapses, 1))
    return int(max(1, min(n_samples, _MAX_SAMPLES_PER_NETWORK, fit)))


@dataclass(frozen=True)
class LavaBackend:
    """Runs ``loihi2`` hardware models on Lava and exports them.

    Parameters
    ----------
    name : str
        Registry key.
    capabilities : Capabilities
        Runs and exports ``loihi2`` hardware models; records v in the simulator only.
    on_chip : bool
        Run on Loihi 2 through ``Loihi2HwCfg`` (needs lava-loihi and a board) instead of
        ``Loihi2SimCfg(select_tag="fixed_pt")``.
    samples_per_network : int or None
        Samples per compiled Lava network (block-diagonal copies); None picks
        :func:`auto_samples_per_network`. 1 gives the literal Dense/DelayDense mapping.
    probe : {"recorder", "monitor"}
        How to read spikes and v back: the file-backed recorder, or Lava ``Monitor`` s.
    """

    name: str = "lava"
    on_chip: bool = False
    samples_per_network: int | None = None
    probe: Literal["recorder", "monitor"] = "recorder"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            profiles=frozenset({"loihi2"}), records_v=not self.on_chip, exports=True
        )

    def is_available(self) -> bool:
        """True when this backend can run here (Lava importable; on chip: lava-loihi too)."""
        return not self.unavailable_reason()

    def unavailable_reason(self) -> str:
        """Empty when available, else one line saying what is missing."""
        return hardware_available()[1] if self.on_chip else _lava_reason()

    def export(self, network: Network, out_dir: Path | str) -> list[Path]:
        """Write a netx HDF5 (where expressible), a hardware-model copy and a manifest.

        See :func:`neurodeploy.backends.lava_export.export_lava`.
        """
        from neurodeploy.backends.lava_export import export_lava

        return export_lava(network, Path(out_dir))

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        """Run every sample of ``inputs`` through Lava.

        Parameters
        ----------
        network : Network
            Hardware model, profile ``loihi2``.
        inputs : SpikeData
            Channels: the input populations' neurons concatenated in network order.
        record_v : bool
            Also record v (after the reset), int32.

        Returns
        -------
        Recording
            Per non-input population: spikes uint8 and v int32 (or None), each shaped
            (n_samples, n_steps, size); step ``t`` is Lava ``time_step`` ``t + 1``.

        Raises
        ------
        NetworkError, ProfileLimitError
            If the model or inputs are invalid or break a Loihi 2 limit.
        ConfigError
            If the model is not a ``loihi2`` hardware model, or ``samples_per_network`` is
            below 1.
        BackendUnavailableError
            If Lava (or, on chip, lava-loihi) is not importable.
        """
        params = _check(network, inputs)
        if self.samples_per_network is not None and self.samples_per_network < 1:
            raise ConfigError(
                f"samples_per_network must be >= 1 or None, got {self.samples_per_network}"
            )
        if self.on_chip:
            ok, reason = hardware_available()
            if not ok:
                raise BackendUnavailableError(reason)
        else:
            import_lava()
        n_samples = len(inputs)
        batch = self.samples_per_network or auto_samples_per_network(network, n_samples)
        if self.on_chip:
            # One sample per chip run; v lives on the NeuroCores and is not read back here.
            batch = 1
            if record_v:
                log.warning("lava-loihi2: voltages are not recorded on chip; returning spikes only")
            record_v = False
        log.debug("lava: %d samples, %d per Lava network", n_samples, batch)
        spikes = {p.name: np.zeros((n_samples, inputs.n_steps, p.size), np.uint8) for p in params}
        volts = (
            {p.name: np.zeros((n_samples, inputs.n_steps, p.size), np.int32) for p in params}
            if record_v
            else {}
        )
        for start in range(0, n_samples, batch):
            index = np.arange(start, min(start + batch, n_samples))
            raster = inputs.to_dense(index)
            for component in _components(network):
                result = _run_component(
                    network,
                    component,
                    raster,
                    record_v=record_v,
                    probe=self.probe,
                    on_chip=self.on_chip,
                )
                for name, (s, v) in result.items():
                    spikes[name][index] = s
                    if record_v and v is not None:
                        volts[name][index] = v
        return {
            p.name: PopulationRecord(
                spikes=spikes[p.name], v=volts.get(p.name) if record_v else None
            )
            for p in params
        }


def loihi2_hardware_backend() -> LavaBackend:
    """The ``lava-loihi2`` registry entry: :class:`LavaBackend` on a Loihi 2 chip."""
    return LavaBackend(name="lava-loihi2", on_chip=True)


# --------------------------------------------------------------------------------------------
# checking and planning


@dataclass(frozen=True)
class _LifParams:
    """Lava LIF arguments of one non-input population."""

    name: str
    size: int
    du: int
    dv: int
    vth: int
    bias_mant: NDArray[np.int64]
    bias_exp: NDArray[np.int64]


def _check(network: Network, inputs: SpikeData) -> list[_LifParams]:
    """Validate model and inputs; the LIF arguments of every non-input population, in order."""
    require_profile(network, "loihi2", "the Lava backend")
    network.validate()
    check_network(network)
    inputs.validate("inputs")
    require_channels(network, inputs)
    if len(inputs) == 0 or inputs.n_steps < 1:
        raise NetworkError(
            f"inputs must hold at least one sample of >= 1 step, got {len(inputs)} x {inputs.n_steps}"
        )
    return [_lif_params(p) for p in network.populations if p.kind != "input"]


def _lif_params(pop: Population) -> _LifParams:
    shared = {}
    for key in ("du", "dv", "vth"):
        value = np.asarray(pop.hw_params[key])
        if (value != value.flat[0]).any():
            raise NetworkError(
                f"populations/{pop.name}/hw_params/{key} must be one value for the whole "
                f"population (Lava's LIF shares it), got {np.unique(value).tolist()}"
            )
        shared[key] = int(value.flat[0])
    ones = np.ones(pop.size, dtype=np.int64)
    return _LifParams(
        name=pop.name,
        size=pop.size,
        bias_mant=ones * np.asarray(pop.hw_params["bias_mant"], dtype=np.int64),
        bias_exp=ones * np.asarray(pop.hw_params["bias_exp"], dtype=np.int64),
        **shared,
    )


def _components(network: Network) -> list[list[str]]:
    """Populations grouped into connected components (Lava compiles what is reachable from one
    process), each in network order."""
    parent = {p.name: p.name for p in network.populations}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for proj in network.projections:
        parent[root(proj.source)] = root(proj.target)
    groups: dict[str, list[str]] = {}
    for pop in network.populations:
        groups.setdefault(root(pop.name), []).append(pop.name)
    return [g for g in groups.values() if any(network.population(n).kind != "input" for n in g)]


# --------------------------------------------------------------------------------------------
# building and running one Lava network


def _sign_mode(proj: Projection) -> Any:
    from lava.utils.weightutils import SignMode, determine_sign_mode

    mode = int(proj.hw_params.get("sign_mode", 0))
    return SignMode(mode) if mode else determine_sign_mode(np.asarray(proj.weights, dtype=np.int64))


def _connection(proj: Projection, batch: int) -> Any:
    """Dense/DelayDense for one sample, or Sparse/DelaySparse block-diagonal over ``batch`` copies."""
    weights = np.asarray(proj.weights, dtype=np.int64)
    delays = np.asarray(proj.delays, dtype=np.int64)
    max_delay = int(delays.max()) if delays.size else 0
    kwargs = {
        "weight_exp": int(proj.hw_params["weight_exp"]),
        "num_weight_bits": int(proj.hw_params["num_weight_bits"]),
        "sign_mode": _sign_mode(proj),
        "name": f"{proj.source}->{proj.target}",
    }
    if batch == 1:
        from lava.proc.dense.process import DelayDense, Dense

        if max_delay == 0:
            return Dense(weights=weights, **kwargs)
        return DelayDense(weights=weights, delays=delays, max_delay=max_delay, **kwargs)
    from lava.proc.sparse.process import DelaySparse, Sparse
    from scipy import sparse

    block_w = sparse.block_diag([sparse.csr_matrix(weights)] * batch, format="csr", dtype=np.int64)
    if max_delay == 0:
        return Sparse(weights=block_w, **kwargs)
    # Keep delays only where Lava's preprocessed weight is non-zero (a delay on a zero weight has
    # no effect). DelaySparse zeroes the delayed entries of a copy of its preprocessed weights every
    # step; a delay outside their sparsity pattern would insert entries (slow, and warns each step).
    from lava.utils.weightutils import clip_weights, truncate_weights

    mode = kwargs["sign_mode"]
    used = truncate_weights(
        clip_weights(weights, mode, num_bits=8), mode, kwargs["num_weight_bits"]
    )
    stored = sparse.csr_matrix(np.where(used != 0, delays, 0))
    block_d = sparse.block_diag([stored] * batch, format="csr", dtype=np.int64)
    return DelaySparse(weights=block_w, delays=block_d, max_delay=max_delay, **kwargs)


def _run_component(
    network: Network,
    names: list[str],
    raster: NDArray[np.uint8],
    *,
    record_v: bool,
    probe: str,
    on_chip: bool,
) -> dict[str, tuple[NDArray[np.uint8], NDArray[np.int32] | None]]:
    """Build, run and read back one connected component for the samples of ``raster``
    [sample, step, channel]; ``{population: (spikes, v)}`` each (batch, n_steps, size)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    batch, n_steps, _ = raster.shape
    wanted = set(names)
    offsets, channel = {}, 0
    for pop in network.inputs:
        offsets[pop.name] = channel
        channel += pop.size
    procs: dict[str, Any] = {}
    for pop in network.populations:
        if pop.name not in wanted:
            continue
        if pop.kind == "input":
            lo = offsets[pop.name]
            data = (
                raster[:, :, lo : lo + pop.size]
                .transpose(0, 2, 1)
                .reshape(batch * pop.size, n_steps)
            )
            procs[pop.name] = RingBuffer(data=data.astype(np.int32))
        else:
            p = _lif_params(pop)
            procs[pop.name] = LIF(
                shape=(batch * pop.size,),
                du=p.du,
                dv=p.dv,
                vth=p.vth,
                bias_mant=np.tile(p.bias_mant, batch),
                bias_exp=np.tile(p.bias_exp, batch),
                name=pop.name,
            )
    adapters: dict[str, Any] = {}
    if on_chip:
        from lava.proc.embedded_io.spike import PyToNxAdapter

        for pop in network.inputs:
            if pop.name in wanted:
                adapter = PyToNxAdapter(shape=(batch * pop.size,))
                procs[pop.name].s_out.connect(adapter.inp)
                adapters[pop.name] = adapter
    for proj in network.projections:
        if proj.target not in wanted:
            continue
        conn = _connection(proj, batch)
        source = adapters.get(proj.source)
        (source.out if source is not None else procs[proj.source].s_out).connect(conn.s_in)
        conn.a_out.connect(procs[proj.target].a_in)

    lifs = [network.population(n) for n in names if network.population(n).kind != "input"]
    anchor = procs[lifs[0].name]
    with tempfile.TemporaryDirectory(prefix="neurodeploy-lava-") as tmp:
        read = _attach_probes(
            procs, lifs, batch, n_steps, Path(tmp), record_v=record_v, probe=probe, on_chip=on_chip
        )
        try:
            anchor.run(
                condition=RunSteps(num_steps=n_steps, blocking=True), run_cfg=_run_config(on_chip)
            )
            return read()
        finally:
            anchor.stop()


def _run_config(on_chip: bool) -> Any:
    if on_chip:
        from lava.magma.core.run_configs import Loihi2HwCfg

        return Loihi2HwCfg()
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag="fixed_pt")


def _attach_probes(
    procs: dict[str, Any],
    lifs: list[Population],
    batch: int,
    n_steps: int,
    tmp: Path,
    *,
    record_v: bool,
    probe: str,
    on_chip: bool,
) -> Any:
    """Connect recorders (or Monitors) to every LIF; return a function reading them after the run."""

    def unbatch(rows: NDArray[Any], size: int, dtype: type) -> NDArray[Any]:
        # rows[step, copy * size + neuron] -> [copy, step, neuron]
        return np.ascontiguousarray(rows.reshape(n_steps, batch, size).transpose(1, 0, 2)).astype(
            dtype
        )

    if probe not in ("recorder", "monitor") or (probe == "monitor" and on_chip):
        raise NetworkError(f"probe must be 'recorder' (or 'monitor' off chip), got {probe!r}")
    if probe == "monitor":
        from lava.proc.monitor.process import Monitor

        monitors = {}
        for pop in lifs:
            m_s = Monitor()
            m_s.probe(procs[pop.name].s_out, n_steps)
            m_v = None
            if record_v:
                m_v = Monitor()
                m_v.probe(procs[pop.name].v, n_steps)
            monitors[pop.name] = (m_s, m_v)

        def read_monitors() -> dict[str, tuple[NDArray[np.uint8], NDArray[np.int32] | None]]:
            out = {}
            for pop in lifs:
                m_s, m_v = monitors[pop.name]
                s = m_s.get_data()[pop.name]["s_out"]
                v = m_v.get_data()[pop.name]["v"] if m_v is not None else None
                out[pop.name] = (
                    unbatch(s != 0, pop.size, np.uint8),
                    None if v is None else unbatch(v, pop.size, np.int32),
                )
            return out

        return read_monitors

    from neurodeploy.backends._lava_procs.recorder import Recorder, create_record_files

    files = {}
    for pop in lifs:
        size = batch * pop.size
        s_path, v_path = create_record_files(tmp, pop.name, n_steps, size, record_v=record_v)
        rec = Recorder(
            shape=(size,),
            spikes_path=str(s_path),
            v_path=str(v_path or ""),
            name=f"record:{pop.name}",
        )
        if on_chip:
            from lava.proc.embedded_io.spike import NxToPyAdapter

            adapter = NxToPyAdapter(shape=(size,))
            procs[pop.name].s_out.connect(adapter.inp)
            adapter.out.connect(rec.s_in)
        else:
            procs[pop.name].s_out.connect(rec.s_in)
        if record_v:
            rec.v_ref.connect_var(procs[pop.name].v)
        files[pop.name] = (s_path, v_path)

    def read_recorders() -> dict[str, tuple[NDArray[np.uint8], NDArray[np.int32] | None]]:
        out = {}
        for pop in lifs:
            s_path, v_path = files[pop.name]
            s = np.load(s_path)
            v = np.load(v_path) if v_path is not None else None
            out[pop.name] = (
                unbatch(s, pop.size, np.uint8),
                None if v is None else unbatch(v, pop.size, np.int32),
            )
        return out

    return read_recorders
