"""The process-wide store and runner for every page and session (st.cache_resource), and the server's
warm start: what every page needs is imported and made once, in the background, when the server starts."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging

import streamlit as st

# what a participant's first page would otherwise import in its first rerun (torch alone takes seconds)
PAGE_MODULES = ("torch", "pandas", "plotly.graph_objects", "modelkit.models", "modelkit.data.tasks",
                "modelkit.plots.figures", "modelkit.ui.run_view", "modelkit.ui.comparison", "modelkit.ui.forms")


def get_store():
    """The store MODELKIT_DB_URL / MODELKIT_HOME name now: one per place, so a process whose settings
    changed (a test after another) never reads another place's runs from a cached store."""
    return _store(*place())


def place() -> tuple[str, str]:
    """(MODELKIT_DB_URL, MODELKIT_HOME) now: what a cache of the store's contents is keyed by."""
    from modelkit import settings

    return settings.database_url(), str(settings.home())


@st.cache_resource(show_spinner=False)
def _store(url: str, home: str):
    from modelkit.store import Store

    return Store(url, home=home)


def _release_runner(runner):
    runner.shutdown()


def get_runner():
    """The server's runner. Made in a fraction of a second: it marks the runs of vanished processes
    interrupted, and its worker processes start in the background (a few seconds, once per server)."""
    return _runner(*place())


@st.cache_resource(show_spinner=False, on_release=_release_runner)
def _runner(url: str, home: str):
    from modelkit.execution.runner import Runner

    return Runner(_store(url, home))   # MODELKIT_WORKERS, else the pool's default (modelkit.settings.workers)


def workers_starting() -> bool:
    """The worker processes are still starting, so a queued run waits for them (status lines say so)."""
    return get_runner().warming_up()


@st.cache_resource(show_spinner=False)
def device_name() -> str | None:
    """The GPU's name, or None when training runs on the CPU."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "Apple MPS"
    return None


WORKERS_READY_S = 60.0   # the longest a server's start waits for its workers to be warm


def warm_up():
    """Import the pages' heavy modules, load the default task's data, build its model and estimate its memory
    on the meta device (torch's first meta forward pass takes most of a second), then start the runner (its
    workers start behind it) and wait until they are warm: all before the server takes its first request.
    Where the workers are elsewhere (Ray) the wait is for the executor's own readiness."""
    try:
        for name in PAGE_MODULES:
            importlib.import_module(name)
        from modelkit import models
        from modelkit.config import make_config
        from modelkit.data import tasks
        from modelkit.models import memory

        config = make_config("moons", "mlp")
        models.build_on_meta(config.model, tasks.load(config.task).spec)
        memory.check_memory(config)
        get_runner().wait_ready(WORKERS_READY_S)   # workers importing torch would slow the first page down
    except Exception:   # a warm-up is only a head start: the first page does what it could not
        logging.getLogger(__name__).exception("warm-up at server start failed")
    gc.freeze()   # what was made so far lives as long as the server: the collector's walks skip it from now on


@contextlib.asynccontextmanager
async def warm_start(app):
    """The server's lifespan (st.App): Streamlit prints the URL as it binds the socket, but the server takes
    its first request (its health check answers) only once the warm-up is done, so that no participant's
    first page waits for an import or for workers starting. The warm-up runs in a thread, off the event loop."""
    await asyncio.to_thread(warm_up)
    yield
