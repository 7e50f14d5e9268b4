"""``neurodeploy sweep`` through the real entry point, on a local Ray started once for the module:
2 seeds x 2 settings of a tiny digits run, resume after an interrupted trial, a failing trial."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from neurodeploy.cli import main
from neurodeploy.cli.sweep_plan import (
    TrialSpec,
    combine,
    grid_settings,
    parse_seeds,
    sample_settings,
    setting_name,
    split_values,
)
from neurodeploy.cli.sweep_trial import finished_row, run_trial, spec_key
from neurodeploy.errors import ConfigError

ray = pytest.importorskip("ray", reason="the [sweep] extra (make test installs it)")

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "digits.toml"
#: A few seconds per trial: 64 training samples, a small hidden layer, 2 epochs.
TINY = [
    "--set",
    "data.max_train_samples=64",
    "--set",
    "train.epochs=2",
    "--set",
    "finetune.epochs=1",
]


@pytest.fixture(scope="module", autouse=True)
def local_ray(tmp_path_factory):
    """One local Ray for the module (starting one costs seconds); the sweep joins it.

    One trial runs here first, without Ray: it checks the trial alone and compiles the Numba
    kernels once into their cache, which the Ray workers then load instead of each compiling
    them (minutes on a fresh clone of a busy machine)."""
    spec = TrialSpec(
        config=str(CONFIG),
        overrides=("data.max_train_samples=16", "train.epochs=1", "model.hidden=[4]"),
        setting={},
        seed=0,
        run_dir=str(tmp_path_factory.mktemp("warm") / "seed0"),
        targets=("loihi2", "spinnaker2"),
        finetune=("spinnaker2",),
    )
    row = run_trial(spec)
    assert row["status"] == "ok", row.get("traceback")
    assert json.loads(spec.row_path.read_text())["float_test"] == row["float_test"]
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_sweep_rows_then_rerun_resumes_only_the_interrupted_trial(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = [
        "sweep",
        str(CONFIG),
        "--out",
        str(out),
        "--seeds",
        "0-1",
        "--grid",
        "model.hidden=[8],[16]",
        "--finetune",
        "spinnaker2",
        *TINY,
    ]
    code, stdout, err = _main(argv, capsys)
    assert code == 0, err
    rows = _csv(out / "results.csv")
    assert [(r["model.hidden"], r["seed"]) for r in rows] == [
        ("[8]", "0"),
        ("[8]", "1"),
        ("[16]", "0"),
        ("[16]", "1"),
    ]
    for r in rows:
        assert r["status"] == "ok" and not r["error"]
        for key in ("float", "loihi2", "spinnaker2", "spinnaker2_tuned_float"):
            for split in ("train", "test"):
                assert 0.0 <= float(r[f"{key}_{split}"]) <= 1.0
        for target in ("loihi2", "spinnaker2"):
            gap = float(r[f"{target}_test"]) - float(r["float_test"])
            assert float(r[f"{target}_gap_test"]) == pytest.approx(gap, abs=1e-5)
        assert float(r["time_s"]) > 0 and float(r["peak_mem_mb"]) > 0
        assert r["n_train"] == "64"
    document = json.loads((out / "results.json").read_text())
    assert len(document["rows"]) == 4 and document["varied"] == ["model.hidden"]
    summary = document["summary"]
    assert (summary["ok"], summary["failed"]) == (4, 0)
    assert summary["best"] in ("model.hidden=[8]", "model.hidden=[16]")
    stats = summary["settings"][0]["metrics"]["float_test"]
    assert stats["n"] == 2 and stats["sem"] == pytest.approx(stats["std"] / 2**0.5)
    assert (out / "results.png").stat().st_size > 0
    assert "model.hidden=[16]: 2 of 2 trials ok" in stdout
    assert "loihi2_gap_test" in stdout

    # Interrupt one trial as a kill during its second epoch would: epoch 1's checkpoint is there,
    # epoch 2's, the model and the row are not.
    trials = sorted(out.glob("trials/*/seed*"))
    killed = out / "trials" / setting_name({"model.hidden": "[16]"}) / "seed1"
    (killed / "row.json").unlink()
    (killed / "float" / "model.h5").unlink()
    (killed / "float" / "checkpoints" / "epoch_0002.h5").unlink()
    lines = (killed / "float" / "metrics.jsonl").read_text().splitlines()
    (killed / "float" / "metrics.jsonl").write_text(lines[0] + "\n")
    first = killed / "float" / "checkpoints" / "epoch_0001.h5"
    before = {p: (p / "row.json").stat().st_mtime_ns for p in trials if p != killed}
    first_mtime = first.stat().st_mtime_ns

    code, stdout, err = _main([*argv, "--json"], capsys)
    assert code == 0, err
    again = json.loads(stdout)  # --json: exactly one document
    assert [r["status"] for r in again["rows"]] == ["ok"] * 4
    assert {p: (p / "row.json").stat().st_mtime_ns for p in before} == before  # not rerun
    assert first.stat().st_mtime_ns == first_mtime  # resumed after epoch 1, not retrained
    epochs = [json.loads(x)["epoch"] for x in (killed / "float" / "metrics.jsonl").open()]
    assert epochs == [1, 2]
    assert err.count("trial ") == 1 and f"trial {killed.parent.name}/seed1 ok" in err
    assert len(_csv(out / "results.csv")) == 4


def test_a_failing_trial_stays_in_its_row(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = [
        "sweep",
        str(CONFIG),
        "--out",
        str(out),
        "--grid",
        "train.lr=0.005,-1",
        "--targets",
        "loihi2",
        *TINY,
    ]
    code, stdout, err = _main(argv, capsys)
    assert code == 1
    rows = {r["train.lr"]: r for r in _csv(out / "results.csv")}
    assert rows["0.005"]["status"] == "ok" and float(rows["0.005"]["loihi2_test"]) >= 0
    assert rows["-1"]["status"] == "failed"
    assert "ConfigError" in rows["-1"]["error"] and "lr" in rows["-1"]["error"]
    assert "1 of 2 trials failed" in err
    assert "failed: train.lr=-1/seed0: ConfigError" in stdout
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert (summary["ok"], summary["failed"], summary["best"]) == (1, 1, "train.lr=0.005")
    # The failed trial is retried on a rerun; the finished one is not.
    done = out / "trials" / "train.lr=0.005" / "seed0" / "row.json"
    mtime = done.stat().st_mtime_ns
    code, _, err = _main(argv, capsys)
    assert code == 1 and done.stat().st_mtime_ns == mtime
    assert err.count("trial ") == 1


def test_seeds_grid_and_samples_parse():
    assert parse_seeds("0-3,8") == [0, 1, 2, 3, 8]
    assert parse_seeds("5") == [5]
    for bad in ("3-1", "a", "1-"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)
    assert split_values('[128, 64],[256],"a,b"') == ["[128, 64]", "[256]", '"a,b"']
    assert grid_settings(["train.lr=0.1,0.2", "model.hidden=[8],[16]"]) == [
        {"train.lr": "0.1", "model.hidden": "[8]"},
        {"train.lr": "0.1", "model.hidden": "[16]"},
        {"train.lr": "0.2", "model.hidden": "[8]"},
        {"train.lr": "0.2", "model.hidden": "[16]"},
    ]
    with pytest.raises(ConfigError, match=r"section\.field=value"):
        grid_settings(["lr=0.1"])
    drawn = sample_settings(["train.lr=loguniform:1e-4,1e-2", "model.hidden=choice:[8],[16]"], 5, 0)
    assert drawn == sample_settings(
        ["train.lr=loguniform:1e-4,1e-2", "model.hidden=choice:[8],[16]"], 5, 0
    )
    assert all(1e-4 <= float(s["train.lr"]) <= 1e-2 for s in drawn)
    with pytest.raises(ConfigError, match="loguniform"):
        sample_settings(["train.lr=loguniform:0,1"], 1, 0)
    assert combine([{"a.b": "1"}], []) == [{"a.b": "1"}]
    with pytest.raises(ConfigError, match="both"):
        combine([{"a.b": "1"}], [{"a.b": "2"}])
    assert setting_name({}) == "base"
    assert "/" not in setting_name({"data.train": '"shd:/x/y.h5"'})
    long = setting_name({f"train.f{i}": "1" * 20 for i in range(8)})
    assert len(long) <= 80


def test_a_finished_row_counts_only_for_the_same_trial(tmp_path):
    spec = TrialSpec(
        config=str(CONFIG),
        overrides=("train.epochs=2",),
        setting={},
        seed=0,
        run_dir=str(tmp_path),
        targets=("loihi2",),
    )
    row = {"trial": spec.name, "status": "ok", "spec": spec_key(spec)}
    spec.row_path.write_text(json.dumps(row))
    assert finished_row(spec) == row
    for changed in (
        replace(spec, overrides=("train.epochs=3",)),  # --set changed: rerun (trainer resumes)
        replace(spec, targets=("loihi2", "spinnaker2")),
        replace(spec, sensitivity=True),
    ):
        assert finished_row(changed) is None
    assert finished_row(replace(spec, cpus=2)) == row  # CPUs do not change the numbers
    spec.row_path.write_text(json.dumps(row | {"status": "failed"}))
    assert finished_row(spec) is None  # failed trials are retried
    spec.row_path.write_text("{")
    assert finished_row(spec) is None
