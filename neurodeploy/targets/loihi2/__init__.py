"""Intel Loihi 2 through Lava: fixed-point LIF with Dense/DelayDense synapses.

``profile`` (limits), ``arithmetic`` (sign modes, effective weights, decay/threshold/bias
conversions, dequantize), ``emulator`` + ``kernels`` (bit-accurate Numba emulator of Lava's
``fixed_pt`` models) and ``random_networks``. The mapping is ``neurodeploy.quantize.loihi2``, the
backends ``lava`` and ``lava-loihi2`` (``neurodeploy.backends.lava``).
"""

from neurodeploy.targets import Target
from neurodeploy.targets.loihi2.arithmetic import dequantize, projection_grid
from neurodeploy.targets.loihi2.emulator import run_loihi2
from neurodeploy.targets.loihi2.profile import LOIHI2
from neurodeploy.targets.loihi2.random_networks import LOIHI2_REGIMES, random_loihi2_network

__all__ = ["LOIHI2", "TARGET"]

TARGET = Target(
    profile=LOIHI2,
    emulate=run_loihi2,
    dequantize=dequantize,
    projection_grid=projection_grid,
    random_network=random_loihi2_network,
    regimes=LOIHI2_REGIMES,
    mapping="neurodeploy.quantize.loihi2:map_loihi2",
)
