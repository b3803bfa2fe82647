"""The Compare and Runs pages in a real browser: `streamlit run app.py` driven by headless Chromium.

A three-architecture race on digits (5 s each, two workers): three curves grow, the leaderboard
completes with a winner; the Runs page lists the three runs, also after the server restarts.
Screenshots go to $MODELKIT_SCREENSHOTS when it is set.
"""
import os
from pathlib import Path

import pytest

from modelkit.store import Store
from tests.browser import NEEDS_CHROMIUM, server_fixture

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(300)]
server = server_fixture(workers=2)


def shot(pg, name):
    folder = os.environ.get("MODELKIT_SCREENSHOTS")
    if folder:
        pg.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def open_page(pg, url, link, ready_key):
    """Open the app at its front page, then go to `link` in the sidebar (how a visitor arrives)."""
    pg.goto(url)
    pg.locator(".st-key-train_task input").wait_for()
    pg.get_by_role("link", name=link).click()
    pg.locator(f".st-key-{ready_key}").first.wait_for()


# Polled by the browser: remembers every point count each run's training-loss curve has shown, and
# returns {run name: [counts]} once `runs` curves have each shown `counts` different ones, else null.
CURVES_GREW_JS = """([runs, counts]) => {
    const g = document.querySelector('.st-key-compare_chart_loss .js-plotly-plot');
    const seen = window.curvesSeen = window.curvesSeen || {};
    for (const tr of (g && g._fullData) || [])
        if (tr.showlegend !== false && tr.name && tr._length) (seen[tr.name] = seen[tr.name] || new Set()).add(tr._length);
    const grown = Object.entries(seen).filter(([, s]) => s.size >= counts);
    return grown.length >= runs ? Object.fromEntries(Object.entries(seen).map(([k, s]) => [k, [...s]])) : null; }"""


def wait_for_curves(pg, runs: int, counts: int) -> dict[str, list[int]]:
    """Wait until `runs` curves of the loss chart have each shown `counts` different point counts."""
    return pg.wait_for_function(CURVES_GREW_JS, arg=[runs, counts], polling=200, timeout=150_000).json_value()


def test_a_three_architecture_race_grows_three_curves_and_completes_the_leaderboard(server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1800})
    pg.set_default_timeout(60_000)
    open_page(pg, server.url, "Compare", "compare_task")
    assert pg.locator(".st-key-compare_task input").input_value() == "Handwritten digits"
    budget = pg.locator(".st-key-compare_time_budget input")
    budget.fill("5")
    budget.press("Enter")   # the value travels with the click's rerun too: nothing to wait for
    pg.locator(".st-key-compare_start button").first.click()

    wait_for_curves(pg, runs=2, counts=1)
    shot(pg, "compare_running")
    grown = wait_for_curves(pg, runs=3, counts=2)
    assert sorted(grown) == ["CNN (convolutional)", "Linear (baseline)", "MLP (deep network)"]

    winner = pg.locator(".st-key-compare_winner").first   # a rerun can briefly hold the old copy too
    winner.wait_for(timeout=120_000)
    assert "wins with Test accuracy" in winner.inner_text()
    # one leaderboard table, once the page has settled (a rerun can briefly hold the old copy too)
    pg.wait_for_function("() => document.querySelectorAll("
                         "'.st-key-compare_leaderboard [data-testid=stDataFrame]').length === 1")
    shot(pg, "compare_done")
    runs = Store(home=server.home).list_runs()
    assert sorted(r.config["train"]["time_budget"] for r in runs) == [5.0, 5.0, 5.0]

    open_page(pg, server.url, "Runs", "runs_table")
    pg.get_by_text("3 of 3 runs shown").wait_for()   # the table's caption, drawn after the table
    shot(pg, "runs_page")

    server.stop()   # every run is kept across a restart
    server.start()
    open_page(pg, server.url, "Runs", "runs_table")
    pg.get_by_text("3 of 3 runs shown").wait_for()   # the table's caption, drawn after the table
