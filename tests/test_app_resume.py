"""What the first page view of a (re)started server does: start the workers, recover what a killed server left."""
import subprocess
import sys

import pytest
import streamlit as st
from polling import wait_until
from streamlit.testing.v1 import AppTest

from modelkit.config import make_config
from modelkit.store import INTERRUPTED_MESSAGE, Store
from modelkit.ui.resources import get_runner
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _one_worker(monkeypatch):
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()   # shuts the runner's workers down


def open_app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception
    return app


def dead_pid() -> int:
    """The id of a process that has ended (a server killed a moment ago)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.timeout(240)
def test_opening_the_app_starts_the_worker_pool():
    open_app()
    runner = get_runner()   # the same cached runner the page made
    assert runner.wait_ready(120)
    assert len(runner.workers()) == 1


@pytest.mark.timeout(240)
def test_opening_the_app_marks_the_runs_of_a_killed_server_interrupted():
    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=2"]), owner="before-restart")
    gone = dead_pid()
    assert store.claim_next(server_pid=gone, worker_pid=gone) == run_id   # running, its server gone
    open_app()
    run = store.get_run(run_id)   # no waiting: the page view itself recovered it
    assert (run.status, run.message) == ("interrupted", INTERRUPTED_MESSAGE)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("starting", [True, False])
def test_a_queued_run_says_so_while_the_workers_are_still_starting(monkeypatch, starting):
    monkeypatch.setattr("modelkit.ui.results.workers_starting", lambda: starting)
    run_id = Store().create_run(make_config("moons", "mlp", ["train.epochs=2"]))
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.query_params["run"] = run_id
    at.run()
    status = next(m.value for m in at.markdown if m.value.startswith(":gray-badge[queued]"))
    assert ("the training processes are starting" in status) is starting


@pytest.mark.timeout(240)
def test_opening_the_app_starts_runs_left_queued():
    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=2"]), owner="before-restart")
    open_app()
    run = wait_until(lambda: (r := store.get_run(run_id)) and not r.active and r, 180, 0.2, "the run finished")
    assert run.status == "completed"
