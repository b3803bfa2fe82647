"""In Chromium: draw a digit on the canvas of a finished digits CNN and watch its probabilities change;
click the decision-boundary chart of a 2-D task and get that point's class."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright import sync_api as playwright
from polling import free_port, listening, wait_until
from trained import train_tiny

from modelkit.store import Store

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def use_page(tmp_path, request, browser):
    """tests/use_page.py served for a freshly trained run of request.param = (task, arch), open in Chromium."""
    home = tmp_path / "home"
    run_id = train_tiny(Store(home=home), *request.param)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "tests/use_page.py", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"], cwd=ROOT,
                            env={**os.environ, "MODELKIT_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: listening(port), 60, 0.3, "streamlit started", alive=lambda: proc.poll() is None)
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{port}/?run={run_id}")
        yield page, run_id
    finally:
        proc.terminate()
        proc.wait(10)


def stroke(page, box, points):
    """Draw through `points` (fractions of the canvas) at a hand's pace; the canvas sends it on mouse-up."""
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for a, b in zip(at, at[1:]):
        for k in range(1, 9):
            page.mouse.move(a[0] + (b[0] - a[0]) * k / 8, a[1] + (b[1] - a[1]) * k / 8)
            page.wait_for_timeout(15)
    page.mouse.up()


def bar_labels(page, run_id) -> list[str]:
    return page.locator(f".st-key-use_{run_id}_probs text.bartext").all_text_contents()


@pytest.mark.parametrize("use_page", [("digits", "cnn")], indirect=True)
def test_drawing_a_digit_shows_probabilities_that_change_with_the_next_stroke(use_page):
    page, run_id = use_page
    canvas = page.locator(f".st-key-use_{run_id}_draw canvas.upper-canvas")
    canvas.wait_for()
    assert page.get_by_text("Draw a digit on the canvas").is_visible()
    box = canvas.bounding_box()

    stroke(page, box, [(0.5, 0.15), (0.5, 0.85)])                      # a "1"
    page.locator(f".st-key-use_{run_id}_probs text.bartext").nth(9).wait_for()
    first = bar_labels(page, run_id)
    assert len(first) == 10 and all(label.endswith("%") for label in first)

    stroke(page, box, [(0.2, 0.15), (0.8, 0.15), (0.5, 0.85)])         # now a "7"
    page.wait_for_function(
        "([sel, before]) => { const t = [...document.querySelectorAll(sel)].map(e => e.textContent);"
        " return t.length === 10 && t.join() !== before; }",
        arg=[f".st-key-use_{run_id}_probs text.bartext", ",".join(first)])
    assert bar_labels(page, run_id) != first


@pytest.mark.parametrize("use_page", [("moons", "mlp")], indirect=True)
def test_clicking_the_boundary_chart_asks_the_model_about_that_point(use_page):
    page, run_id = use_page
    page.locator(f".st-key-use_{run_id}_plane .js-plotly-plot").wait_for()
    x_input = page.locator("input[type=number]").first
    before = x_input.input_value()
    plane = page.locator(f".st-key-use_{run_id}_plane .nsewdrag").first.bounding_box()
    at = (plane["x"] + 0.9 * plane["width"], plane["y"] + 0.9 * plane["height"])
    for _ in range(10):   # the chart takes clicks once plotly has wired it up: click until it answers
        page.mouse.move(*at)
        page.mouse.click(*at)
        try:
            page.wait_for_function("([el, v]) => el.value !== v", arg=[x_input.element_handle(), before],
                                   timeout=5_000)
            break
        except playwright.TimeoutError:
            continue
    assert float(x_input.input_value()) > 1.0          # the bottom right of the plane
    page.get_by_text("The model says: class").wait_for()
