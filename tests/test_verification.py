"""``neurodeploy.verification``: random networks of either profile, and the agreement check."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import numpy as np
import pytest

from neurodeploy.emulator import run as emulate
from neurodeploy.errors import ConfigError
from neurodeploy.network import Network
from neurodeploy.profiles import check_network
from neurodeploy.records import PopulationRecord
from neurodeploy.targets.loihi2.random_networks import LOIHI2_REGIMES, random_loihi2_network
from neurodeploy.targets.spinnaker2.random_networks import (
    SPINNAKER2_REGIMES,
    random_spinnaker2_network,
)
from neurodeploy.verification import check_agreement, random_networks

GENERATORS = {
    "loihi2": (random_loihi2_network, LOIHI2_REGIMES),
    "spinnaker2": (random_spinnaker2_network, SPINNAKER2_REGIMES),
}


def _plain(value):
    """A comparable form of a network (arrays with dtype and shape)."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tolist())
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        return (type(value).__name__, [(f.name, _plain(getattr(value, f.name))) for f in fields])
    if isinstance(value, Mapping):
        return sorted((k, _plain(v)) for k, v in value.items())
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _same_case(a, b) -> bool:
    (ia, na, xa), (ib, nb, xb) = a, b
    return (
        ia == ib
        and _plain(na) == _plain(nb)
        and np.array_equal(xa.to_dense(), xb.to_dense())
        and np.array_equal(xa.labels, xb.labels)
    )


# --------------------------------------------------------------------------------------------
# random_networks


@pytest.mark.parametrize("profile", ["loihi2", "spinnaker2"])
def test_random_networks_are_reproducible_from_the_seed(profile):
    first = list(random_networks(5, 4, n_steps=10, n_samples=2, profile=profile))
    again = list(random_networks(5, 4, n_steps=10, n_samples=2, profile=profile))
    assert len(first) == len(again) == 4
    assert all(_same_case(a, b) for a, b in zip(first, again, strict=True))
    # a prefix of a longer run is the same: network i depends on (seed, i) only
    longer = list(random_networks(5, 6, n_steps=10, n_samples=2, profile=profile))
    assert all(_same_case(a, b) for a, b in zip(first, longer[:4], strict=True))
    # another seed gives other networks
    other = list(random_networks(6, 4, n_steps=10, n_samples=2, profile=profile))
    assert not any(_same_case(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("profile", ["loihi2", "spinnaker2"])
def test_random_networks_are_valid_models_of_the_profile_and_cycle_the_regimes(profile):
    generator, regimes = GENERATORS[profile]
    count = 2 * len(regimes)
    cases = list(random_networks(11, count, n_steps=7, n_samples=3, profile=profile))
    assert [index for index, _, _ in cases] == list(range(count))
    for index, network, inputs in cases:
        assert isinstance(network, Network)
        assert network.profile == profile and network.is_hardware
        network.validate()
        check_network(network)  # raises ProfileLimitError on a broken limit
        assert network.metadata["regime"] == regimes[index % len(regimes)]
        assert network.metadata["generator"] == generator.__name__
        n_in = sum(p.size for p in network.inputs)
        assert (len(inputs), inputs.n_steps, inputs.n_channels) == (3, 7, n_in)
        # exactly the generator's network for rng (seed, index) and the cycled regime
        expected = generator(
            np.random.default_rng([11, index]), regime=regimes[index % len(regimes)]
        )
        assert _plain(network) == _plain(expected)
    assert {n.metadata["regime"] for _, n, _ in cases} == set(regimes)


def test_random_networks_default_to_loihi2():
    cases = list(random_networks(3, 3, n_steps=5))
    assert [n.profile for _, n, _ in cases] == ["loihi2"] * 3
    assert all(
        _same_case(a, b)
        for a, b in zip(cases, random_networks(3, 3, n_steps=5, profile="loihi2"), strict=True)
    )


@pytest.mark.parametrize("profile", ["loihi", "float", "", "SPINNAKER2"])
def test_random_networks_reject_an_unknown_profile_at_the_call(profile):
    with pytest.raises(ConfigError) as info:
        random_networks(0, 2, profile=profile)  # raises before the first network is drawn
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert "loihi2, spinnaker2" in message and repr(profile) in message


# --------------------------------------------------------------------------------------------
# check_agreement


def _emulator_backend(network, inputs):
    return emulate(network, inputs, record_v=True)


def _copy(recording):
    return {
        name: PopulationRecord(
            spikes=rec.spikes.copy(), v=None if rec.v is None else rec.v.copy(), u=rec.u
        )
        for name, rec in recording.items()
    }


@pytest.mark.parametrize("profile", ["loihi2", "spinnaker2"])
def test_agreement_with_the_emulator_itself_counts_everything(profile):
    cases = list(random_networks(2, 4, n_steps=9, n_samples=3, profile=profile))
    spikes = sum(
        int(rec.spikes.sum())
        for _, network, inputs in cases
        for rec in emulate(network, inputs).values()
    )
    assert spikes > 0
    ticks = []
    report = check_agreement(
        iter(cases), _emulator_backend, against="itself", progress=lambda: ticks.append(1)
    )
    assert report.ok and report.mismatches == []
    assert (report.against, report.networks, report.samples, report.steps, report.spikes) == (
        "itself",
        4,
        4 * 3,
        4 * 3 * 9,
        spikes,
    )
    assert len(ticks) == 4
    doc = report.to_json()
    assert doc == {
        "against": "itself",
        "networks": 4,
        "samples": 12,
        "steps": 108,
        "spikes_compared": spikes,
        "mismatches": 0,
        "first_mismatch": None,
    }


def _network_with_spikes(profile: str, seed: int = 0):
    """(label, network, inputs) cases where every network spikes in its first population."""
    out = []
    for index, network, inputs in random_networks(
        seed, 40, n_steps=12, n_samples=2, profile=profile
    ):
        first = network.populations[1].name
        if emulate(network, inputs)[first].spikes.any():
            out.append((f"net-{index}", network, inputs))
        if len(out) == 3:
            return out
    raise AssertionError("no spiking networks drawn")


@pytest.mark.parametrize("profile", ["loihi2", "spinnaker2"])
def test_a_flipped_spike_is_reported_for_that_network_only(profile):
    cases = _network_with_spikes(profile)
    label, network, inputs = cases[1]
    population = network.populations[1].name
    expected_rec = emulate(network, inputs)
    s, t, i = (int(x) for x in np.argwhere(expected_rec[population].spikes)[0])

    def backend(net, inp):
        rec = _copy(emulate(net, inp, record_v=True))
        if net is network:
            rec[population].spikes[s, t, i] ^= 1
        return rec

    report = check_agreement(iter(cases), backend, against="flipper")
    assert not report.ok and len(report.mismatches) == 1
    m = report.mismatches[0]
    assert m["network"] == label
    assert (m["population"], m["variable"], m["sample"], m["step"], m["neuron"]) == (
        population,
        "spikes",
        s,
        t,
        i,
    )
    assert (m["expected"], m["actual"]) == (1, 0)
    assert label in json.dumps(report.to_json())
    doc = report.to_json()
    assert doc["mismatches"] == 1 and doc["networks"] == 3
    assert doc["first_mismatch"] == m
    assert set(doc["first_mismatch"]) == {
        "network",
        "population",
        "variable",
        "sample",
        "step",
        "neuron",
        "expected",
        "actual",
        "text",
    }
    assert population in m["text"] and f"step {t}" in m["text"]


@pytest.mark.parametrize("profile", ["loihi2", "spinnaker2"])
def test_a_changed_v_is_reported_for_that_network_only(profile):
    cases = list(random_networks(4, 3, n_steps=10, n_samples=2, profile=profile))
    cases = [(f"#{i}", n, x) for i, n, x in cases]
    label, network, _ = cases[2]
    population = network.populations[-1].name

    def backend(net, inp):
        rec = _copy(emulate(net, inp, record_v=True))
        if net is network:
            v = rec[population].v
            # the smallest change there is: one integer unit, or one float32 ulp
            v[1, 4, 0] = (
                v[1, 4, 0] + 1
                if v.dtype.kind in "iu"
                else np.nextafter(v[1, 4, 0], v.dtype.type(np.inf))
            )
        return rec

    report = check_agreement(iter(cases), backend, against="v-changer")
    assert [m["network"] for m in report.mismatches] == [label]
    m = report.mismatches[0]
    assert (m["population"], m["variable"], m["sample"], m["step"], m["neuron"]) == (
        population,
        "v",
        1,
        4,
        0,
    )
    assert m["actual"] != m["expected"]
    assert report.networks == 3 and report.to_json()["mismatches"] == 1
    json.dumps(report.to_json())  # serialisable as it stands


def test_every_bad_network_is_reported_in_order():
    cases = list(random_networks(8, 4, n_steps=8, n_samples=1))

    def backend(net, inp):
        rec = _copy(emulate(net, inp, record_v=True))
        if net.metadata["regime"] != "typical":  # networks 1, 2 (stress, sparse); not 0, 3
            name = net.populations[-1].name
            rec[name].spikes[0, -1, 0] ^= 1
        return rec

    report = check_agreement(iter(cases), backend, against="x")
    assert [m["network"] for m in report.mismatches] == [1, 2]
    assert report.to_json()["first_mismatch"]["network"] == 1
