"""The bit-accurate emulator equals Lava's fixed-point simulator bit for bit, in spikes and v at
every step, on random Loihi 2 networks across every regime the generator covers (1-4 layers,
recurrent and skip projections, delays 0-62, all sign modes and weight bit widths, weight_exp -8..7,
biases with exponents, du = -1, u wrapping and v saturating).

The default run checks a modest number of networks; ``make test-slow`` checks 500 more.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurodeploy.backend import get_backend
from neurodeploy.emulator import run as emulate
from neurodeploy.records import first_mismatch
from neurodeploy.targets.loihi2.random_networks import LOIHI2_REGIMES as REGIMES
from neurodeploy.targets.loihi2.random_networks import random_loihi2_network
from neurodeploy.verification import random_inputs

pytestmark = pytest.mark.lava

_networks = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "n_layers": st.integers(1, 4),
        "recurrent": st.booleans(),
        "max_delay": st.sampled_from([0, 1, 4, 17, 62]),
        "regime": st.sampled_from(REGIMES),
    }
)


def _check(case):
    rng = np.random.default_rng(case["seed"])
    network = random_loihi2_network(
        rng,
        n_layers=case["n_layers"],
        recurrent=case["recurrent"],
        max_delay=case["max_delay"],
        regime=case["regime"],
        max_size=10,
    )
    inputs = random_inputs(rng, network, n_samples=3, n_steps=int(rng.integers(20, 90)))
    expected = emulate(network, inputs, record_v=True)
    actual = get_backend("lava").run(network, inputs)
    assert first_mismatch(expected, actual) is None
    return expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_networks)
def test_emulator_equals_lava_on_random_networks(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_networks)
def test_emulator_equals_lava_on_500_random_networks(case):
    _check(case)


def test_agreement_holds_where_u_wraps_and_v_saturates():
    """Stress networks in which the wrap of u and the saturation of v really happen."""
    from tests.reference.loihi2 import run_reference

    checked = 0
    for seed in range(200):
        case = {"seed": seed, "n_layers": 2, "recurrent": True, "max_delay": 4, "regime": "stress"}
        rng = np.random.default_rng(seed)
        network = random_loihi2_network(
            rng, n_layers=2, recurrent=True, max_delay=4, regime="stress", max_size=10
        )
        inputs = random_inputs(rng, network, n_samples=3, n_steps=int(rng.integers(20, 90)))
        stats: dict = {}
        for raster in inputs.to_dense():
            run_reference(network, raster, stats)
        if stats["u_wraps"] and stats["v_saturations"]:
            _check(case)
            checked += 1
            if checked == 3:
                break
    assert checked == 3
