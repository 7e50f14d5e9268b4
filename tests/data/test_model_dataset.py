"""Datasets load on a model's grid: its dt, and the trial length and options it was trained with."""

import numpy as np
import pytest

from neurodeploy.data import model_dataset
from neurodeploy.errors import NetworkError
from neurodeploy.network import Network, Population, Projection


def _model(n_inputs: int) -> Network:
    return Network(
        dt_ms=0.5,
        populations=(
            Population(name="input", size=n_inputs, kind="input"),
            Population(name="out", size=3, kind="li", decay_mem=0.9, decay_syn=0.8),
        ),
        projections=(Projection(source="input", target="out", weights=np.zeros((3, n_inputs))),),
        metadata={
            "config": {
                "data": {"train": "yinyang:train", "t_max_ms": 40.0, "options": {"bias": True}}
            }
        },
    )


def test_trained_options_and_grid_are_reused_for_the_same_dataset():
    ds = model_dataset("yinyang:test", _model(5), max_samples=7)
    assert (ds.n_channels, ds.n_steps, len(ds)) == (5, 80, 7)


def test_channel_mismatch_is_one_clear_error():
    with pytest.raises(
        NetworkError,
        match=r"dataset 'yinyang:test': inputs have 5 channels but the network's input "
        r"populations \(input\) have 4 neurons",
    ):
        model_dataset("yinyang:test", _model(4))
