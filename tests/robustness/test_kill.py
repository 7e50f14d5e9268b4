"""Kill -9 during training, rerun: the run resumes and its model is bit-identical to an
uninterrupted run (learned delays and weight noise included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from neurodeploy.files import read_network

OVERRIDES = [
    "--set",
    "train.epochs=4",
    "--set",
    "train.learn_delays=true",
    "--set",
    "train.weight_noise=0.02",
]


def _train(config, out, *extra):
    script = os.path.join(os.path.dirname(sys.executable), "neurodeploy")
    return [script, "train", str(config), "--out", str(out), *OVERRIDES, *extra]


@pytest.mark.slow
def test_kill_9_then_rerun_gives_the_uninterrupted_model(inputs, tmp_path):
    full = tmp_path / "full"
    subprocess.run(_train(inputs.config, full, "--quiet"), check=True, capture_output=True)
    run = tmp_path / "killed"
    proc = subprocess.Popen(_train(inputs.config, run, "--quiet"), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run / "checkpoints" / "epoch_0002.h5").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "model.h5").exists()
    done = subprocess.run(_train(inputs.config, run), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"resuming {run} from epoch" in done.stderr
    a, b = read_network(full / "model.h5"), read_network(run / "model.h5")
    for p, q in zip(a.projections, b.projections, strict=True):
        np.testing.assert_array_equal(p.weights, q.weights)
        np.testing.assert_array_equal(p.delays, q.delays)
