"""A room in real Chromium: the host unlocks the Host page and creates a challenge; a participant in a
second browser context opens its link, finds the locked settings disabled, trains, and appears on the
leaderboard the host sees. Screenshots go to $MODELKIT_SCREENSHOTS when it is set.
"""
import os
import re

import pytest

from tests.browser import wait_for_rerun
from tests.test_browser_train import CHROMIUM, server, shot  # noqa: F401  (server: a fixture)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
              pytest.mark.timeout(300)]
KEY = "room-key-123"


@pytest.fixture
def room_server(monkeypatch, request):
    """The Train page's test server, started with a known host key."""
    monkeypatch.setenv("MODELKIT_HOST_KEY", KEY)
    return request.getfixturevalue("server")


def open_page(browser, url):
    pg = browser.new_context(viewport={"width": 1400, "height": 2200}).new_page()
    pg.set_default_timeout(90_000)
    pg.goto(url)
    pg.locator(".st-key-train_task input").wait_for()
    return pg


def test_a_challenge_from_the_host_to_a_participant_and_back_on_the_leaderboard(room_server, browser):
    host = open_page(browser, room_server)
    host.get_by_text("Host", exact=True).first.click()            # the sidebar's Host expander
    key = host.locator(".st-key-host_key_input input")
    key.fill(KEY)
    key.press("Enter")
    host.get_by_role("link", name="Host").wait_for()               # the page is in the navigation now
    host.get_by_role("link", name="Host").click()
    host.get_by_role("heading", name="Host the room").wait_for()
    host.locator(".st-key-host_ch_title input").fill("Two epochs")
    host.locator(".st-key-host_ch_locked textarea").fill("train.epochs=2")
    host.locator(".st-key-host_ch_instruction textarea").fill("Best accuracy in two epochs.")
    host.locator(".st-key-host_ch_instruction textarea").press("Tab")
    wait_for_rerun(host)   # the instruction is in the session before Create reads it
    host.locator(".st-key-host_ch_create button").click()
    host.get_by_text("The challenge is ready").wait_for()
    link = host.locator("code", has_text="?challenge=").first.inner_text()
    challenge = re.search(r"challenge=(\w+)", link).group(1)
    shot(host, "host_challenge_created")

    pat = open_page(browser, f"{room_server}?challenge={challenge}&who=pat")
    pat.get_by_text("Best accuracy in two epochs.").wait_for()
    assert pat.locator(".st-key-train_epochs input").is_disabled()
    assert pat.locator(".st-key-train_task input").is_disabled()
    assert not pat.locator(".st-key-train_time_budget input").is_disabled()
    shot(pat, "participant_challenge_locked")
    pat.locator(".st-key-train_start button").click()
    pat.wait_for_function("() => document.querySelector('.st-key-train_status')?.innerText?.includes('completed')",
                          timeout=150_000)

    board = host.locator("[data-testid=stTable]", has_text="pat")
    board.wait_for(timeout=60_000)   # the live leaderboard redraws by itself
    assert "MLP (deep network)" in board.inner_text()   # a challenge starts on its first network that fits, not the baseline
    shot(host, "host_leaderboard")
