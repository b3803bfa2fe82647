"""The process-wide store and runner for every page and session (st.cache_resource), and the server's
warm start: what every page needs is imported and made once, in the background, when the server starts."""
from __future__ import annotations

import contextlib
import importlib
import logging
import threading

import streamlit as st

# what a participant's first page would otherwise import in its first rerun (torch alone takes seconds)
PAGE_MODULES = ("torch", "pandas", "plotly.graph_objects", "modelkit.models", "modelkit.data.tasks",
                "modelkit.plots.figures", "modelkit.ui.run_view", "modelkit.ui.comparison", "modelkit.ui.forms")


def get_store():
    """The store MODELKIT_DB_URL / MODELKIT_HOME name now: one per place, so a process whose settings
    changed (a test after another) never reads another place's runs from a cached store."""
    return _store(*_place())


def _place() -> tuple[str, str]:
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
    return _runner(*_place())


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


def warm_up():
    """Import the pages' heavy modules, load the default task's data and build its model on the meta device,
    then start the runner (its workers start behind it): all before the first participant asks."""
    try:
        for name in PAGE_MODULES:
            importlib.import_module(name)
        from modelkit import models
        from modelkit.config import make_config
        from modelkit.data import tasks

        config = make_config("moons", "mlp")
        models.build_on_meta(config.model, tasks.load(config.task).spec)
        get_runner()
    except Exception:   # a warm-up is only a head start: the first page does what it could not
        logging.getLogger(__name__).exception("warm-up at server start failed")


@contextlib.asynccontextmanager
async def warm_start(app):
    """The server's lifespan (st.App): it warms up in a thread of its own and serves at once."""
    threading.Thread(target=warm_up, name="modelkit-warm-up", daemon=True).start()
    yield
