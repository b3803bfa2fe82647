"""python -m modelkit: refused configs exit 2 with one clear line; train prints its JSON; listings."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelkit.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("args, words", [
    (["--set", "train.lr=-1"], "train.lr: Use a value above 0 and at most 10. (got -1.0)"),
    (["--set", "model.hidden=abc"], "model.hidden: Use whole numbers"),
    (["--set", "train.nosuch=1"], "train.nosuch: There is no such setting here"),
    (["--task", "nosuch"], "task.name: There is no such task; choose one of: moons, circles"),
    (["--arch", "cnn"], "model.arch: This architecture does not fit this task; architectures that fit: linear, mlp"),
    (["--set", "train.momentum=NaN"], "train.momentum: Enter an ordinary number"),
    (["--set", "task.seed=2e53"], "task.seed: Use a value from 0 to 4294967295"),
])
def test_refused_settings_exit_2_with_one_line_naming_the_field(capsys, args, words):
    base = {"--task": "moons", "--arch": "mlp"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value if flag != "--set" else base.get(flag, []) + [value]
    argv = ["train"]
    for flag, value in base.items():
        for v in (value if isinstance(value, list) else [value]):
            argv += [flag, v]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "--config: The configuration file cannot be read"),
    (b"[1, 2, 3]", "--config: A run configuration must be a JSON object"),
    (b'{"task": [1], "model": {"arch": "mlp"}}', "task: Expected a group of settings"),
    (b'{"task": {"name": "moons"}, "model": {"arch": "mlp"}, "train": {"lr": "fast"}}', "train.lr: Enter a number"),
])
def test_a_broken_config_file_is_refused_in_one_line(tmp_path, capsys, content, words):
    path = tmp_path / "run.json"
    path.write_bytes(content)
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err


def test_settings_prints_each_field_with_the_pages_help_text(capsys):
    from modelkit.text import translate

    assert main(["settings", "--arch", "gru", "--section", "model"]) == 0
    out = capsys.readouterr().out
    assert "model.hidden_size = 64" in out and translate("en", "help.model.rnn.hidden_size") in out


def test_train_json_prints_status_seconds_params_and_test_metrics_last():
    done = subprocess.run([sys.executable, "-m", "modelkit", "train", "--task", "iris", "--arch", "mlp",
                           "--epochs", "3", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["status"] == "completed" and out["params"] > 0 and out["seconds"] > 0
    assert {"test_accuracy", "test_f1", "test_loss"} <= set(out["metrics"])


def test_a_diverging_run_exits_1_and_says_why(capsys):
    code = main(["train", "--task", "sine", "--arch", "linear", "--set", "train.optimizer=sgd",
                 "--set", "train.lr=5", "--epochs", "5", "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["status"] == "diverged"


def test_tasks_lists_every_task_with_the_architectures_that_fit(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    mnist = next(line for line in lines if line.startswith("mnist1d"))
    assert len(lines) == 12 and "cnn" in mnist and "transformer" in mnist


def test_archs_lists_each_architecture_with_its_tasks(capsys):
    assert main(["archs"]) == 0
    out = capsys.readouterr().out
    assert "gru" in out and "lstm" in out and "digits" in out


def test_doctor_names_torch_and_the_devices(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "cuda" in out and "threads" in out
