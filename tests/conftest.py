import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own run store, so tests never see each other's runs."""
    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MODELKIT_DB_URL", raising=False)
    yield


@pytest.fixture
def app_resources(monkeypatch):
    """A page test's own cached store and one-worker runner (under the test's MODELKIT_HOME), shut down after."""
    import streamlit as st

    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()   # shuts the runner's workers down
