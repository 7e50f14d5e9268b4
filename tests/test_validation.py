"""One validation style: every problem reported at once, one line each with its path; one checker
per fact (input channels, profile names), one error type per kind."""

import h5py
import numpy as np
import pytest

from neurodeploy.data import load_dataset, model_dataset
from neurodeploy.emulator import run
from neurodeploy.errors import ConfigError, ModelFileError, NetworkError
from neurodeploy.files import read_network, write_network
from neurodeploy.profiles import get_profile
from neurodeploy.spikes import SpikeData
from neurodeploy.targets import get_target
from neurodeploy.targets.loihi2.emulator import run_loihi2
from neurodeploy.trainer.config import load_config
from neurodeploy.validation import Problems, require_profile
from tests.conftest import loihi2_network

UNKNOWN_PROFILE = "profile must be one of loihi2, spinnaker2, got 'truenorth'"


def _spikes(n_channels: int) -> SpikeData:
    return SpikeData.from_events(
        [(np.array([0, 1]), np.array([0, 1]))], np.array([0]), n_channels=n_channels, n_steps=4
    )


def test_problems_collects_lines_and_raises_them_together():
    problems = Problems()
    assert not problems and len(problems) == 0
    problems.raise_if_any(ConfigError)  # nothing found: no error
    problems.add("model.hidden", "must be >= 1")
    problems.extend(["a must be b", None, "c must be d"], path="x")
    problems.add("", "no path")
    assert problems and len(problems) == 4
    assert problems.lines() == [
        "model.hidden: must be >= 1",
        "x: a must be b",
        "x: c must be d",
        "no path",
    ]
    with pytest.raises(NetworkError) as err:
        problems.raise_if_any(NetworkError, "file.h5")
    assert str(err.value).splitlines() == [f"file.h5: {line}" for line in problems]


def test_a_config_with_three_bad_fields_reports_three_lines(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[model]\nhidden = [0]\n[train]\nlr = "fast"\nepochs = 0\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).splitlines() == [
        f"{path}: train.lr: must be a number, got 'fast'",
        f"{path}: model.hidden: must be a non-empty list of sizes >= 1, got [0]",
        f"{path}: train.epochs: must be >= 1, got 0",
    ]


def test_config_reports_unknown_names_and_finetune_fields_once(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[trian]\n[model]\nhiden = 1\noutput = 5\n[finetune]\nepochs = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, ['loss.readout="first_spike"', "train.epochs=0"])
    lines = [line.removeprefix(f"{path}: ") for line in str(err.value).splitlines()]
    assert [line.split(":")[0] for line in lines] == [
        "trian",
        "model.hiden",
        "model.output",
        "train.epochs",
        "finetune.epochs",
    ]  # model.output has a wrong type: the readout/output consistency check is not made on it


def test_a_dataset_spec_with_two_bad_options_reports_both():
    with pytest.raises(ConfigError) as err:
        load_dataset("yinyang:train", dt_ms=1.0, t_early_ms=-1.0, bias=1)
    assert str(err.value).splitlines() == [
        "yinyang:train: t_early_ms must be a finite number >= 0, got -1.0",
        "yinyang:train: bias must be true or false, got 1",
    ]


def test_load_dataset_reports_unknown_options_and_bad_common_values_together():
    with pytest.raises(ConfigError) as err:
        load_dataset("digits:train", dt_ms=0.0, seed=-1, bias=True)
    assert str(err.value).splitlines() == [
        "dataset 'digits:train': unknown option(s) bias; allowed: t_early_ms, t_late_ms",
        "dt_ms must be a finite number > 0, got 0.0",
        "dataset 'digits:train': seed must be an integer >= 0, got -1",
    ]


def test_channel_check_is_one_message_on_every_path(float_network, hw_network):
    # float_network has 5 input neurons, hw_network 3; both get 2-channel samples.
    def message(network) -> str:
        n = sum(p.size for p in network.inputs)
        return (
            f"inputs have 2 channels but the network's input populations (input) have {n} neurons"
        )

    with pytest.raises(NetworkError) as err:
        run(float_network, _spikes(2))  # the canonical float simulation
    assert str(err.value) == message(float_network)
    with pytest.raises(NetworkError) as err:
        run(hw_network, _spikes(2))  # the Loihi 2 emulator
    assert str(err.value) == message(hw_network)
    with pytest.raises(NetworkError) as err:
        model_dataset("seqdetect:test", float_network, max_samples=2)  # 2 channels
    assert str(err.value) == f"dataset 'seqdetect:test': {message(float_network)}"


def test_an_unknown_profile_is_one_config_error_everywhere(tmp_path, hw_network):
    for lookup in (get_target, get_profile):
        with pytest.raises(ConfigError) as err:
            lookup("truenorth")
        assert str(err.value) == UNKNOWN_PROFILE
    with pytest.raises(ConfigError) as err:
        run(loihi2_network(profile="truenorth"), _spikes(3))
    assert str(err.value) == UNKNOWN_PROFILE
    path = write_network(hw_network, tmp_path / "m.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["profile"] = "truenorth"
    with pytest.raises(ModelFileError) as err:
        read_network(path)
    assert str(err.value) == f"{path}: {UNKNOWN_PROFILE}"


def test_a_model_of_another_profile_is_a_config_error(float_network, hw_network):
    with pytest.raises(ConfigError, match="the Loihi 2 emulator runs loihi2 hardware models, this"):
        run_loihi2(float_network, _spikes(5))
    with pytest.raises(ConfigError) as err:
        require_profile(hw_network, "spinnaker2", "the SpiNNaker2 emulator")
    assert str(err.value) == (
        "the SpiNNaker2 emulator runs spinnaker2 hardware models, this is a loihi2 hardware model"
    )
    require_profile(hw_network, "loihi2", "the Loihi 2 emulator")  # the right one passes
