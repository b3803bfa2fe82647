"""A server killed mid-run and started again: the first page view shows the truth, with no one pressing anything."""
import pytest

from modelkit.store import Store
from tests.browser import (
    NEEDS_CHROMIUM,
    server_fixture,
    set_setting,
    wait_for_run_in_url,
    wait_for_status,
)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(300)]
server = server_fixture(workers=1)


def status_now(pg) -> str:
    box = pg.locator(".st-key-train_status").first
    box.wait_for()
    return box.inner_text()


def test_a_run_of_a_killed_server_shows_interrupted_on_the_first_page_view_after_its_restart(server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 2200})
    pg.set_default_timeout(60_000)
    pg.goto(server.url)
    set_setting(pg, "train_epochs", "3000", "train.epochs")   # far longer than the test
    pg.locator(".st-key-train_start button").click()
    wait_for_status(pg, "running")
    run_id = wait_for_run_in_url(pg)

    server.kill()   # SIGKILL mid-run: the run stays `running` in the store
    assert Store(home=server.home).get_run(run_id).status == "running"
    server.start()
    pg.reload()   # the same URL: ?run= names the run
    assert "interrupted" in status_now(pg)   # the first drawing already says so: nothing waited for a runner
    assert Store(home=server.home).get_run(run_id).status == "interrupted"
