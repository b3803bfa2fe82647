"""The server's warm start: what the first page needs is made before anyone asks (app.py's st.App lifespan)."""
import asyncio
import threading

import pytest

from modelkit.data import tasks
from modelkit.ui import resources

pytestmark = pytest.mark.usefixtures("app_resources")   # conftest: a cached store and one-worker runner of its own


def test_warm_up_loads_the_default_task_and_starts_the_runner(monkeypatch):
    monkeypatch.setattr(tasks, "_CACHE", {})
    resources.warm_up()
    assert len(tasks._CACHE) == 1   # the default task's data, loaded once for every session
    runner = resources.get_runner()
    assert runner is resources.get_runner() and runner.wait_ready(120)


def test_the_lifespan_serves_at_once_and_warms_up_beside_it(monkeypatch):
    started = threading.Event()
    monkeypatch.setattr(resources, "warm_up", started.set)

    async def serve():
        async with resources.warm_start(app=None):
            return started.wait(30)

    assert asyncio.run(serve())
