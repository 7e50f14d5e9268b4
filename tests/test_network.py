"""The network description has value semantics and cannot be changed after construction."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest

from neurodeploy.errors import NetworkError
from neurodeploy.network import Network, Population, Projection
from tests.conftest import loihi2_network


def test_equal_descriptions_compare_equal_and_hash_alike():
    a, b = loihi2_network(), loihi2_network()
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.populations[1] == b.populations[1] and hash(a.populations[1]) == hash(b.populations[1])
    assert a.projections[0] == b.projections[0]
    other = replace(
        a,
        projections=(
            replace(a.projections[0], weights=a.projections[0].weights + 1),
            *a.projections[1:],
        ),
    )
    assert other != a
    assert replace(a, readout="max_voltage") != a
    assert a != "not a network"


def test_arrays_are_read_only_and_not_shared_with_the_caller():
    weights = np.ones((2, 3))
    proj = Projection(source="a", target="b", weights=weights)
    weights[0, 0] = 7.0
    assert proj.weights[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        proj.weights[0, 0] = 5.0
    pop = Population(name="p", size=2, kind="lif", hw_params={"vth": [3]})
    with pytest.raises(ValueError, match="read-only"):
        pop.bias[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        pop.hw_params["vth"][0] = 4
    with pytest.raises(TypeError):
        pop.hw_params["du"] = np.array([1])  # a mapping proxy
    with pytest.raises(FrozenInstanceError):
        pop.size = 3


def test_output_population_and_the_typed_fields_are_validated():
    net = loihi2_network()
    assert net.output_population == "out"
    assert replace(net, output="hidden").output_population == "hidden"
    with pytest.raises(NetworkError, match="output must name a non-input population"):
        replace(net, output="input").validate()
    with pytest.raises(NetworkError, match="readout must be one of"):
        replace(net, readout="loudest").validate()
    float_net = replace(net, profile=None)
    with pytest.raises(NetworkError, match="only a hardware model"):
        replace(float_net, profile_options={"fma": True}).validate()


def test_as_float_keeps_readout_output_and_metadata():
    net = replace(loihi2_network(), readout="sum_voltage", output="hidden")
    float_net = net.as_float()
    assert float_net.profile is None and not float_net.profile_options
    assert (float_net.readout, float_net.output, dict(float_net.metadata)) == (
        "sum_voltage",
        "hidden",
        dict(net.metadata),
    )
    assert isinstance(float_net, Network)
