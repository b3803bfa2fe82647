"""The Compare and Runs pages in a real browser: `streamlit run app.py` driven by headless Chromium.

A three-architecture race on digits (5 s each, two workers): three curves grow, the leaderboard
completes with a winner; the Runs page lists the three runs, also after the server restarts.
Screenshots go to $MODELKIT_SCREENSHOTS when it is set.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")
from test_browser_train import ARGS, CHROMIUM, ROOT, free_port  # noqa: E402  (one browser set-up for all tests)

pytestmark = [pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
              pytest.mark.timeout(300)]


class Server:
    """`streamlit run app.py` on a free port with its own run store; restartable on the same store."""

    def __init__(self, home: Path):
        self.home, self.port, self.proc = home, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self):
        env = {**os.environ, "MODELKIT_HOME": str(self.home), "MODELKIT_WORKERS": "2"}
        self.proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                                      "--server.headless", "true", "--browser.gatherUsageStats", "false",
                                      "--server.fileWatcherType", "none"],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("streamlit did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "home")
    srv.start()
    yield srv
    srv.stop()


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


def curve_lengths(pg) -> dict[str, int]:
    """Points drawn per run in the training-loss chart: {run name: number of points}."""
    return pg.evaluate("""() => { const g = document.querySelector('.st-key-compare_chart_loss .js-plotly-plot');
        const out = {};
        for (const tr of (g && g._fullData) || []) if (tr.showlegend !== false && tr.name) out[tr.name] = tr._length || 0;
        return out; }""")


def test_a_three_architecture_race_grows_three_curves_and_completes_the_leaderboard(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1800})
        pg.set_default_timeout(60_000)
        open_page(pg, server.url, "Compare", "compare_task")
        assert pg.locator(".st-key-compare_task input").input_value() == "Handwritten digits"
        budget = pg.locator(".st-key-compare_time_budget input")
        budget.fill("5")
        budget.press("Enter")
        pg.wait_for_timeout(1000)
        pg.locator(".st-key-compare_start button").first.click()

        grown, shots_taken, deadline = {}, [], time.time() + 150   # grown: run name -> point counts seen
        while time.time() < deadline and (len(grown) < 3 or min(len(v) for v in grown.values()) < 2):
            for name, n in curve_lengths(pg).items():
                if n:
                    grown.setdefault(name, set()).add(n)
            if len(grown) == 2 and not shots_taken:
                shots_taken.append(shot(pg, "compare_running"))
            pg.wait_for_timeout(400)
        assert sorted(grown) == ["CNN (convolutional)", "Linear (baseline)", "MLP (deep network)"]
        assert all(len(v) >= 2 for v in grown.values()), f"a curve did not grow: {grown}"

        winner = pg.locator(".st-key-compare_winner").first   # a rerun can briefly hold the old copy too
        winner.wait_for(timeout=120_000)
        assert "wins with Test accuracy" in winner.inner_text()
        pg.wait_for_timeout(1500)
        shot(pg, "compare_done")
        assert pg.locator(".st-key-compare_leaderboard [data-testid=stDataFrame]").count() == 1

        open_page(pg, server.url, "Runs", "runs_table")
        assert pg.get_by_text("3 of 3 runs shown").is_visible()
        shot(pg, "runs_page")

        server.stop()   # every run is kept across a restart
        server.start()
        open_page(pg, server.url, "Runs", "runs_table")
        assert pg.get_by_text("3 of 3 runs shown").is_visible()
        browser.close()
