"""``neurodeploy quantize`` driven through the real entry point, on a tiny float model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurodeploy.cli import main
from neurodeploy.files import read_network, write_network
from neurodeploy.network import Network, Population, Projection
from neurodeploy.profiles import check_network


def _main(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def _float_network(max_delay: float = 5.0) -> Network:
    """input(4, the size of Yin-Yang samples) -> hidden(6, lif) -> output(3 classes, li)."""
    rng = np.random.default_rng(0)
    return Network(
        dt_ms=1.0,
        populations=(
            Population(name="input", size=4, kind="input"),
            Population(
                name="hidden", size=6, kind="lif", decay_mem=0.95, decay_syn=0.9, threshold=1.0
            ),
            Population(name="output", size=3, kind="li", decay_mem=0.95, decay_syn=0.9),
        ),
        projections=(
            Projection(
                source="input",
                target="hidden",
                weights=rng.normal(size=(6, 4)),
                delays=rng.uniform(0, max_delay, (6, 4)),
            ),
            Projection(source="hidden", target="output", weights=rng.normal(size=(3, 6))),
        ),
        readout="max_voltage",  # the report's accuracy needs the readout rule
    )


@pytest.fixture
def float_model(tmp_path):
    return write_network(_float_network(), tmp_path / "float.h5")


@pytest.mark.parametrize("target", ["loihi2", "spinnaker2"])
def test_quantize_writes_the_hardware_model_and_the_report(float_model, tmp_path, target, capsys):
    out = tmp_path / "hw" / f"{target}.h5"
    argv = ["quantize", str(float_model), "--target", target, "--out", str(out)]
    code, stdout, _ = _main([*argv, "--sensitivity-draws", "0", "--json"], capsys)
    assert code == 0
    doc = json.loads(stdout)
    report_json = out.parent / f"{target}.quantization.json"
    report_png = out.parent / f"{target}.quantization.png"
    assert doc["model"] == str(out) and doc["report"] == [str(report_json), str(report_png)]
    assert doc["target"] == target and doc["calibration_samples"] == 0
    hardware = read_network(out)
    assert hardware.profile == target and hardware.is_hardware
    check_network(hardware)
    assert [p.name for p in hardware.populations] == ["input", "hidden", "output"]
    assert [(p.source, p.target) for p in hardware.projections] == [
        ("input", "hidden"),
        ("hidden", "output"),
    ]
    weights = hardware.projections[0].weights
    assert weights.dtype.kind == "i" and weights.any()
    report = json.loads(report_json.read_text())
    assert set(report) >= {"layers", "summary"}
    assert set(report["layers"]) == {"hidden", "output"}
    assert "input->hidden" in report["layers"]["hidden"]["incoming"]
    assert report_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(f.name for f in out.parent.iterdir()) == sorted(
        [out.name, report_json.name, report_png.name]
    )
    # the human-readable form names the files and every projection
    code, stdout, _ = _main([*argv, "--sensitivity-draws", "0"], capsys)
    assert code == 0
    assert stdout.splitlines()[0] == (
        f"wrote {out} ({target}); report {report_json} and {report_png}"
    )
    assert "input->hidden" in stdout and "hidden->output" in stdout


def _one_error_line(code, stdout, err) -> str:
    assert code == 1 and stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_an_unknown_target_names_the_allowed_ones(float_model, tmp_path, capsys):
    out = tmp_path / "hw.h5"
    line = _one_error_line(
        *_main(["quantize", str(float_model), "--target", "truenorth", "--out", str(out)], capsys)
    )
    assert line == "error: target must be one of loihi2, spinnaker2, got 'truenorth'"
    assert not out.exists()


def test_out_onto_an_existing_directory_fails_cleanly(float_model, tmp_path, capsys):
    out = tmp_path / "existing"
    out.mkdir()
    line = _one_error_line(
        *_main(["quantize", str(float_model), "--target", "loihi2", "--out", str(out)], capsys)
    )
    assert "is a directory" in line and str(out) in line
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "float.h5"]


def test_a_hardware_model_is_not_quantized_again(float_model, tmp_path, capsys):
    hw = tmp_path / "hw.h5"
    code, _, _ = _main(
        [
            "quantize",
            str(float_model),
            "--target",
            "spinnaker2",
            "--out",
            str(hw),
            "--sensitivity-draws",
            "0",
        ],
        capsys,
    )
    assert code == 0
    line = _one_error_line(
        *_main(["quantize", str(hw), "--target", "loihi2", "--out", str(tmp_path / "x.h5")], capsys)
    )
    assert line == "error: quantize expects a float model, got a spinnaker2 hardware model"


def test_delays_beyond_the_target_fail_unless_clamped(tmp_path, capsys):
    model = write_network(_float_network(max_delay=20.0), tmp_path / "long.h5")
    out = tmp_path / "hw.h5"
    argv = ["quantize", str(model), "--target", "spinnaker2", "--out", str(out)]
    line = _one_error_line(*_main([*argv, "--sensitivity-draws", "0"], capsys))
    assert "delays exceed the spinnaker2 limit of 7 steps" in line and "--on-overflow clamp" in line
    assert not out.exists()
    line = _one_error_line(*_main([*argv, "--on-overflow", "wrap"], capsys))
    assert line == "error: on_overflow must be one of error, clamp, got 'wrap'"
    code, stdout, _ = _main(
        [*argv, "--on-overflow", "clamp", "--sensitivity-draws", "0", "--json"], capsys
    )
    assert code == 0
    doc = json.loads(stdout)
    assert doc["delays_clamped"] > 0
    hardware = read_network(out)
    assert hardware.projections[0].delays.max() == 7


def test_a_missing_model_file_is_one_error_line(tmp_path, capsys):
    missing = tmp_path / "missing.h5"
    line = _one_error_line(
        *_main(
            ["quantize", str(missing), "--target", "loihi2", "--out", str(tmp_path / "o.h5")],
            capsys,
        )
    )
    assert str(missing) in line


def test_calibration_on_a_few_dataset_samples_reports_accuracy(float_model, tmp_path, capsys):
    out = tmp_path / "hw.h5"
    code, stdout, _ = _main(
        [
            *("quantize", str(float_model), "--target", "loihi2", "--out", str(out)),
            *("--calibration", "yinyang:validation", "--calibration-samples", "16"),
            *("--sensitivity-draws", "2", "--json"),
        ],
        capsys,
    )
    assert code == 0, stdout
    doc = json.loads(stdout)
    assert doc["calibration_samples"] == 16
    assert 0.0 <= doc["float_accuracy"] <= 1.0 and 0.0 <= doc["emulated_accuracy"] <= 1.0
    assert doc["float_noise"]["draws"] == 2 and 0 <= doc["prediction_flips"] <= 16
    assert read_network(out).metadata["quantization"]["calibration_samples"] == 16
    report = json.loads((tmp_path / "hw.quantization.json").read_text())
    assert "spikes_per_sample" in report["layers"]["hidden"]
