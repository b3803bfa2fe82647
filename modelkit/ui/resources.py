"""The process-wide store and runner for every page and session (st.cache_resource)."""
from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner=False)
def get_store():
    from modelkit.store import Store

    return Store()


def _release_runner(runner):
    runner.shutdown()


@st.cache_resource(show_spinner=False, on_release=_release_runner)
def get_runner():
    """The server's runner. Made in a fraction of a second: it marks the runs of vanished processes
    interrupted, and its worker processes start in the background (a few seconds, once per server)."""
    from modelkit.execution.runner import Runner

    return Runner(get_store())   # MODELKIT_WORKERS, else the pool's default (modelkit.settings.workers)


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
