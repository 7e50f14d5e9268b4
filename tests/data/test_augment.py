"""Spike-data augmentation: what each transform does to a known sample, seeding, cost."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neurodeploy.data.augment import Augmenter, AugmentParams, augment_sample
from neurodeploy.spikes import SpikeData

N_CH, N_ST = 20, 100
# A known sample: spikes on a diagonal, steps 10..29 at channels 0..19.
STEPS = np.arange(10, 30)
UNITS = np.arange(20)


def _run(params: AugmentParams, seed: int = 0, partner=None):
    rng = np.random.default_rng(seed)
    return augment_sample(STEPS, UNITS, params, rng, n_channels=N_CH, n_steps=N_ST, partner=partner)


def test_all_off_returns_the_sample_unchanged():
    s, u = _run(AugmentParams())
    np.testing.assert_array_equal(s, STEPS)
    np.testing.assert_array_equal(u, UNITS)
    assert s.dtype == np.int32 and u.dtype == np.int32
    assert not AugmentParams().enabled


def test_channel_shift_moves_every_spike_by_one_amount_and_drops_what_leaves_the_edge():
    shifts = set()
    for seed in range(40):
        s, u = _run(AugmentParams(channel_shift=3), seed)
        # recover the shift from the steps kept: step t belonged to channel t - 10
        delta = u.astype(int) - (s.astype(int) - 10)
        assert len(set(delta)) <= 1
        d = int(delta[0])
        shifts.add(d)
        assert abs(d) <= 3
        # spikes shifted below 0 or beyond 19 are dropped, the rest kept
        assert len(s) == N_CH - abs(d)
        assert u.min() >= 0 and u.max() < N_CH
    assert shifts == {-3, -2, -1, 0, 1, 2, 3}


def test_time_shift_moves_every_spike_by_one_amount():
    seen = set()
    for seed in range(30):
        s, u = _run(AugmentParams(time_shift=5), seed)
        np.testing.assert_array_equal(u, UNITS)
        d = set((s - STEPS).tolist())
        assert len(d) == 1 and abs(next(iter(d))) <= 5
        seen |= d
    assert len(seen) > 5


def test_time_shift_drops_spikes_pushed_out_of_the_trial():
    rng = np.random.default_rng(0)
    s, _ = augment_sample(
        np.array([0, 1, 98, 99]),
        np.array([0, 1, 2, 3]),
        AugmentParams(time_shift=50),
        rng,
        n_channels=N_CH,
        n_steps=N_ST,
    )
    assert len(s) == 2 and s.min() >= 0 and s.max() < N_ST


def test_time_stretch_scales_steps_about_the_onset():
    for seed in range(10):
        s, u = _run(AugmentParams(time_stretch=0.2), seed)
        np.testing.assert_array_equal(u, UNITS)
        f = s[-1] / STEPS[-1]
        assert 0.8 - 0.05 <= f <= 1.2 + 0.05
        # every step is the rounded product with one factor
        assert np.abs(s - STEPS * f).max() <= 1.0


def test_jitter_moves_spikes_independently_with_the_given_spread():
    steps = np.full(2000, 50)
    units = np.arange(2000) % N_CH
    rng = np.random.default_rng(1)
    # one channel per spike so that no two merge
    s, _u = augment_sample(
        steps, np.arange(2000), AugmentParams(jitter=3.0), rng, n_channels=2000, n_steps=N_ST
    )
    assert len(s) == 2000
    assert abs(s.mean() - 50) < 0.3
    assert 2.6 < s.std() < 3.4
    del units


def test_delete_removes_the_given_fraction():
    steps = np.repeat(np.arange(100), 20)
    units = np.tile(np.arange(20), 100)
    s, _ = augment_sample(
        steps,
        units,
        AugmentParams(delete=0.3),
        np.random.default_rng(2),
        n_channels=20,
        n_steps=100,
    )
    assert abs(len(s) / 2000 - 0.7) < 0.04


def test_blend_keeps_about_half_of_each_sample_after_aligning_their_centres():
    partner = (np.arange(50, 70), np.arange(20))  # same diagonal 40 steps later
    n_same = n_kept = 0
    for seed in range(20):
        s, u = _run(AugmentParams(blend=1.0), seed, partner=partner)
        # both moved onto the common mean step 39.5 (+-0.5): the union stays on one diagonal
        assert set((s.astype(int) - u.astype(int)).tolist()) <= {29, 30}
        n_kept += len(s)
        n_same += 1
    assert 12 < n_kept / n_same < 28  # about 10 of 20 from each, merged where they coincide


def test_blend_probability_zero_or_no_partner_changes_nothing():
    s, _ = _run(AugmentParams(blend=0.0), partner=(np.arange(50, 70), np.arange(20)))
    np.testing.assert_array_equal(s, STEPS)
    s, _u = _run(AugmentParams(blend=1.0), partner=None)
    np.testing.assert_array_equal(s, STEPS)


def _dataset(n=12, n_classes=3, seed=0) -> SpikeData:
    rng = np.random.default_rng(seed)
    samples = [(rng.integers(0, N_ST, 80), rng.integers(0, N_CH, 80)) for _ in range(n)]
    return SpikeData.from_events(samples, np.arange(n) % n_classes, n_channels=N_CH, n_steps=N_ST)


ALL = AugmentParams(
    channel_shift=2, time_shift=5, time_stretch=0.1, blend=0.5, delete=0.1, jitter=1.0
)


def test_batches_depend_on_seed_epoch_and_sample_not_on_the_batch():
    data = _dataset()
    a = Augmenter(ALL, data)
    whole = a.batch(np.arange(12), seed=3, epoch=2)
    part = a.batch(np.array([7, 2]), seed=3, epoch=2)
    for row, i in enumerate([7, 2]):
        np.testing.assert_array_equal(part.sample(row)[0], whole.sample(i)[0])
        np.testing.assert_array_equal(part.sample(row)[1], whole.sample(i)[1])
    np.testing.assert_array_equal(part.labels, data.labels[[7, 2]])
    assert part.problems() == []
    other_epoch = a.batch(np.arange(12), seed=3, epoch=3)
    other_seed = a.batch(np.arange(12), seed=4, epoch=2)
    assert not np.array_equal(whole.steps, other_epoch.steps)
    assert not np.array_equal(whole.steps, other_seed.steps)
    again = Augmenter(ALL, data).batch(np.arange(12), seed=3, epoch=2)
    np.testing.assert_array_equal(again.steps, whole.steps)
    np.testing.assert_array_equal(again.units, whole.units)


def test_blend_partners_share_the_class():
    data = _dataset()
    a = Augmenter(AugmentParams(blend=1.0), data)

    def moved(x, y, to_s, to_u):
        ds, du = round(float(to_s - x.mean())), round(float(to_u - y.mean()))
        return {(int(t) + ds, int(c) + du) for t, c in zip(x, y, strict=True)}

    for i in range(12):
        s, u = a.sample(i, seed=0, epoch=1)
        got = set(zip(s.tolist(), u.tolist(), strict=True))
        own_s, own_u = data.sample(i)
        explained = []
        for j in range(12):
            if j == i:
                continue
            ps, pu = data.sample(j)
            ms, mu = 0.5 * (own_s.mean() + ps.mean()), 0.5 * (own_u.mean() + pu.mean())
            union = moved(own_s, own_u, ms, mu) | moved(ps, pu, ms, mu)
            if got <= union:
                explained.append(j)
        # the blend is explained by a partner of the same class (about half of each sample)
        assert any(data.labels[j] == data.labels[i] for j in explained)
        assert 0.3 * len(own_s) < len(got) < 1.7 * len(own_s)


@pytest.mark.parametrize("n_events", [2000])
def test_cost_is_small_next_to_a_training_step(n_events, capsys):
    """Augmenting a batch of 16 samples of ``n_events`` spikes (the spoken digits hold about 2300
    per sample) takes milliseconds; a training step of the spoken-digit model takes about half a
    second on this machine. The measured time is printed, not asserted tightly."""
    rng = np.random.default_rng(0)
    samples = [(rng.integers(0, 1000, n_events), rng.integers(0, 70, n_events)) for _ in range(64)]
    data = SpikeData.from_events(samples, np.arange(64) % 20, n_channels=70, n_steps=1000)
    a = Augmenter(ALL, data)
    a.batch(np.arange(16), seed=0, epoch=1)
    t0 = time.perf_counter()
    for epoch in range(1, 11):
        a.batch(np.arange(16), seed=0, epoch=epoch)
    per_batch = (time.perf_counter() - t0) / 10
    with capsys.disabled():
        print(f"\naugment (all six on), 16 samples x {n_events} spikes: {1e3 * per_batch:.2f} ms")
    assert per_batch < 0.25
