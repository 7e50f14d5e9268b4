import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).parent / "fake_spinnaker2"


@pytest.fixture
def fake_spinnaker2(monkeypatch):
    """The py-spinnaker2 stand-in of tests/backends/fake_spinnaker2 on ``sys.path``."""
    monkeypatch.syspath_prepend(str(FAKE))
    monkeypatch.delenv("FAKE_SPINNAKER2_LOG", raising=False)
    monkeypatch.delenv("FAKE_SPINNAKER2_CORRUPT", raising=False)
    yield
    for name in [m for m in sys.modules if m == "spinnaker2" or m.startswith("spinnaker2.")]:
        del sys.modules[name]
