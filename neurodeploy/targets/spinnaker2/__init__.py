"""SpiNNaker2 through py-spinnaker2: float32 ``lif_curr_exp``, 4-bit weights, 3-bit delays.

``profile`` (limits and the options the documentation leaves open), ``arithmetic`` (float32
values, weight grid, dequantize), ``emulator`` + ``kernels`` (bit-accurate float32 Numba emulator)
and ``random_networks``. The mapping is ``neurodeploy.quantize.spinnaker2``, the backend
``spinnaker2`` (``neurodeploy.backends.spinnaker2``: deploy bundle and board runs).
"""

from neurodeploy.targets import Target
from neurodeploy.targets.spinnaker2.arithmetic import dequantize, projection_grid
from neurodeploy.targets.spinnaker2.emulator import run_spinnaker2
from neurodeploy.targets.spinnaker2.profile import SPINNAKER2
from neurodeploy.targets.spinnaker2.random_networks import (
    SPINNAKER2_REGIMES,
    random_spinnaker2_network,
)

__all__ = ["SPINNAKER2", "TARGET"]

TARGET = Target(
    profile=SPINNAKER2,
    emulate=run_spinnaker2,
    dequantize=dequantize,
    projection_grid=projection_grid,
    random_network=random_spinnaker2_network,
    regimes=SPINNAKER2_REGIMES,
    mapping="neurodeploy.quantize.spinnaker2:map_spinnaker2",
)
