import sys
from pathlib import Path

import numpy as np
import pytest

from neurodeploy.network import Network, Population, Projection


def loihi2_network(**overrides) -> Network:
    """A small valid loihi2 hardware model: input(3) -> hidden(4, recurrent) -> out(2)."""
    hw = dict(du=[100], dv=[200], vth=[50], bias_mant=[0, 1, 2, 3], bias_exp=[0, 0, 1, 7])
    out_hw = dict(du=[0], dv=[0], vth=[131071], bias_mant=[0], bias_exp=[0])
    proj_hw = dict(weight_exp=0, num_weight_bits=8)
    kwargs = dict(
        dt_ms=1.0,
        profile="loihi2",
        populations=(
            Population(name="input", size=3, kind="input"),
            Population(name="hidden", size=4, kind="lif", hw_params=hw),
            Population(name="out", size=2, kind="li", hw_params=out_hw),
        ),
        projections=(
            Projection(
                source="input",
                target="hidden",
                weights=np.arange(12).reshape(4, 3) * 10,
                delays=np.arange(12).reshape(4, 3) % 5,
                hw_params=proj_hw,
            ),
            Projection(
                source="hidden",
                target="hidden",
                weights=-np.eye(4, dtype=np.int64) * 20,
                hw_params=proj_hw,
            ),
            Projection(
                source="hidden",
                target="out",
                weights=np.ones((2, 4), np.int64) * 7,
                delays=np.full((2, 4), 62),
                hw_params=proj_hw,
            ),
        ),
        metadata={"seed": 1, "note": "fixture"},
    )
    kwargs.update(overrides)
    return Network(**kwargs)


@pytest.fixture
def hw_network() -> Network:
    return loihi2_network()


@pytest.fixture
def float_network() -> Network:
    rng = np.random.default_rng(0)
    return Network(
        dt_ms=0.5,
        populations=(
            Population(name="input", size=5, kind="input"),
            Population(
                name="hidden", size=7, kind="lif", decay_mem=0.97, decay_syn=0.9, threshold=1.0
            ),
            Population(name="output", size=3, kind="li", decay_mem=0.97, decay_syn=0.9),
        ),
        projections=(
            Projection(
                source="input",
                target="hidden",
                weights=rng.normal(size=(7, 5)),
                delays=rng.uniform(0, 10, (7, 5)),
            ),
            Projection(source="hidden", target="output", weights=rng.normal(size=(3, 7))),
        ),
        metadata={"config": {"lr": 1e-3}},
    )


FAKE_SPINNAKER2 = Path(__file__).parent / "backends" / "fake_spinnaker2"


@pytest.fixture
def fake_spinnaker2(monkeypatch):
    """The py-spinnaker2 stand-in of tests/backends/fake_spinnaker2 on ``sys.path``."""
    monkeypatch.syspath_prepend(str(FAKE_SPINNAKER2))
    monkeypatch.delenv("FAKE_SPINNAKER2_LOG", raising=False)
    monkeypatch.delenv("FAKE_SPINNAKER2_CORRUPT", raising=False)
    yield
    for name in [m for m in sys.modules if m == "spinnaker2" or m.startswith("spinnaker2.")]:
        del sys.modules[name]
