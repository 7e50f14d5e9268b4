"""The backend registry (neurodeploy.backends)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import neurodeploy.backends as backends
from neurodeploy.backends import (
    Backend,
    available_backends,
    get_backend,
    register_backend,
    registered_backends,
)
from neurodeploy.backends.lava import LavaBackend
from neurodeploy.errors import ConfigError


@dataclass
class _Toy:
    name: str = "toy"
    profile: str = "loihi2"

    def is_available(self) -> bool:
        return True

    def export(self, network, out_dir: Path) -> list[Path]:
        return []

    def run(self, network, inputs, *, record_v: bool = True):
        return {}


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(backends, "_REGISTRY", dict(backends._REGISTRY))
    monkeypatch.setattr(backends, "_BUILTINS", dict(backends._BUILTINS))


def test_builtin_lava_backends_are_registered_lazily():
    assert {"lava", "lava-loihi2"} <= set(registered_backends())
    lava = get_backend("lava")
    assert isinstance(lava, LavaBackend) and isinstance(lava, Backend)
    assert (lava.name, lava.profile, lava.on_chip) == ("lava", "loihi2", False)
    assert get_backend("lava") is lava
    assert get_backend("lava-loihi2").on_chip


@pytest.mark.lava
def test_only_the_simulator_is_available_here():
    names = available_backends()
    assert "lava" in names
    assert "lava-loihi2" not in names


def test_register_and_replace_a_third_party_backend(clean_registry):
    toy = _Toy()
    register_backend(toy)
    assert get_backend("toy") is toy
    assert "toy" in registered_backends()
    with pytest.raises(ConfigError, match="already registered"):
        register_backend(_Toy())
    other = _Toy()
    register_backend(other, replace=True)
    assert get_backend("toy") is other


def test_registry_rejects_unknown_names_and_non_backends(clean_registry):
    with pytest.raises(ConfigError, match=r"backend must be one of .*lava.*got 'nope'"):
        get_backend("nope")
    with pytest.raises(ConfigError, match="expected a backend instance"):
        register_backend(object())
    with pytest.raises(ConfigError, match="expected a backend instance"):
        register_backend(_Toy)  # the class, not an instance
    with pytest.raises(ConfigError, match="already registered"):
        register_backend(_Toy(name="lava"))
