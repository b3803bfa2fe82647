"""The runner: real worker processes training real (tiny) runs into a real SQLite store."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from polling import wait_until

from modelkit.config import make_config
from modelkit.execution.runner import Runner
from modelkit.execution.worker import execute_run
from modelkit.fields import ConfigError
from modelkit.settings import cpu_cores
from modelkit.store import Store

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["train.epochs=3", "task.n_samples=300"]
ENDLESS = ["train.epochs=null", "train.time_budget=120", "task.n_samples=300"]   # ended by the test


def finished(store, run_id, timeout=60):
    run = wait_until(lambda: (r := store.get_run(run_id)) and not r.active and r, timeout, every=0.05)
    assert run is not None, f"run {run_id} did not finish within {timeout} s"
    return run


def process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")   # a zombie has ended
    except FileNotFoundError:
        return True


def first_points(store, run_id, timeout=60):
    assert wait_until(lambda: not store.points(run_id).empty, timeout), f"run {run_id} wrote no point"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return Store(home=tmp_path_factory.mktemp("runner") / "home")


@pytest.fixture(scope="module")
def runner(store):
    runner = Runner(store, workers=2)
    assert runner.wait_ready(120), "the worker processes did not start"
    yield runner
    runner.shutdown()


@pytest.fixture
def own_runner(tmp_path):
    """A one-worker runner on a store of its own, for a test that kills or stops its workers."""
    runner = Runner(Store(home=tmp_path / "own"), workers=1)
    yield runner
    runner.shutdown()


@pytest.fixture
def ready(runner):
    """The runner with every worker warm and idle (a previous test may have killed one)."""
    assert runner.wait_ready(120)
    assert wait_until(lambda: all(w["run_id"] is None for w in runner.workers()), 30)
    return runner


@pytest.mark.timeout(180)
def test_a_new_runner_is_warming_up_until_its_workers_are_ready(own_runner):
    assert own_runner.warming_up()   # the constructor returned before any worker started
    assert own_runner.wait_ready(120)
    assert not own_runner.warming_up()


def test_workers_share_the_cores_without_oversubscribing(ready):
    assert len(ready.workers()) == 2
    assert ready.executor.threads * 2 <= max(cpu_cores(), 2)


@pytest.mark.timeout(120)
def test_submit_returns_a_queued_run_whose_loss_points_follow(ready, store):
    run_id = ready.submit(make_config("moons", "mlp", QUICK))
    assert store.get_run(run_id).status in ("queued", "running")   # how fast: see `python -m modelkit bench`
    first_points(store, run_id)
    assert finished(store, run_id).status == "completed"


@pytest.mark.timeout(180)
def test_several_runs_at_once_complete_each_with_every_step_once(ready, store):
    run_ids = [ready.submit(make_config("moons", "mlp", QUICK + [f"train.seed={i}"])) for i in range(4)]
    runs = [finished(store, run_id, 120) for run_id in run_ids]
    assert [r.status for r in runs] == ["completed"] * 4
    for run in runs:
        loss = store.points(run.id, names=["loss"])
        assert loss.step.tolist() == list(range(1, run.metrics["steps"] + 1))
        assert store.has_weights(run.id)
    assert len({r.worker_pid for r in runs}) == 2   # both workers trained


@pytest.mark.timeout(120)
def test_a_queued_run_knows_its_place_and_runs_in_order(ready, store):
    busy = [ready.submit(make_config("moons", "mlp", ENDLESS)) for _ in range(2)]
    for run_id in busy:
        first_points(store, run_id)
    waiting = [ready.submit(make_config("moons", "mlp", QUICK)) for _ in range(2)]
    assert [store.get_run(r).queue_position for r in waiting] == [1, 2]
    ready.stop(busy[0])
    second = finished(store, waiting[0])
    assert second.status == "completed" and store.get_run(waiting[1]).status in ("queued", "running")
    ready.stop(busy[1])
    assert finished(store, waiting[1]).status == "completed"
    assert store.get_run(waiting[0]).started <= store.get_run(waiting[1]).started


@pytest.mark.timeout(120)
def test_stop_ends_a_run_and_keeps_its_points(ready, store):
    run_id = ready.submit(make_config("moons", "mlp", ENDLESS))
    first_points(store, run_id)
    assert ready.stop(run_id)
    run = finished(store, run_id)   # how fast: see `python -m modelkit bench`
    assert run.status == "stopped" and run.message.startswith("Stopped on request")
    loss = store.points(run_id, names=["loss"])
    assert loss.step.tolist() == list(range(1, len(loss) + 1)) and len(loss) == run.metrics["steps"]


@pytest.mark.timeout(120)
def test_stopping_a_queued_run_means_it_never_starts(ready, store):
    busy = [ready.submit(make_config("moons", "mlp", ENDLESS)) for _ in range(2)]
    queued = ready.submit(make_config("moons", "mlp", QUICK))
    ready.stop(queued)
    for run_id in busy:
        ready.stop(run_id)
    for run_id in busy:
        finished(store, run_id)
    run = store.get_run(queued)
    assert (run.status, run.started) == ("stopped", None)
    assert store.points(queued).empty


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_run_fails_only_that_run_and_the_next_run_trains(own_runner):
    store = own_runner.store
    run_id = own_runner.submit(make_config("moons", "mlp", ENDLESS))
    first_points(store, run_id)
    worker = store.get_run(run_id).worker_pid
    os.kill(worker, signal.SIGKILL)
    run = finished(store, run_id)
    assert run.status == "failed"
    assert "stopped unexpectedly" in run.message and "SIGKILL" in run.message
    assert not store.points(run_id).empty   # the curve so far is kept
    after = own_runner.submit(make_config("moons", "mlp", QUICK))
    assert finished(store, after, 120).status == "completed"
    assert own_runner.wait_ready(120) and worker not in {w["pid"] for w in own_runner.workers()}
    assert len(own_runner.workers()) == 1


@pytest.mark.timeout(180)
def test_a_worker_that_ignores_a_stop_is_killed_and_its_run_marked_stopped(own_runner, monkeypatch):
    store = own_runner.store
    monkeypatch.setattr(own_runner.executor, "stop_grace", 1.0)
    run_id = own_runner.submit(make_config("moons", "mlp", ENDLESS))
    first_points(store, run_id)
    worker = store.get_run(run_id).worker_pid
    os.kill(worker, signal.SIGSTOP)   # a hung worker: alive, but never reaches its next step
    try:
        own_runner.stop(run_id)
        run = finished(store, run_id)
    finally:
        if worker in {w["pid"] for w in own_runner.workers()}:
            with contextlib.suppress(ProcessLookupError):   # killed between the check and here: as it should
                os.kill(worker, signal.SIGCONT)
    assert run.status == "stopped" and "did not respond" in run.message
    assert not store.points(run_id).empty
    assert wait_until(lambda: worker not in {w["pid"] for w in own_runner.workers()}, 60)


@pytest.mark.timeout(120)
def test_a_run_with_refused_settings_fails_in_words_and_the_worker_lives_on(ready, store):
    import torch

    missing = "mps" if torch.cuda.is_available() else "cuda"   # a device this machine lacks
    pids = {w["pid"] for w in ready.workers()}
    config = make_config("moons", "mlp", QUICK + [f'train.device="{missing}"'])
    with pytest.raises(ConfigError):   # the runner refuses it at submit ...
        ready.submit(config)
    run_id = store.create_run(config, owner="cli")   # ... so it is queued straight in the store, as an old
    ready.executor.wake()                             # server or another machine might have left it
    run = finished(store, run_id)
    assert run.status == "failed"
    assert run.message.startswith("The settings were refused: train.device:")
    assert {w["pid"] for w in ready.workers()} == pids


SERVER = textwrap.dedent("""
    import sys, threading
    from modelkit.config import make_config
    from modelkit.execution.runner import Runner
    from modelkit.store import Store

    if __name__ == "__main__":   # MODELKIT_EXECUTOR (and RAY_ADDRESS) choose the executor
        runner = Runner(Store(sys.argv[2] or None, home=sys.argv[1]), workers=1)
        endless = runner.submit(make_config("moons", "mlp", {endless!r}))
        waiting = runner.submit(make_config("moons", "mlp", {quick!r}))
        print(endless, waiting, flush=True)
        threading.Event().wait()   # serve until killed
""").format(endless=ENDLESS, quick=QUICK)


def killed_server(tmp_path, home, url=None, **env) -> tuple[str, str]:
    """A server process trains one run, with another queued, and is killed (SIGKILL) mid-run: their ids.

    `url`: its store (default: SQLite under `home`); `env`: e.g. MODELKIT_EXECUTOR="ray" and RAY_ADDRESS."""
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    server = subprocess.Popen([sys.executable, str(script), str(home), url or ""], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    try:
        endless, waiting = server.stdout.readline().split()
        first_points(Store(url, home), endless, timeout=180)
        worker = Store(url, home).get_run(endless).worker_pid
    finally:
        server.kill()   # SIGKILL: no clean-up of any kind
        server.wait()
    assert wait_until(lambda: process_gone(worker), 60), "the worker outlived its server"
    return endless, waiting


@pytest.mark.timeout(240)
def test_a_server_restart_interrupts_running_runs_requeues_queued_ones_and_keeps_finished_ones(tmp_path):
    home = tmp_path / "home"
    store = Store(home=home)
    done = store.create_run(make_config("moons", "mlp", QUICK), queued=False)
    execute_run(store, done)
    done_points = len(store.points(done))
    endless, waiting = killed_server(tmp_path, home)

    restarted = Runner(Store(home=home), workers=1)
    try:
        run = store.get_run(endless)   # no waiting: making the runner recovered it
        assert run.status == "interrupted" and "stopped before the run finished" in run.message
        assert not store.points(endless).empty
        assert finished(store, waiting, 120).status == "completed"
    finally:
        restarted.shutdown()
    assert store.get_run(done).status == "completed"
    assert len(store.points(done)) == done_points


@pytest.mark.timeout(240)
@pytest.mark.parametrize("command", [["show", "{run}", "--json"], ["runs", "--json"],
                                     ["train", "--task", "moons", "--arch", "linear", "--epochs", "1", "--json"]])
def test_every_cli_command_that_reads_or_trains_first_marks_a_killed_server_s_run_interrupted(tmp_path, command):
    home = tmp_path / "home"
    endless, _ = killed_server(tmp_path, home)
    done = subprocess.run([sys.executable, "-m", "modelkit", *(a.format(run=endless) for a in command)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "MODELKIT_HOME": str(home)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert Store(home=home).get_run(endless).status == "interrupted"
    if command[0] != "train":   # and what it prints says so
        shown = json.loads(done.stdout)
        assert [r["status"] for r in (shown if isinstance(shown, list) else [shown]) if r["id"] == endless] == [
            "interrupted"]
