"""Offline, really: every page, in both languages, asks for nothing beyond the machine it is served from.

Chromium aborts every request that leaves 127.0.0.1 and counts it; a page that wants a web font, an icon
from a font server or a script from a CDN fails this test (issue 24, item 1).
"""
from urllib.parse import urlparse

import pytest

from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store
from tests.browser import NEEDS_CHROMIUM, running_server

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(300)]
PAGES = ["train", "compare", "runs", "learn"]
LOCAL = {"127.0.0.1", "localhost"}


def test_no_page_requests_anything_off_the_machine(tmp_path, browser):
    store = Store(home=tmp_path / "home")   # a finished run, so that Runs draws a run panel too
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=2"]), queued=False)
    worker.execute_run(store, run_id)
    offsite, failed = [], []

    def local_only(route):
        url = route.request.url
        if urlparse(url).scheme in ("data", "blob") or urlparse(url).hostname in LOCAL:
            route.continue_()
        else:
            offsite.append(url)
            route.abort()

    with running_server(tmp_path / "home") as srv:
        pg = browser.new_page(viewport={"width": 1400, "height": 1800})
        pg.set_default_timeout(90_000)
        pg.route("**/*", local_only)
        pg.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
        for lang in ("en", "zh"):
            for name in PAGES:
                query = f"?lang={lang}" + (f"&run={run_id}" if name == "runs" else "")
                pg.goto(srv.url + name + query)
                pg.locator("[data-testid=stSidebar]").wait_for()
                pg.wait_for_function("() => document.querySelector('[data-testid=stApp]')"
                                     "?.getAttribute('data-test-script-state') === 'notRunning'")
                pg.wait_for_load_state("networkidle")
    assert offsite == [], f"pages asked the internet for: {sorted(set(offsite))}"
    # A page left for the next one cancels what it was still loading (net::ERR_ABORTED): not a failure.
    failed = [(url, why) for url, why in failed if why != "net::ERR_ABORTED"]
    assert failed == [], f"requests that failed: {sorted(set(failed))}"
