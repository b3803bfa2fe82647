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
    (["--set", "train.lr=-1"], "train.lr: must be greater than 0"),
    (["--set", "model.hidden=abc"], "model.hidden: expected a list"),
    (["--set", "train.nosuch=1"], "train.nosuch: unknown setting"),
    (["--task", "nosuch"], "task.name: unknown task 'nosuch'"),
    (["--arch", "cnn"], "cnn does not fit moons; architectures that fit moons: linear, mlp"),
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
