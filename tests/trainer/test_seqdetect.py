"""A recurrent network learns sequence detection by learning its delays (from all-zero delays)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurodeploy.trainer.config import load_config
from neurodeploy.trainer.loop import train

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "seqdetect.toml"


def _run(tmp_path, name, *overrides):
    cfg = load_config(CONFIG, list(overrides))
    return dict(train(cfg, tmp_path / name, progress=False).metadata["metrics"])


def test_small_seqdetect_learns_with_delays_only(tmp_path):
    small = (
        "data.options={n_channels = 4, onset_max_ms = 5.0, n_samples = 128}",
        "train.epochs=30",
    )
    with_delays = _run(tmp_path, "d", *small)
    without = _run(tmp_path, "n", *small, "train.learn_delays=false")
    assert with_delays["test_accuracy"] >= 0.95
    assert without["test_accuracy"] <= with_delays["test_accuracy"] - 0.2


@pytest.mark.slow
def test_seqdetect_shipped_config_reaches_100_percent_with_delay_learning(tmp_path):
    with_delays = _run(tmp_path, "d")
    without = _run(tmp_path, "n", "train.learn_delays=false")
    assert with_delays["test_accuracy"] == 1.0
    assert without["test_accuracy"] <= 0.8
