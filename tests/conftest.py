import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # tests/services.py

from tiers import tier_of  # noqa: E402  (tests/ is on the path from the line above)


def pytest_collection_modifyitems(items):
    """Mark each test with its tier (tests/tiers.py), so that `-m unit` is the fast lane."""
    for item in items:
        tier = tier_of(Path(str(item.fspath)).stem, item.fixturenames)
        if tier:
            item.add_marker(tier)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own run store, so tests never see each other's runs (nor their blobs: the
    store a test opened is this process's shelf only until it ends)."""
    from modelkit.data import blobs

    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MODELKIT_DB_URL", raising=False)
    yield
    blobs.keep_in(None)


@pytest.fixture(autouse=True)
def _pytest_stays_main():
    """An AppTest leaves its temporary script installed as `__main__`; a process a later test spawns would
    import that script (and die of its NameError) at its start. Put pytest's own back after each test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def app_resources(monkeypatch):
    """A page test's own cached store and one-worker runner (under the test's MODELKIT_HOME), shut down after."""
    import streamlit as st

    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()   # shuts the runner's workers down


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL for the session (tests/services.py), stopped after."""
    from services import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh empty database of the session's PostgreSQL, as a MODELKIT_DB_URL."""
    return postgres_server.new_database()


@pytest.fixture(scope="session")
def ray_cluster():
    """One real two-node Ray cluster on this machine for the session (tests/services.py), stopped after."""
    from services import RayCluster

    os.environ["RAY_AUTH_MODE"] = "disabled"   # as the cluster's own processes (tests/services.py)
    cluster = RayCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def browser():
    """Debian's Chromium, headless, through Playwright (tests/browser.py has its flags), closed after."""
    from playwright.sync_api import sync_playwright

    from tests.browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
