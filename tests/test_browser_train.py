"""The real thing: `streamlit run app.py` driven by headless Chromium through Playwright.

Choose digits and the CNN, train, see the loss chart redraw with new points,
stop, see `stopped`, then switch to Chinese; reload mid-run and find the run
again; switch the language and see the chosen options relabelled. Screenshots
go to $MODELKIT_SCREENSHOTS when it is set.
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = [pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
              pytest.mark.timeout(240)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "MODELKIT_HOME": str(tmp_path / "home"), "MODELKIT_WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def page(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 2200})
        pg.set_default_timeout(60_000)
        pg.goto(server)
        pg.locator(".st-key-train_task input").wait_for()
        yield pg
        browser.close()


def shot(pg, name):
    folder = os.environ.get("MODELKIT_SCREENSHOTS")
    if folder:
        pg.screenshot(path=str(Path(folder) / f"{name}.png"))


def choose(pg, key, option):
    pg.locator(f".st-key-{key} [role=combobox]").click()
    pg.get_by_role("option", name=option, exact=True).click()
    pg.wait_for_function(f"() => document.querySelector('.st-key-{key} input').value === {option!r}")


def loss_points(pg) -> int:
    """Training-loss points drawn in the loss chart now (0 before it exists)."""
    return pg.evaluate("""() => { const g = document.querySelector('.st-key-train_loss_chart .js-plotly-plot');
        return g && g._fullData && g._fullData.length ? g._fullData[0]._length || 0 : 0; }""")


def status_text(pg) -> str:
    """The status box's words, after the status's stable English handle (the class of the element inside it)."""
    return pg.evaluate("""() => { const box = document.querySelector('.st-key-train_status');
        const handle = box && box.querySelector('[class*=st-key-train_status_is_]');
        return box ? (handle ? handle.className : '') + ' ' + box.innerText : ''; }""")


def test_train_digits_with_a_cnn_watch_it_learn_stop_it_and_read_it_in_chinese(page):
    pg = page
    choose(pg, "train_task", "Handwritten digits")
    choose(pg, "train_arch", "CNN (convolutional)")
    epochs = pg.locator(".st-key-train_epochs input")
    epochs.fill("300")  # long enough that it is still running when we stop it
    epochs.press("Enter")
    pg.wait_for_timeout(1500)
    pg.locator(".st-key-train_start button").click()

    seen, deadline = [], time.time() + 150
    while time.time() < deadline and len(set(seen)) < 3:
        n = loss_points(pg)
        if n and (not seen or n > seen[-1]):
            seen.append(n)
        pg.wait_for_timeout(500)
    assert len(set(seen)) >= 3, f"the loss chart did not grow twice: {seen}"
    assert "running" in status_text(pg)
    shot(pg, "train_running_en")

    pg.locator(".st-key-train_stop button >> visible=true").first.click()
    pg.wait_for_function("() => (document.querySelector('.st-key-train_status') || {}).innerText?.includes('stopped')",
                         timeout=60_000)
    pg.wait_for_timeout(1500)
    shot(pg, "train_stopped_en")

    choose(pg, "lang", "简体中文")
    pg.get_by_role("heading", name="训练一个模型").wait_for()
    assert "stopped" in status_text(pg)  # the status's handle stays English, for scripts and tests
    assert "已停止" in status_text(pg)    # while the reader sees it in Chinese
    assert pg.get_by_text("网络结构").first.is_visible()
    assert "lang=zh" in pg.url
    shot(pg, "train_stopped_zh")


def run_in_url(pg) -> str:
    return parse_qs(urlparse(pg.url).query).get("run", [""])[0]


def test_reloading_the_page_mid_run_finds_the_same_run_still_training(page):
    pg = page
    epochs = pg.locator(".st-key-train_epochs input")
    epochs.fill("3000")  # far longer than the test: it is still training after the reload
    epochs.press("Enter")
    pg.wait_for_timeout(1500)
    pg.locator(".st-key-train_start button").click()
    pg.wait_for_function("() => (document.querySelector('.st-key-train_status') || {}).innerText?.includes('running')")
    run_id = run_in_url(pg)
    assert run_id

    pg.reload()
    pg.locator(".st-key-train_status").wait_for()
    assert run_id in pg.locator("body").inner_text()  # the run's header names it
    assert "running" in status_text(pg)
    assert run_in_url(pg) == run_id
    # the form comes back from the URL
    pg.wait_for_function("() => document.querySelector('.st-key-train_epochs input')?.value === '3000'")
    shot(pg, "train_reloaded_mid_run")

    pg.locator(".st-key-train_stop button >> visible=true").first.click()
    pg.wait_for_function("() => (document.querySelector('.st-key-train_status') || {}).innerText?.includes('stopped')")


def test_switching_the_language_relabels_the_chosen_task_and_architecture(page):
    pg = page
    zh = json.loads((ROOT / "assets" / "i18n" / "zh.json").read_text(encoding="utf-8"))
    choose(pg, "train_task", "Spiral")
    choose(pg, "lang", "简体中文")
    pg.get_by_role("heading", name=zh["train.title"]).wait_for()
    pg.wait_for_function(f"() => document.querySelector('.st-key-train_task input').value === {zh['task.spiral.title']!r}")
    assert pg.locator(".st-key-train_arch input").input_value() == zh["arch.mlp.title"]
    pg.locator(".st-key-train_task [role=combobox]").click()
    assert pg.get_by_role("option", name=zh["task.moons.title"], exact=True).is_visible()
    shot(pg, "train_task_select_zh")
