"""Engine properties: thread-count independence, memory independent of the number of steps."""

from __future__ import annotations

import tracemalloc

import numba
import numpy as np

from neurodeploy.spikes import SpikeData
from neurodeploy.trainer.engine import Engine, RegParams
from neurodeploy.trainer.losses import LossParams
from tests.trainer.nets import random_network


def _setup(n_steps: int, seed: int = 0, recurrent: bool = True):
    rng = np.random.default_rng(seed)
    # no bias: a biased neuron fires all trial long, and the tape grows with its spikes
    net = random_network(rng, n_in=20, sizes=[30, 5], max_delay=8, recurrent=recurrent, bias=False)
    samples = [(rng.integers(0, 60, 40), rng.integers(0, 20, 40)) for _ in range(12)]
    spikes = SpikeData.from_events(samples, rng.integers(0, 5, 12), n_channels=20, n_steps=n_steps)
    eng = Engine(net, [8] * len(net.projections))
    w = [p.weights for p in net.projections]
    d = [p.delays for p in net.projections]
    return eng, w, d, spikes


def test_gradients_do_not_depend_on_the_thread_count():
    eng, w, d, spikes = _setup(80)
    lp = LossParams(readout="exp_sum_voltage")
    reg = RegParams(upper=1e-3, target=1.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = eng.run(w, d, spikes, np.arange(12), lp, dt_ms=1.0, reg=reg)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = eng.run(w, d, spikes, np.arange(12), lp, dt_ms=1.0, reg=reg)
    finally:
        numba.set_num_threads(before)
    assert one.counts[:, 20:50].sum() > 0
    for a, b in zip(one.grad_w + one.grad_d, many.grad_w + many.grad_d, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(np.abs(g).sum() > 0 for g in one.grad_d)


def test_python_side_memory_does_not_grow_with_steps():
    """Same spikes in a 100-step and a 10,000-step trial: the same arrays are allocated."""
    peaks = []
    for n_steps in (100, 10_000):
        # feed-forward: this random recurrent net would sustain its activity all trial long
        eng, w, d, spikes = _setup(n_steps, recurrent=False)
        lp = LossParams(readout="max_voltage")
        eng.run(w, d, spikes, np.arange(12), lp, dt_ms=1.0)  # compile, size the tape
        tracemalloc.start()
        eng.run(w, d, spikes, np.arange(12), lp, dt_ms=1.0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] + 50_000, peaks
