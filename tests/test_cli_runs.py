"""The CLI's run-store commands: train records its run; runs, show, stop and delete read and change the store."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from polling import wait_until

from modelkit.cli import main
from modelkit.store import Store

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, timeout=120):
    """python -m modelkit ARGS in a fresh process, with this test's MODELKIT_HOME."""
    return subprocess.run([sys.executable, "-m", "modelkit", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})


def run_json(capsys, *args):
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.timeout(180)
def test_train_records_its_run_and_runs_show_and_delete_find_it(capsys):
    done = cli("train", "--task", "moons", "--arch", "mlp", "--epochs", "2", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"status", "seconds", "params", "metrics", "run_id"} <= set(out)
    run_id = out["run_id"]

    shown = run_json(capsys, "show", run_id, "--json")
    assert (shown["status"], shown["owner"], shown["task"], shown["arch"]) == ("completed", "cli", "moons", "mlp")
    assert shown["metrics"]["test_accuracy"] == out["metrics"]["test_accuracy"]
    assert [r["id"] for r in run_json(capsys, "runs", "--json")] == [run_id]
    assert main(["runs"]) == 0 and run_id in capsys.readouterr().out

    assert main(["delete", run_id]) == 0
    assert Store().get_run(run_id) is None
    assert main(["show", run_id]) == 2
    assert "no run" in capsys.readouterr().err


@pytest.mark.timeout(180)
def test_stop_from_another_process_stops_a_terminal_run_and_keeps_its_points(capsys):
    store = Store()
    training = subprocess.Popen([sys.executable, "-m", "modelkit", "train", "--task", "moons", "--arch", "mlp",
                                 "--time-budget", "60", "--json"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        running = wait_until(lambda: (r := store.list_runs(status="running")) and not store.points(r[0].id).empty
                             and r, 90, 0.1, "the run started", alive=lambda: training.poll() is None)
        assert main(["stop", running[0].id]) == 0
        out, _ = training.communicate(timeout=30)
    finally:
        training.kill()
    assert training.returncode == 1   # a stopped run is not a finished one
    run = store.get_run(running[0].id)
    assert json.loads(out)["run_id"] == run.id
    assert run.status == "stopped" and run.message.startswith("Stopped on request")
    assert len(store.points(run.id, names=["loss"])) == run.metrics["steps"]
    assert main(["stop", run.id]) == 1   # no longer running
