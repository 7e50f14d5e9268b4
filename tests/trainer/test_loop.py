"""Training loop: determinism, resume, config errors, CLI train/evaluate."""

from __future__ import annotations

import importlib.metadata
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from neurodeploy.cli import app
from neurodeploy.errors import ConfigError
from neurodeploy.files import read_network
from neurodeploy.trainer.config import config_from_dict, config_to_dict, load_config
from neurodeploy.trainer.loop import train
from neurodeploy.trainer.progress import ConsoleProgress

SMALL = [
    'data.train="yinyang:train"',
    'data.test="yinyang:test"',
    "data.dt_ms=1.0",
    "data.options={size = 96}",
    "model.hidden=[12]",
    "model.input_init=[2.5, 1.5]",
    "model.max_delay_steps=3",
    "model.delay_init_steps=[0.0, 3.0]",
    "train.epochs=3",
    "train.batch_size=16",
    "train.lr=0.005",
    "train.learn_delays=true",
]


def _weights(net):
    return [p.weights for p in net.projections] + [p.delays for p in net.projections]


def test_training_is_deterministic_for_a_seed(tmp_path):
    cfg = load_config(None, SMALL)
    a = train(cfg, tmp_path / "a", progress=False)
    b = train(cfg, tmp_path / "b", progress=False)
    for x, y in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_array_equal(x, y)
    c = train(load_config(None, [*SMALL, "train.seed=1"]), tmp_path / "c", progress=False)
    assert not np.array_equal(_weights(a)[0], _weights(c)[0])
    assert any(
        not np.array_equal(p.delays, np.rint(p.delays)) for p in a.projections
    )  # delays learned


def test_resume_equals_uninterrupted_run(tmp_path):
    cfg = load_config(None, SMALL)
    full = train(
        load_config(None, [*SMALL, "train.keep_checkpoints=1"]), tmp_path / "full", progress=False
    )
    assert [p.name for p in (tmp_path / "full" / "checkpoints").iterdir()] == ["epoch_0003.h5"]
    run = tmp_path / "resumed"
    train(cfg, run, progress=False, stop_after=1)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_0001.h5"]
    assert not (run / "model.h5").exists()
    resumed = train(cfg, run, progress=False)
    for x, y in zip(_weights(full), _weights(resumed), strict=True):
        np.testing.assert_array_equal(x, y)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    assert (run / "curve.png").stat().st_size > 1000  # drawn at the last epoch
    model = read_network(run / "model.h5")
    assert model.readout == "max_voltage"
    assert model.metadata["config"]["train"]["epochs"] == 3
    assert [p.kind for p in model.populations] == ["input", "lif", "li"]
    assert model.metadata["versions"]["neurodeploy"] == importlib.metadata.version("neurodeploy")


class _Recorder(ConsoleProgress):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_epoch_start(self, epoch, epochs, n_batches):
        self.calls.append(("start", epoch, epochs, n_batches))
        super().on_epoch_start(epoch, epochs, n_batches)

    def on_batch(self, epoch, batch, mean_loss):
        self.calls.append(("batch", epoch, batch))
        assert np.isfinite(mean_loss)
        super().on_batch(epoch, batch, mean_loss)

    def on_epoch(self, record):
        self.calls.append(("epoch", dict(record)))
        super().on_epoch(record)


def test_progress_is_called_per_epoch_and_batch(tmp_path, capsys):
    run = tmp_path / "run"
    recorder = _Recorder()
    train(load_config(None, [*SMALL, "train.epochs=2"]), run, progress=recorder)
    n_batches = 96 // 16
    expected = []
    for epoch in (1, 2):
        expected.append(("start", epoch, 2, n_batches))
        expected += [("batch", epoch, b) for b in range(n_batches)]
        expected.append("epoch")
    assert [c if c[0] != "epoch" else "epoch" for c in recorder.calls] == expected
    records = [c[1] for c in recorder.calls if c[0] == "epoch"]
    assert records == [
        json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()
    ]
    lines = capsys.readouterr().err.splitlines()  # the console progress: one line per epoch
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ")] == [
        "epoch 1",
        "epoch 2",
    ]


def test_weight_noise_is_seeded_per_batch_and_survives_resume(tmp_path):
    noisy = [*SMALL, "train.weight_noise=0.05"]
    clean = train(load_config(None, SMALL), tmp_path / "clean", progress=False)
    full = train(load_config(None, noisy), tmp_path / "full", progress=False)
    assert not np.array_equal(_weights(clean)[0], _weights(full)[0])
    train(load_config(None, noisy), tmp_path / "resumed", progress=False, stop_after=2)
    resumed = train(load_config(None, noisy), tmp_path / "resumed", progress=False)
    for x, y in zip(_weights(full), _weights(resumed), strict=True):
        np.testing.assert_array_equal(x, y)


AUGMENTED = [
    *SMALL,
    "train.epochs=4",
    "train.weight_noise=0.05",
    "data.validation_fraction=0.25",
    "train.keep_best=true",
    "train.early_stop=3",
    "train.weight_decay=0.05",
    'train.lr_schedule="cosine"',
    "augment.channel_shift=1",
    "augment.time_shift=2",
    "augment.time_stretch=0.1",
    "augment.blend=0.5",
    "augment.delete=0.1",
    "augment.jitter=1.0",
]


def _files_equal(a, b):
    for name in ("model.h5", "model_last.h5"):
        x, y = read_network(a / name), read_network(b / name)
        for u, v in zip(_weights(x), _weights(y), strict=True):
            np.testing.assert_array_equal(u, v)
    strip = [
        {k: v for k, v in json.loads(line).items() if k != "epoch_seconds"}
        for line in (a / "metrics.jsonl").read_text().splitlines()
    ]
    assert strip == [
        {k: v for k, v in json.loads(line).items() if k != "epoch_seconds"}
        for line in (b / "metrics.jsonl").read_text().splitlines()
    ]


def test_augmented_run_with_model_selection_resumes_bit_identically(tmp_path):
    cfg = load_config(None, AUGMENTED)
    full = train(cfg, tmp_path / "full", progress=False)
    plain = train(load_config(None, SMALL[:]), tmp_path / "plain", progress=False)
    assert not np.array_equal(_weights(full)[0], _weights(plain)[0])
    history = [
        json.loads(x) for x in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    ]
    assert all("validation_accuracy" in h and "train_accuracy" in h for h in history)
    best = max(history, key=lambda h: (h["validation_accuracy"], -h["validation_loss"]))
    assert full.metadata["metrics"]["epoch"] == best["epoch"]
    assert read_network(tmp_path / "full" / "model_last.h5").metadata["metrics"] == history[-1]
    for stop in (1, 2):
        run = tmp_path / f"resumed{stop}"
        train(cfg, run, progress=False, stop_after=stop)
        train(cfg, run, progress=False)
        _files_equal(tmp_path / "full", run)


def test_bptt_engine_gets_augmentation_and_model_selection(tmp_path):
    cfg = load_config(None, [*AUGMENTED, 'train.method="bptt"', "train.learn_delays=false"])
    train(cfg, tmp_path / "full", progress=False)
    train(cfg, tmp_path / "resumed", progress=False, stop_after=2)
    train(cfg, tmp_path / "resumed", progress=False)
    _files_equal(tmp_path / "full", tmp_path / "resumed")
    plain = load_config(None, [*SMALL, 'train.method="bptt"', "train.learn_delays=false"])
    a = train(plain, tmp_path / "plain", progress=False)
    b = read_network(tmp_path / "full" / "model_last.h5")
    assert not np.array_equal(_weights(a)[0], _weights(b)[0])


def test_killed_augmented_run_resumes_bit_identically(tmp_path):
    """kill -9 of `neurodeploy train` mid-run, then the same command: the files equal an
    uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    sets = [x for item in AUGMENTED for x in ("--set", item)]
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    cmd = [str(Path(sys.executable).parent / "neurodeploy"), "train", str(empty), *sets]
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    subprocess.run(
        [*cmd, "--out", str(tmp_path / "full")], check=True, env=env, capture_output=True
    )
    run = tmp_path / "killed"
    proc = subprocess.Popen(
        [*cmd, "--out", str(run)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (run / "checkpoints" / "epoch_0002.h5").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "model.h5").exists()
    subprocess.run([*cmd, "--out", str(run)], check=True, env=env, capture_output=True)
    _files_equal(tmp_path / "full", run)


def test_early_stop_counts_epochs_since_the_best_validation_epoch(tmp_path, monkeypatch):
    from neurodeploy.trainer.loop import _best_index, _since_best

    h = [
        {"validation_accuracy": a, "validation_loss": loss}
        for a, loss in [(0.5, 1.0), (0.7, 0.9), (0.7, 0.8), (0.6, 0.5), (0.7, 0.8)]
    ]
    assert _best_index(h) == 2  # highest accuracy, then lowest loss, then earliest
    assert _since_best(h) == 2
    import neurodeploy.trainer.loop as loop

    monkeypatch.setattr(loop, "evaluate_network", lambda *a, **k: (0.5, 1.0))  # never improves
    cfg = load_config(
        None, [*SMALL, "train.epochs=6", "data.validation_fraction=0.25", "train.early_stop=2"]
    )
    train(cfg, tmp_path / "run", progress=False)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3]  # best 1, then 2 without
    assert (tmp_path / "run" / "model.h5").exists()
    assert (tmp_path / "run" / "curve.png").exists()
    train(cfg, tmp_path / "run", progress=False)  # a stopped run stays stopped
    assert (tmp_path / "run" / "metrics.jsonl").read_text().splitlines() == lines


def test_validation_split_is_stratified_and_seeded():
    from neurodeploy.trainer.data import stratified_split

    labels = np.repeat(np.arange(5), 10)
    tr, va = stratified_split(labels, 0.2, seed=0)
    assert len(va) == 10 and np.bincount(labels[va]).tolist() == [2] * 5
    assert sorted([*tr, *va]) == list(range(50))
    np.testing.assert_array_equal(va, stratified_split(labels, 0.2, seed=0)[1])
    assert not np.array_equal(va, stratified_split(labels, 0.2, seed=1)[1])


def test_validation_split_by_speaker_holds_out_whole_speakers(tmp_path):
    import h5py

    from neurodeploy.trainer.data import grouped_split, load_data

    groups = np.repeat([5, 6, 7, 8], [4, 2, 2, 2])
    tr, va = grouped_split(groups, 0.3, seed=0)
    assert set(groups[tr]).isdisjoint(groups[va]) and len(va) >= 3 and len(tr) > 0
    path = tmp_path / "s.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (12,), dtype=h5py.vlen_dtype(np.float32))
        units = f.create_dataset("spikes/units", (12,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(12):
            times[i] = np.sort(rng.uniform(0, 0.05, 20)).astype(np.float32)
            units[i] = rng.integers(0, 8, 20).astype(np.uint16)
        f["labels"] = np.arange(12) % 2
        f["extra/speaker"] = np.repeat([0, 1, 2, 3], 3)
    cfg = load_config(
        None,
        [
            f'data.train="shd:{path}"',
            "data.dt_ms=1.0",
            "data.validation_fraction=0.25",
            'data.validation_by="speaker"',
        ],
    )
    data = load_data(cfg)
    assert len(data.validation) == 3 and len(data.train) == 9
    with pytest.raises(ConfigError, match="validation_by"):
        load_config(None, ["data.validation_fraction=0.25", 'data.validation_by="speaker"'])


def test_learning_rate_schedules():
    from neurodeploy.trainer.config import learning_rate

    t = load_config(
        None, ["train.epochs=11", 'train.lr_schedule="cosine"', "train.lr_min=0.1"]
    ).train
    assert learning_rate(t, 1.0, 1) == 1.0
    assert learning_rate(t, 1.0, 6) == pytest.approx(0.55)
    assert learning_rate(t, 1.0, 11) == pytest.approx(0.1)
    t = load_config(
        None, ['train.lr_schedule="step"', "train.lr_step_epochs=3", "train.lr_decay=0.5"]
    ).train
    assert [learning_rate(t, 1.0, e) for e in (1, 3, 4, 7)] == [1.0, 1.0, 0.5, 0.25]
    t = load_config(None, ["train.lr_decay=0.9"]).train
    assert learning_rate(t, 2.0, 3) == 2.0 * 0.9**2


def test_weight_decay_is_decoupled_and_zero_leaves_adam_unchanged():
    from neurodeploy.trainer.optim import Adam

    p0 = [np.array([1.0, -2.0])]
    g = [np.array([0.0, 0.0])]
    a, b = Adam([(2,)]), Adam([(2,)])
    p1, p2 = [p0[0].copy()], [p0[0].copy()]
    a.step(p1, g, 0.1)
    b.step(p2, g, 0.1, decay=0.01)
    np.testing.assert_array_equal(p1[0], p0[0])  # zero gradient: plain Adam does not move
    np.testing.assert_allclose(p2[0], 0.99 * p0[0])  # decay alone, not scaled by Adam


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("[model]\nhiden = [3]\n", [], "model.hiden: unknown field"),
        ("[model]\nhidden = 3\n", [], "model.hidden: must be a list"),
        ('[train]\nlr = "fast"\n', [], "train.lr: must be a number"),
        ("[trian]\n", [], "trian: unknown section"),
        ("", ["train.epochs=0"], "train.epochs: must be >= 1"),
        ("", ['loss.readout="first_spike"'], "needs model.output = lif"),
        ("", ["train.nope=1"], "train.nope: unknown field"),
        ("", ["finetune.nope=1"], "finetune.nope: unknown field"),
        ("[finetune]\nepochs = 0\n", [], "finetune.epochs: must be >= 1"),
        ("[finetune]\nlr = -1.0\n", [], "finetune.lr: must be > 0"),
        ("", ["train.weight_noise=-0.1"], "train.weight_noise: must be >= 0"),
    ],
)
def test_config_errors_name_the_field(tmp_path, text, overrides, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path, overrides)
    assert "\n" not in str(err.value)
    assert str(path) in str(err.value)


def test_set_parses_toml_values_and_bare_strings():
    cfg = load_config(
        None, ["data.train=shd:/tmp/x.h5", "model.hidden=[4, 5]", "train.learn_delays=true"]
    )
    assert cfg.data.train == "shd:/tmp/x.h5"
    assert cfg.model.hidden == [4, 5]
    assert cfg.train.learn_delays is True


def test_finetune_section_replaces_train_fields_and_round_trips():
    cfg = load_config(None, ["train.epochs=30", "train.lr=0.01", "finetune.epochs=3"])
    tuned = cfg.for_finetuning()
    assert (cfg.train.epochs, tuned.train.epochs) == (30, 3)
    assert tuned.train.lr == cfg.train.lr == 0.01  # not named in [finetune]: kept
    assert tuned.finetune == {}
    assert config_from_dict(config_to_dict(cfg)) == cfg


def test_cli_train_and_evaluate(tmp_path):
    runner = CliRunner()
    cfg = tmp_path / "c.toml"
    cfg.write_text("")
    args = ["train", str(cfg), "--out", str(tmp_path / "run"), "--quiet", "--json"]
    for item in SMALL:
        args += ["--set", item]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    model = tmp_path / "run" / "model.h5"
    result = runner.invoke(app, ["evaluate", str(model), "--data", "yinyang:test", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["n"] == 96
    # the float simulator + readout rule agree with the trainer's own test accuracy
    assert doc["accuracy"] == pytest.approx(
        read_network(model).metadata["metrics"]["test_accuracy"]
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[data]\ntrain = "shd:/nonexistent/train.h5"\n', "/nonexistent/train.h5"),
        ("[data]\noptions = {size = 8}\n[model]\nn_inputs = 2\n", "beyond the 2 input channels"),
        ("[data]\noptions = {size = 8}\n[model]\nn_outputs = 2\n", "labels must be in [0, 1]"),
        ("[model]\nhidden = [0]\n", "model.hidden"),
    ],
)
def test_cli_bad_config_or_data_fails_before_training_with_one_line(
    tmp_path, capsys, toml, message
):
    from neurodeploy.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["train", str(cfg), "--out", str(run)])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not run.exists()


def test_time_to_first_spike_training_reduces_the_loss(tmp_path):
    cfg = load_config(
        None,
        [
            *SMALL,
            "data.options={bias = true, size = 200}",
            "data.dt_ms=0.5",
            "model.hidden=[40]",
            'model.output="lif"',
            "model.output_init=[1.0, 1.0]",
            'loss.readout="first_spike"',
            "loss.tau0_ms=2.0",
            "loss.tau1_ms=20.0",
            "train.epochs=4",
        ],
    )
    net = train(cfg, tmp_path / "ttfs", progress=False)
    history = [
        json.loads(line) for line in (tmp_path / "ttfs" / "metrics.jsonl").read_text().splitlines()
    ]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert net.population("output").kind == "lif"
    assert net.readout == "first_spike"
