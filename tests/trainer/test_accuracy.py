"""The shipped configs: valid, and their accuracy (slow: minutes each; `pytest -m slow`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.loop import train

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_yinyang_config_reaches_97_5_percent(tmp_path):
    net = train(load_config(EXAMPLES / "yinyang.toml"), tmp_path / "yy", progress=False)
    assert net.metadata["metrics"]["test_accuracy"] >= 0.975


@pytest.mark.slow
def test_digits_config_learns(tmp_path):
    net = train(load_config(EXAMPLES / "digits.toml"), tmp_path / "digits", progress=False)
    assert net.metadata["metrics"]["test_accuracy"] >= 0.9


@pytest.mark.parametrize("name", ["yinyang", "seqdetect", "digits", "shd", "spoken_digits"])
def test_example_configs_are_valid(name):
    cfg = load_config(EXAMPLES / f"{name}.toml")
    assert cfg.train.epochs >= 1
