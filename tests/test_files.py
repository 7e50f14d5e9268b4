"""Model files: round trips are identical; every kind of bad input gives one clear line."""

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurodeploy.cli import main
from neurodeploy.errors import ModelFileError, NetworkError
from neurodeploy.files import read_network, write_network
from neurodeploy.network import Network, Population, Projection
from tests.conftest import loihi2_network


def _assert_same(a: Network, b: Network) -> None:
    assert a.dt_ms == b.dt_ms and a.profile == b.profile
    assert dict(a.metadata) == dict(b.metadata)
    assert [p.name for p in a.populations] == [p.name for p in b.populations]
    for pa, pb in zip(a.populations, b.populations, strict=True):
        assert (pa.size, pa.kind, pa.decay_mem, pa.decay_syn, pa.threshold, pa.v_scale) == (
            pb.size,
            pb.kind,
            pb.decay_mem,
            pb.decay_syn,
            pb.threshold,
            pb.v_scale,
        )
        np.testing.assert_array_equal(pa.bias, pb.bias)
        assert pa.hw_params.keys() == pb.hw_params.keys()
        for k in pa.hw_params:
            np.testing.assert_array_equal(pa.hw_params[k], pb.hw_params[k])
    for qa, qb in zip(a.projections, b.projections, strict=True):
        assert (qa.source, qa.target, qa.weight_scale, dict(qa.hw_params)) == (
            qb.source,
            qb.target,
            qb.weight_scale,
            dict(qb.hw_params),
        )
        np.testing.assert_array_equal(qa.weights, qb.weights)
        np.testing.assert_array_equal(qa.delays, qb.delays)


def test_float_and_hardware_models_round_trip(tmp_path, float_network, hw_network):
    for net in (float_network, hw_network):
        path = write_network(net, tmp_path / "m.h5")
        _assert_same(net, read_network(path))


@settings(max_examples=40, deadline=None)
@given(
    weights=hnp.arrays(
        np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-1e6, 1e6)
    ),
    decay=st.floats(0, 1),
    dt=st.floats(1e-3, 10),
)
def test_any_float_network_round_trips_exactly(tmp_path_factory, weights, decay, dt):
    n_post, n_pre = weights.shape
    net = Network(
        dt_ms=dt,
        populations=(
            Population(name="a", size=n_pre, kind="input"),
            Population(name="b", size=n_post, kind="lif", decay_mem=decay, decay_syn=decay),
        ),
        projections=(
            Projection(source="a", target="b", weights=weights, delays=np.abs(weights) % 7),
        ),
    )
    path = tmp_path_factory.mktemp("rt") / "m.h5"
    _assert_same(net, read_network(write_network(net, path)))


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path, float_network):
    path = tmp_path / "m.h5"
    write_network(float_network, path)
    before = path.read_bytes()
    bad = float_network.with_metadata(obj=object())  # not JSON-serialisable: write fails midway
    with pytest.raises(TypeError):
        write_network(bad, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]


def _mutate(tmp_path, network, fn):
    path = write_network(network, tmp_path / "m.h5")
    with h5py.File(path, "r+") as f:
        fn(f)
    return path


def _error(path) -> str:
    with pytest.raises(ModelFileError) as info:
        read_network(path)
    return str(info.value)


def test_not_hdf5(tmp_path):
    path = tmp_path / "m.h5"
    path.write_text("hello")
    assert "not a readable HDF5 file" in _error(path)


def test_truncated_file(tmp_path, hw_network):
    path = write_network(hw_network, tmp_path / "m.h5")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    msg = _error(path)
    assert msg.startswith(str(path)) and ("truncated" in msg or "not a readable" in msg)


def test_unknown_format_version(tmp_path, hw_network):
    path = _mutate(tmp_path, hw_network, lambda f: f.attrs.__setitem__("format_version", 99))
    assert "format_version 99 is not supported" in _error(path)


def test_missing_field(tmp_path, hw_network):
    path = _mutate(tmp_path, hw_network, lambda f: f["projections/0"].__delitem__("weights"))
    assert "projections/0/weights: field is missing" in _error(path)


def test_wrong_shape(tmp_path, hw_network):
    def fn(f):
        del f["projections/0/delays"]
        f["projections/0"].create_dataset("delays", data=np.zeros((2, 2), np.int64))

    assert "delays must have shape (4, 3), got (2, 2)" in _error(_mutate(tmp_path, hw_network, fn))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_values(tmp_path, float_network, value):
    def fn(f):
        f["projections/1/weights"][0, 0] = value

    msg = _error(_mutate(tmp_path, float_network, fn))
    assert "weights must be finite" in msg and "(0, 0)" in msg


def test_negative_delay_in_hardware_model(tmp_path, hw_network):
    def fn(f):
        f["projections/0/delays"][1, 1] = -2

    assert "delays must be >= 0 steps, got min -2" in _error(_mutate(tmp_path, hw_network, fn))


def test_non_integer_delay_in_hardware_model(tmp_path, hw_network):
    def fn(f):
        del f["projections/0/delays"]
        f["projections/0"].create_dataset("delays", data=np.full((4, 3), 1.5))

    assert "delays must be integers in a hardware model" in _error(
        _mutate(tmp_path, hw_network, fn)
    )


def test_projection_naming_unknown_population(tmp_path, hw_network):
    path = _mutate(
        tmp_path, hw_network, lambda f: f["projections/1"].attrs.__setitem__("source", "ghost")
    )
    assert "unknown population 'ghost'" in _error(path)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "populations/hidden/hw_params/vth",
            [131072],
            "hw_params/vth must be in [0, 131071], got 131072",
        ),
        ("populations/hidden/hw_params/dv", [-1], "hw_params/dv must be in [0, 4096], got -1"),
        ("projections/0/delays", None, "delays must be in [0, 62], got 63"),
    ],
)
def test_values_outside_profile_ranges(tmp_path, hw_network, field, value, expected):
    def fn(f):
        if value is None:
            f[field][0, 0] = 63
        else:
            f[field][...] = value

    msg = _error(_mutate(tmp_path, hw_network, fn))
    assert expected in msg and msg.startswith(str(tmp_path / "m.h5"))


def test_writing_an_invalid_network_fails_before_touching_disk(tmp_path):
    net = loihi2_network(populations=loihi2_network().populations[:2])  # "out" population missing
    with pytest.raises(NetworkError, match="unknown population 'out'"):
        write_network(net, tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()


def test_cli_inspect_reports_bad_file_in_one_line_and_exit_code_1(tmp_path, capsys):
    path = tmp_path / "m.h5"
    path.write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["inspect", str(path)])
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and str(path) in err[0]


def test_cli_inspect_json_summarises_the_model(tmp_path, capsys, hw_network):
    import json

    path = write_network(hw_network, tmp_path / "m.h5")
    with pytest.raises(SystemExit) as info:
        main(["inspect", str(path), "--json"])
    assert info.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["profile"] == "loihi2" and doc["neurons"] == 6 and doc["inputs"] == 3
    assert doc["projections"][0]["delay_histogram"] == {"0": 3, "1": 3, "2": 2, "3": 2, "4": 2}
    assert doc["projections"][1]["recurrent"] is True


def test_readout_output_and_profile_options_round_trip(tmp_path, hw_network):
    from dataclasses import replace

    from neurodeploy.targets.spinnaker2.random_networks import random_spinnaker2_network

    loihi = replace(hw_network, readout="max_voltage", output="hidden")
    back = read_network(write_network(loihi, tmp_path / "l.h5"))
    assert (back.readout, back.output, back.output_population) == (
        "max_voltage",
        "hidden",
        "hidden",
    )
    assert back == loihi
    spinnaker = random_spinnaker2_network(
        np.random.default_rng(0), regime="typical", options={"threshold_op": ">="}
    )
    back = read_network(write_network(spinnaker, tmp_path / "s.h5"))
    assert dict(back.profile_options) == {"threshold_op": ">="} and back == spinnaker


def test_version_1_files_keep_readout_output_and_options_in_the_metadata(tmp_path, hw_network):
    """A file written before these were fields (format_version 1) reads into the fields."""
    import json
    from dataclasses import replace

    net = replace(hw_network, readout="sum_voltage", output="out")
    path = write_network(net, tmp_path / "v1.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 1
        metadata = json.loads(f.attrs["metadata"])
        f.attrs["metadata"] = json.dumps({**metadata, "readout": "sum_voltage", "output": "out"})
        for key in ("readout", "output", "profile_options", "digest"):
            del f.attrs[key]
    back = read_network(path)
    assert (back.readout, back.output) == ("sum_voltage", "out")
    assert dict(back.metadata) == dict(net.metadata)


@pytest.mark.parametrize(
    ("attr", "value", "expected"),
    [
        ("readout", "loudest", "readout must be one of first_spike"),
        ("output", "input", "output must name a non-input population"),
        ("profile_options", "[1]", "profile_options: must be a JSON object"),
        ("profile_options", '{"fma": true}', "profile_options/fma is not an option"),
    ],
)
def test_bad_typed_fields_are_one_line_each(tmp_path, hw_network, attr, value, expected):
    path = _mutate(tmp_path, hw_network, lambda f: f.attrs.__setitem__(attr, value))
    assert expected in _error(path)
