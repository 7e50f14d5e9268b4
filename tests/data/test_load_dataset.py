"""The entry point: spec parsing, common options, the n_steps helper."""

import json

import pytest

from neurodeploy.data import Dataset, load_dataset, n_steps_for
from neurodeploy.errors import ConfigError


@pytest.mark.parametrize(
    "t_max_ms, dt_ms, n_steps",
    [
        (30.0, 1.0, 30),
        (30.0, 0.1, 300),
        (1.1, 0.1, 11),
        (0.3, 0.1, 3),
        (1.05, 0.1, 11),
        (0.5, 1.0, 1),
        (25.0, 0.01, 2500),
        (1400.0, 1.0, 1400),
        (10.2, 1.0, 11),
    ],
)
def test_n_steps_rounds_up_but_not_on_float_noise(t_max_ms, dt_ms, n_steps):
    assert n_steps_for(t_max_ms, dt_ms) == n_steps


@pytest.mark.parametrize(
    "spec, kwargs, pattern",
    [
        (
            "mnist:train",
            {},
            r"dataset spec 'mnist:train': unknown dataset 'mnist'; expected one of yinyang",
        ),
        ("yinyang", {}, r"dataset spec must be one of yinyang:train\|validation\|test, shd:PATH"),
        ("shd:", {}, r"dataset spec 'shd:': missing split or path"),
        ("digits:valid", {}, r"digits:valid: split must be one of train, test, got 'valid'"),
        (
            "seqdetect:train",
            dict(bias=True),
            r"dataset 'seqdetect:train': unknown option\(s\) bias; allowed: n_samples, n_channels",
        ),
        ("yinyang:train", dict(dt_ms=0.0), r"dt_ms must be a finite number > 0, got 0.0"),
        (
            "yinyang:train",
            dict(dt_ms=1e-6, t_max_ms=1e4),
            r"gives 10000000000 steps; at most 2147483647",
        ),
        ("yinyang:train", dict(dt_ms=float("nan")), r"dt_ms must be a finite number > 0, got nan"),
        (
            "yinyang:train",
            dict(dt_ms=1.0, t_max_ms=-5.0),
            r"t_max_ms must be a finite number > 0, got -5.0",
        ),
        (
            "yinyang:train",
            dict(dt_ms=1.0, seed=1.5),
            r"dataset 'yinyang:train': seed must be an integer >= 0, got 1.5",
        ),
    ],
)
def test_bad_specs_and_options_fail_with_one_line(spec, kwargs, pattern):
    kwargs.setdefault("dt_ms", 1.0)
    with pytest.raises(ConfigError, match=pattern) as err:
        load_dataset(spec, **kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("spec", ["yinyang:validation", "seqdetect:test", "digits:test"])
def test_every_dataset_is_valid_spike_data_with_serialisable_info(spec):
    ds = load_dataset(spec, dt_ms=0.5)
    assert isinstance(ds, Dataset) and ds.name == spec and ds.dt_ms == 0.5
    assert not ds.spikes.problems()
    assert ds.spikes.labels.min() >= 0 and ds.spikes.labels.max() < ds.n_classes
    assert sum(ds.info["class_counts"]) == len(ds)
    assert ds.info["t_max_ms"] == ds.n_steps * 0.5
    json.dumps(ds.info)
