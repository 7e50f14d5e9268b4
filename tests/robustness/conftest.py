"""Shared inputs of the robustness suite: a small trained run, a Loihi 2 hardware model, an
SHD-layout file and a config, made once per session (read-only: each test mutates copies)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from neurodeploy.files import write_network
from tests.conftest import loihi2_network
from tests.data.shd_files import write_shd

CONFIG = """\
[data]
train = "yinyang:train"
test = "yinyang:test"
dt_ms = 1.0
options = { size = 64 }

[model]
hidden = [8]
input_init = [2.5, 1.5]
max_delay_steps = 2
delay_init_steps = [0.0, 2.0]

[train]
epochs = 2
batch_size = 16
lr = 0.005
"""


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> SimpleNamespace:
    from neurodeploy.trainer.config import load_config
    from neurodeploy.trainer.loop import train

    root = tmp_path_factory.mktemp("robustness")
    config = root / "small.toml"
    config.write_text(CONFIG)
    run = root / "run"
    train(load_config(config), run, progress=False)
    hw = write_network(loihi2_network(), root / "hw.h5")
    rng = np.random.default_rng(0)
    times = [np.sort(rng.uniform(0, 0.02, 6)) for _ in range(12)]
    units = [rng.integers(0, 4, 6) for _ in range(12)]
    shd = write_shd(root / "shd.h5", times, units, np.arange(12) % 3, channels=4)
    return SimpleNamespace(
        root=root,
        config=config,
        run=run,
        model=run / "model.h5",
        checkpoint=run / "checkpoints" / "epoch_0002.h5",
        hw=hw,
        shd=shd,
    )


@pytest.fixture
def work(tmp_path) -> Path:
    """An empty directory whose content each test compares before and after a command."""
    d = tmp_path / "work"
    d.mkdir()
    return d
