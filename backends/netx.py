"""netx backend: run a ``loihi2`` hardware model the way lava-dl's own netx loader runs it.

``run`` writes the model's netx file (:func:`neurodeploy.backends.lava_export.plan_netx`), loads
it with lava-dl 0.6.0's ``lava.lib.dl.netx.hdf5.Network(net_config=...)``, feeds each sample from
a ``RingBuffer`` into ``Network.inp``, and records every block's LIF (spikes in the spike phase,
v after the reset: the recorder of the Lava backend) in Lava's fixed-point simulator
(``Loihi2SimCfg(select_tag="fixed_pt")``). So ``neurodeploy verify HW.h5 --against netx`` checks a
user's own model against the vendor's loader, not against neurodeploy's reading of it.

One sample per compiled network (netx builds one fixed-size network per file; its
``reset_interval`` resets u and v but not the synapses' delay buffers). lava-dl declares
Python < 3.11 and needs torch < 2.4: ``make test-vendors`` builds ``.venv-vendors`` with it, and
``lava.lib.dl.netx`` is imported only after :func:`neurodeploy._lava_compat.import_lava` has put
the Python 3.11 fix on the import path (netx imports lava-nc's compiler).
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurodeploy._lava_compat import import_lava
from neurodeploy.backend import Capabilities
from neurodeploy.errors import BackendUnavailableError, ConfigError
from neurodeploy.network import Network
from neurodeploy.records import PopulationRecord, Recording
from neurodeploy.spikes import SpikeData

__all__ = ["NETX_HINT", "NetxBackend", "import_netx", "netx_version"]

NETX_HINT = (
    "run `make test-vendors` (builds .venv-vendors with lava-dl 0.6.0 and torch 2.3) or install "
    "lava-dl==0.6.0 with `pip install --no-deps --ignore-requires-python lava-dl==0.6.0` plus "
    "'torch>=2.3.1,<2.4' 'torchvision>=0.18,<0.19' ninja opencv-python-headless 'pillow<11'"
)


def import_netx() -> Any:
    """Import ``lava.lib.dl.netx.hdf5`` after the Python 3.11 fix; BackendUnavailableError (one
    line, naming what to install) when lava-nc or lava-dl is missing or does not import."""
    try:
        import_lava()
    except BackendUnavailableError as exc:
        raise BackendUnavailableError(f"the netx backend needs lava-nc: {exc}") from exc
    try:
        found = importlib.util.find_spec("lava.lib.dl.netx") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise BackendUnavailableError(
            f"the netx backend needs lava-dl 0.6.0 (netx), which is not importable; {NETX_HINT}"
        )
    try:
        return importlib.import_module("lava.lib.dl.netx.hdf5")
    except ImportError as exc:
        raise BackendUnavailableError(
            f"lava-dl is installed but netx does not import ({type(exc).__name__}: {exc}); "
            f"{NETX_HINT}"
        ) from exc


def netx_version() -> str | None:
    """Installed lava-dl version, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lava-dl")
    except PackageNotFoundError:
        return None


def _netx_reason() -> str:
    # find_spec only: importing netx (torch) takes seconds; run() imports it for real
    try:
        import_lava()
        found = importlib.util.find_spec("lava.lib.dl.netx") is not None
    except BackendUnavailableError as exc:
        return f"the netx backend needs lava-nc: {exc}"
    except (ImportError, ValueError):
        found = False
    if not found:
        return f"the netx backend needs lava-dl 0.6.0 (netx), which is not importable; {NETX_HINT}"
    return ""


@dataclass(frozen=True)
class NetxBackend:
    """Runs ``loihi2`` hardware models through lava-dl's netx loader; exports netx files.

    ``run`` and ``export`` refuse (ConfigError, one line naming the layer and the reason) a model
    that netx would run differently (:func:`neurodeploy.backends.lava_export.plan_netx`).
    """

    name: str = "netx"
    capabilities: Capabilities = field(
        default=Capabilities(profiles=frozenset({"loihi2"}), records_v=True, exports=True)
    )

    def is_available(self) -> bool:
        return not self.unavailable_reason()

    def unavailable_reason(self) -> str:
        """Empty when lava-nc and lava-dl's netx are importable, else one line."""
        return _netx_reason()

    def export(self, network: Network, out_dir: Path | str) -> list[Path]:
        """Write ``netx.h5`` (:func:`neurodeploy.backends.lava_export.export_netx`)."""
        from neurodeploy.backends.lava_export import export_netx

        return export_netx(network, Path(out_dir))

    def run(self, network: Network, inputs: SpikeData, *, record_v: bool = True) -> Recording:
        """Load the model's netx file with ``netx.hdf5.Network`` and run every sample.

        Returns
        -------
        Recording
            Per non-input population: spikes uint8 and v int32 (or None), each
            (n_samples, n_steps, size).

        Raises
        ------
        BackendUnavailableError
            If lava-nc or lava-dl is not importable (one line naming what to install).
        ConfigError
            If the model is not a ``loihi2`` hardware model, or netx would run it differently.
        NetworkError, ProfileLimitError
            If the model or inputs are invalid.
        """
        from neurodeploy.backends.lava import _check
        from neurodeploy.backends.lava_export import _write_netx, netx_refusal, plan_netx

        params = _check(network, inputs)
        reason = self.unavailable_reason()
        if reason:
            raise BackendUnavailableError(reason)
        plan = plan_netx(network)
        if not plan.exact:
            raise ConfigError(netx_refusal(plan))
        hdf5 = import_netx()
        n_samples, n_steps = len(inputs), inputs.n_steps
        spikes = {p.name: np.zeros((n_samples, n_steps, p.size), np.uint8) for p in params}
        volts = {p.name: np.zeros((n_samples, n_steps, p.size), np.int32) for p in params}
        with tempfile.TemporaryDirectory(prefix="neurodeploy-netx-") as tmp:
            path = _write_netx(plan, Path(tmp) / "netx.h5")
            for k in range(n_samples):
                raster = inputs.to_dense(np.array([k]))[0]  # (n_steps, channels)
                got = run_netx_file(hdf5, path, raster, Path(tmp), record_v=record_v)
                for p, (s, v) in zip(params, got, strict=True):
                    spikes[p.name][k] = s
                    if v is not None:
                        volts[p.name][k] = v
        return {
            p.name: PopulationRecord(spikes=spikes[p.name], v=volts[p.name] if record_v else None)
            for p in params
        }


def run_netx_file(
    hdf5: Any, path: Path, raster: np.ndarray, tmp: Path, *, record_v: bool = True
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Load ``path`` with ``hdf5.Network(net_config=path)``, run ``raster`` [step, channel] in
    ``Loihi2SimCfg(select_tag="fixed_pt")``; (spikes, v) of every block's neuron, each
    [step, neuron]."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.source import RingBuffer

    from neurodeploy.backends._lava_procs.recorder import Recorder, create_record_files

    n_steps = raster.shape[0]
    net = hdf5.Network(net_config=str(path))
    source = RingBuffer(data=np.ascontiguousarray(raster.T).astype(np.int32))
    source.s_out.connect(net.inp)
    files = []
    for i, block in enumerate(net.layers):
        size = int(np.prod(block.neuron.s_out.shape))
        s_path, v_path = create_record_files(tmp, f"layer{i}", n_steps, size, record_v=record_v)
        rec = Recorder(shape=(size,), spikes_path=str(s_path), v_path=str(v_path or ""))
        block.neuron.s_out.connect(rec.s_in)
        if record_v:
            rec.v_ref.connect_var(block.neuron.v)
        files.append((s_path, v_path))
    try:
        net.run(condition=RunSteps(num_steps=n_steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        return [
            (
                np.load(s).astype(np.uint8),
                None if v is None else np.load(v).astype(np.int32),
            )
            for s, v in files
        ]
    finally:
        net.stop()
