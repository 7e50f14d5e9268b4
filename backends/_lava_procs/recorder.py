"""A Lava process that records one population's spikes and voltage straight into files.

Lava's ``Monitor`` has the right timing but hands its buffer back one value per channel message
(``PyLoihiProcessModel._get_var``, marked FIXME upstream): about 25 µs per value, so 1,000 steps
of 1,000 neurons take ~50 s just to read back. :class:`Recorder` reads exactly what a Monitor
reads, at the same protocol phases, and writes each step's row into a memory-mapped ``.npy`` file
that the host opens after the run:

- spikes: an ``InPort`` connected from the population's ``s_out``, received in the spike phase
  (a Monitor probing the OutPort does the same), row ``time_step - 1``;
- voltage: a ``RefPort`` on the population's ``v``, read in the post-management phase, i.e. after
  the update and the reset (a Monitor probing the Var does the same), row ``time_step - 1``.

Importing this module imports Lava (through :func:`neurodeploy._lava_compat.import_lava`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurodeploy._lava_compat import import_lava

import_lava()

from lava.magma.core.decorator import implements, requires, tag  # noqa: E402
from lava.magma.core.model.py.model import PyLoihiProcessModel  # noqa: E402
from lava.magma.core.model.py.ports import PyInPort, PyRefPort  # noqa: E402
from lava.magma.core.model.py.type import LavaPyType  # noqa: E402
from lava.magma.core.process.ports.ports import InPort, RefPort  # noqa: E402
from lava.magma.core.process.process import AbstractProcess  # noqa: E402
from lava.magma.core.resources import CPU  # noqa: E402
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol  # noqa: E402

__all__ = ["Recorder", "create_record_files"]


def create_record_files(
    directory: Path, name: str, n_steps: int, size: int, *, record_v: bool
) -> tuple[Path, Path | None]:
    """Create zero-filled ``.npy`` files for spikes (uint8) and v (int32), shape (n_steps, size)."""
    spikes_path = directory / f"{name}.spikes.npy"
    np.lib.format.open_memmap(spikes_path, mode="w+", dtype=np.uint8, shape=(n_steps, size)).flush()
    v_path = None
    if record_v:
        v_path = directory / f"{name}.v.npy"
        np.lib.format.open_memmap(v_path, mode="w+", dtype=np.int32, shape=(n_steps, size)).flush()
    return spikes_path, v_path


class Recorder(AbstractProcess):
    """Records ``s_out`` (connect it to :attr:`s_in`) and ``v`` (:attr:`v_ref`) of one population.

    Parameters
    ----------
    shape : tuple of int
        Shape of the recorded population.
    spikes_path : str
        ``.npy`` file of shape (n_steps, size), uint8, made by :func:`create_record_files`.
    v_path : str
        Same for v (int32); empty string when v is not recorded (leave ``v_ref`` unconnected).
    """

    def __init__(
        self, *, shape: tuple[int, ...], spikes_path: str, v_path: str = "", name: str | None = None
    ):
        super().__init__(shape=shape, spikes_path=spikes_path, v_path=v_path, name=name)
        self.s_in = InPort(shape=shape)
        self.v_ref = RefPort(shape=shape)


@implements(proc=Recorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyRecorderModel(PyLoihiProcessModel):
    """Writes row ``time_step - 1`` of the spike and voltage files each step (steps past the
    files' length are dropped)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32)
    v_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self._spikes = np.load(proc_params["spikes_path"], mmap_mode="r+")
        v_path = proc_params["v_path"]
        self._v = np.load(v_path, mmap_mode="r+") if v_path else None

    def run_spk(self) -> None:
        row = self.time_step - 1
        data = self.s_in.recv()
        if row < self._spikes.shape[0]:
            self._spikes[row] = data != 0

    def post_guard(self) -> bool:
        return self._v is not None

    def run_post_mgmt(self) -> None:
        row = self.time_step - 1
        data = self.v_ref.read()
        if row < self._v.shape[0]:
            self._v[row] = data
