"""Runs left queued by a previous server start training once anyone opens the app again."""
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from modelkit.config import make_config
from modelkit.store import Store
from tests.conftest import ROOT


@pytest.mark.timeout(240)
def test_opening_the_app_starts_runs_left_queued(monkeypatch):
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=2"]), owner="before-restart")
    try:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert not app.exception
        deadline = time.monotonic() + 180
        while store.get_run(run_id).status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.get_run(run_id).status == "completed"
    finally:
        st.cache_resource.clear()   # shuts the runner's workers down
