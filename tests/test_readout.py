"""Decision rules of neurodeploy.readout."""

from __future__ import annotations

import numpy as np
import pytest

from neurodeploy.errors import ConfigError
from neurodeploy.readout import READOUTS, predict
from neurodeploy.records import PopulationRecord


def _record():
    spikes = np.zeros((4, 5, 3), dtype=np.uint8)
    v = np.zeros((4, 5, 3))
    spikes[0, 2, 1] = spikes[0, 3, 0] = 1  # neuron 1 first
    spikes[1, 1, 2] = spikes[1, 1, 0] = 1  # tie at step 1 -> lowest index 0
    v[2, :, 2] = [0, 0.5, 0.2, 0.1, 0]  # silent sample: highest max voltage is neuron 2
    v[3, :, 0] = [0, 0.1, 0.1, 0.1, 0.1]  # sum 0.4, max 0.1
    v[3, :, 1] = [0, 0.3, 0, 0, 0]  # sum 0.3, max 0.3, but earliest -> largest exp-weighted? no
    v[3, :, 2] = [0, 0, 0, 0, 0.35]
    return PopulationRecord(spikes=spikes, v=v)


def test_first_spike_rule_ties_and_silence():
    pred = predict(_record(), "first_spike")
    assert pred[:3].tolist() == [1, 0, 2]


def test_voltage_rules():
    rec = _record()
    assert predict(rec, "max_voltage")[3] == 2
    assert predict(rec, "sum_voltage")[3] == 0
    w = np.exp(-np.arange(5) / 5)
    expected = int(np.argmax(np.einsum("t,tk->k", w, rec.v[3])))
    assert predict(rec, "exp_sum_voltage")[3] == expected


def test_integer_voltages_with_scale_give_the_same_decision():
    rec = _record()
    as_int = PopulationRecord(spikes=rec.spikes, v=np.rint(rec.v * 1000).astype(np.int32))
    for rule in READOUTS:
        np.testing.assert_array_equal(predict(as_int, rule, v_scale=1e-3), predict(rec, rule))


def test_unknown_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="readout must be one of"):
        predict(_record(), "mode")
