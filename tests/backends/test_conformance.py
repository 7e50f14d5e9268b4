"""Every registered backend keeps the :class:`neurodeploy.backend.Backend` contract.

Runs against each name in :func:`registered_backends` (core backends, the toolchain backends
found through the entry points, and a third-party one registered at run time): declared
capabilities match its methods, it refuses models it does not accept in one line, and where it
can run here it reproduces the reference (the canonical float model for float models, the target's
bit-accurate emulator for hardware models) spike for spike, with v exactly when it says it
records v. A backend that cannot run here must say why in one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import neurodeploy.backend as backend_module
from neurodeploy.backend import (
    ANY_HARDWARE,
    FLOAT,
    Backend,
    Capabilities,
    check_accepts,
    get_backend,
    register_backend,
    registered_backends,
)
from neurodeploy.emulator import run as reference_run
from neurodeploy.errors import BackendUnavailableError, ConfigError
from neurodeploy.network import Network
from neurodeploy.targets import get_target, target_names
from neurodeploy.verification import random_inputs
from tests.trainer.nets import random_network

BUILT_IN = {"float", "emulator", "lava", "lava-loihi2", "spinnaker2"}
#: Every backend registered when the tests are collected (entry points included), so a backend
#: added later is held to the same contract without editing this file.
REGISTERED = sorted(registered_backends())


def _model(profile: str | None, seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    if profile is None:
        return random_network(rng, n_in=4, sizes=[5, 3], max_delay=3, recurrent=True)
    return get_target(profile).random_model(rng, regime="typical")


def _accepted(caps: Capabilities) -> list[str | None]:
    out: list[str | None] = [None] if FLOAT in caps.profiles else []
    named = sorted(caps.profiles - {FLOAT, ANY_HARDWARE})
    return out + (target_names() if ANY_HARDWARE in caps.profiles else named)


@pytest.fixture(params=REGISTERED)
def backend(request, fake_spinnaker2, monkeypatch) -> Backend:
    monkeypatch.setenv("NEURODEPLOY_SPINNAKER2_HOST", "10.0.0.1")
    return get_backend(request.param)


def test_the_built_in_backends_are_registered():
    assert set(registered_backends()) >= BUILT_IN


def test_the_contract(backend):
    assert isinstance(backend, Backend)
    assert isinstance(backend.capabilities, Capabilities)
    caps = backend.capabilities
    assert caps.profiles, f"{backend.name} runs no models"
    for flag, method in (
        (caps.exports, "export"),
        (caps.deploys, "deploy"),
        (caps.deploys, "compare"),
    ):
        assert callable(getattr(backend, method, None)) or not flag, (backend.name, method)
    assert get_backend(backend.name) is backend


def test_refuses_what_it_does_not_run_in_one_line(backend):
    for profile in [None, *target_names()]:
        if backend.capabilities.accepts(profile):
            continue
        with pytest.raises(ConfigError) as err:
            check_accepts(backend, _model(profile))
        assert "\n" not in str(err.value) and backend.name in str(err.value)


@pytest.mark.lava
def test_runs_like_the_reference_or_says_why_not(backend):
    for profile in _accepted(backend.capabilities):
        network = _model(profile, seed=3)
        inputs = random_inputs(np.random.default_rng(1), network, n_samples=2, n_steps=20)
        if not backend.is_available():
            reason = backend.unavailable_reason()
            assert reason and "\n" not in reason
            with pytest.raises(BackendUnavailableError):
                backend.run(network, inputs)
            continue
        got = backend.run(network, inputs, record_v=True)
        # A hardware model's reference is its target's emulator; a backend that runs float models
        # runs a hardware model as the float model it approximates, whose reference is the
        # canonical simulation.
        if FLOAT in backend.capabilities.profiles and network.is_hardware:
            from neurodeploy.targets import dequantize

            network = dequantize(network)
        expected = reference_run(network, inputs, record_v=True)
        assert set(got) == set(expected)
        for name, rec in expected.items():
            np.testing.assert_array_equal(got[name].spikes, rec.spikes, err_msg=name)
            if backend.capabilities.records_v:
                np.testing.assert_array_equal(got[name].v, rec.v, err_msg=name)


def _quantized_chain(profile: str | None) -> Network:
    """What users export: a feed-forward float model, quantized for ``profile``."""
    from neurodeploy.quantize import quantize

    rng = np.random.default_rng(5)
    float_model = random_network(rng, n_in=4, sizes=[5, 3], max_delay=3, recurrent=False)
    if profile is None:
        return float_model
    return quantize(float_model, profile, on_overflow="clamp", sensitivity_draws=0).hardware


def test_exports_write_files_or_refuse_in_one_line(backend, tmp_path):
    """Any model: files, or a one-line refusal that writes nothing (a format may not express
    it). A quantized feed-forward model: files."""
    if not backend.capabilities.exports:
        return
    for profile in _accepted(backend.capabilities):
        for seed in range(4, 8):
            out = tmp_path / f"{profile}-{seed}"
            try:
                files = backend.export(_model(profile, seed=seed), out)
            except ConfigError as err:
                assert "\n" not in str(err) and not list(out.glob("*")), str(err)
                continue
            assert files and all(f.exists() for f in files)
        files = backend.export(_quantized_chain(profile), tmp_path / f"{profile}-chain")
        assert files and all(f.exists() for f in files)


_LOIHI2_ONLY = Capabilities(profiles=frozenset({"loihi2"}))


@dataclass(frozen=True)
class _Toy:
    name: str = "toy"
    capabilities: Capabilities = _LOIHI2_ONLY

    def is_available(self) -> bool:
        return True

    def unavailable_reason(self) -> str:
        return ""

    def run(self, network, inputs, *, record_v: bool = True):
        return reference_run(network, inputs, record_v=record_v)


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(backend_module, "_REGISTRY", dict(backend_module._REGISTRY))


def test_a_third_party_backend_registers_and_replaces(clean_registry):
    toy = _Toy()
    register_backend(toy)
    assert get_backend("toy") is toy and "toy" in registered_backends()
    with pytest.raises(ConfigError, match="already registered"):
        register_backend(_Toy())
    other = _Toy()
    register_backend(other, replace=True)
    assert get_backend("toy") is other


def test_the_registry_rejects_unknown_names_and_broken_backends(clean_registry):
    with pytest.raises(ConfigError, match=r"backend must be one of .*lava.*got 'nope'"):
        get_backend("nope")
    with pytest.raises(ConfigError, match="expected a backend instance"):
        register_backend(object())
    with pytest.raises(ConfigError, match="expected a backend instance"):
        register_backend(_Toy)  # the class, not an instance
    with pytest.raises(ConfigError, match="has no export"):
        register_backend(
            _Toy(name="liar", capabilities=Capabilities(profiles=frozenset({"x"}), exports=True))
        )
    with pytest.raises(ConfigError, match="already registered"):
        register_backend(_Toy(name="lava"))
