"""The main job keeps working end to end: a one-epoch run of examples/demo.py."""

import importlib.util
import json
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


@pytest.mark.lava
def test_demo_pipeline_writes_a_complete_summary(tmp_path):
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    out = tmp_path / "demo"
    code = demo.main(
        ["--out", str(out), "--epochs", "1", "--finetune-epochs", "1", "--lava-samples", "4"]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert code == 0 and summary["lava_bit_exact"] is True
    for key in (
        "float_accuracy",
        "loihi2_emulator_accuracy",
        "lava_accuracy",
        "spinnaker2_emulator_accuracy",
    ):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["float_accuracy"] > 0.5  # one epoch already learns most of Yin-Yang
    for name in (
        "loihi2.h5",
        "spinnaker2.h5",
        "loihi2.quantization.png",
        "spinnaker2.quantization.png",
        "raster.png",
    ):
        assert (out / name).is_file(), name
    assert (out / "export" / "spinnaker2" / "run_on_spinnaker2.py").is_file()
    assert (out / "export" / "loihi2" / "manifest.json").is_file()
