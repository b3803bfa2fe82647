"""The runner on every other executor and store: local workers on PostgreSQL, Ray actors on SQLite and on
PostgreSQL (local workers on SQLite: test_runner.py). Real servers: a PostgreSQL and a two-node Ray cluster
started once for the session (tests/services.py)."""
import json
import os
import signal
import subprocess
import sys

import pytest
from polling import wait_until
from test_runner import (
    ENDLESS,
    QUICK,
    ROOT,
    finished,
    first_points,
    killed_server,
)

from modelkit.config import make_config
from modelkit.execution.runner import LocalExecutor, Runner
from modelkit.store import Store

COMBOS = [("local", "postgresql"), ("ray", "sqlite"), ("ray", "postgresql")]
LOST = {"local": "stopped unexpectedly", "ray": "lost its worker"}


def make_runner(kind, store, workers, request):
    if kind == "ray":
        from modelkit.execution.ray_executor import RayExecutor

        executor = RayExecutor(store, workers, address=request.getfixturevalue("ray_cluster").address)
    else:
        executor = LocalExecutor(store, workers)
    return Runner(store, executor=executor)


def database(kind, request):
    return request.getfixturevalue("postgres_server").new_database() if kind == "postgresql" else None


@pytest.fixture(scope="module", params=COMBOS, ids=["-".join(c) for c in COMBOS])
def combo(request, tmp_path_factory):
    """(executor kind, store kind, a two-worker runner on its own store), shut down after the module."""
    executor, db = request.param
    store = Store(database(db, request), tmp_path_factory.mktemp("matrix") / "home")
    runner = make_runner(executor, store, 2, request)
    assert runner.wait_ready(240), "the workers did not start"
    yield executor, db, runner
    runner.shutdown()


@pytest.fixture
def ready(combo):
    """The combination's runner with every worker warm and idle (a previous test may have killed one)."""
    runner = combo[2]
    assert runner.wait_ready(240)
    assert wait_until(lambda: all(w["run_id"] is None for w in runner.workers()), 60)
    return combo


@pytest.mark.timeout(240)
def test_a_submitted_run_shows_live_points_and_completes_recording_where_it_trained(ready):
    executor, _, runner = ready
    run_id = runner.submit(make_config("moons", "mlp", QUICK))
    first_points(runner.store, run_id)
    run = finished(runner.store, run_id)
    assert run.status == "completed"
    assert runner.store.points(run_id, names=["loss"]).step.tolist() == list(range(1, run.metrics["steps"] + 1))
    assert (run.node is not None) == (executor == "ray")


@pytest.mark.timeout(240)
def test_runs_at_once_are_trained_by_every_worker_on_every_node(ready):
    executor, _, runner = ready
    run_ids = [runner.submit(make_config("moons", "mlp", QUICK + [f"train.seed={i}"])) for i in range(4)]
    runs = [finished(runner.store, run_id, 180) for run_id in run_ids]
    assert [r.status for r in runs] == ["completed"] * 4
    assert len({r.worker_pid for r in runs}) == 2
    if executor == "ray":
        assert len({r.node for r in runs}) == 2   # the head node and the second node


@pytest.mark.timeout(240)
def test_stop_ends_a_run_and_keeps_its_points(ready):
    runner = ready[2]
    run_id = runner.submit(make_config("moons", "mlp", ENDLESS))
    first_points(runner.store, run_id)
    assert runner.stop(run_id)
    run = finished(runner.store, run_id)
    assert run.status == "stopped" and run.message.startswith("Stopped on request")
    assert len(runner.store.points(run_id, names=["loss"])) == run.metrics["steps"]


@pytest.mark.timeout(300)
def test_a_worker_killed_mid_run_fails_that_run_in_words_and_is_replaced(ready):
    executor, _, runner = ready
    run_id = runner.submit(make_config("moons", "mlp", ENDLESS))
    first_points(runner.store, run_id)
    worker = wait_until(lambda: runner.store.get_run(run_id).worker_pid, 30)
    os.kill(worker, signal.SIGKILL)
    run = finished(runner.store, run_id)
    assert run.status == "failed" and LOST[executor] in run.message
    assert not runner.store.points(run_id).empty   # the curve so far is kept
    assert runner.wait_ready(240) and worker not in {w["pid"] for w in runner.workers()}
    assert len(runner.workers()) == 2
    after = runner.submit(make_config("moons", "mlp", QUICK))
    assert finished(runner.store, after, 120).status == "completed"


@pytest.mark.timeout(420)
def test_a_server_restart_interrupts_its_running_run_and_trains_its_queued_one(combo, request, tmp_path):
    executor, db = combo[:2]
    home, url = tmp_path / "home", database(db, request)
    env = {"MODELKIT_EXECUTOR": executor}
    if executor == "ray":
        env["RAY_ADDRESS"] = request.getfixturevalue("ray_cluster").address
    endless, waiting = killed_server(tmp_path, home, url, **env)
    store = Store(url, home)
    restarted = make_runner(executor, store, 1, request)
    try:
        run = store.get_run(endless)   # no waiting: making the runner recovered it
        assert run.status == "interrupted" and "stopped before the run finished" in run.message
        assert not store.points(endless).empty
        assert finished(store, waiting, 240).status == "completed"
    finally:
        restarted.shutdown()


@pytest.mark.timeout(300)
def test_the_cli_trains_on_the_ray_cluster_into_postgresql_and_prints_the_node(ray_cluster, postgres_url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MODELKIT_HOME": str(tmp_path / "home"),
           "MODELKIT_DB_URL": postgres_url, "RAY_ADDRESS": ray_cluster.address}
    done = subprocess.run([sys.executable, "-m", "modelkit", "train", "--task", "moons", "--arch", "mlp",
                           "--epochs", "2", "--executor", "ray", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads(done.stdout.splitlines()[-1])
    assert run["status"] == "completed" and run["node"]
    assert Store(postgres_url, tmp_path / "home").get_run(run["id"]).node == run["node"]
