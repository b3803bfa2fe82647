"""The real thing: `streamlit run app.py` driven by headless Chromium through Playwright.

Choose digits and the CNN, train, see the loss chart redraw with new points,
stop, see `stopped`, then switch to Chinese; reload mid-run and find the run
again; switch the language and see the chosen options relabelled. Screenshots
go to $MODELKIT_SCREENSHOTS when it is set.
"""
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import (  # noqa: F401
    ARGS,
    CHROMIUM,
    NEEDS_CHROMIUM,
    ROOT,
    free_port,
    running_server,
    set_setting,
    wait_for_more_loss_points,
    wait_for_run_in_url,
    wait_for_status,
)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(240)]


@pytest.fixture
def server(tmp_path):
    """The URL of a server of each test's own. Other browser test files import this fixture (and free_port)."""
    with running_server(tmp_path / "home", workers=1) as srv:
        yield srv.url


@pytest.fixture
def page(server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 2200})
    pg.set_default_timeout(60_000)
    pg.goto(server)
    pg.locator(".st-key-train_task input").wait_for()
    yield pg


def shot(pg, name):
    folder = os.environ.get("MODELKIT_SCREENSHOTS")
    if folder:
        pg.screenshot(path=str(Path(folder) / f"{name}.png"))


def choose(pg, key, option):
    pg.locator(f".st-key-{key} [role=combobox]").click()
    pg.get_by_role("option", name=option, exact=True).click()
    pg.wait_for_function(f"() => document.querySelector('.st-key-{key} input').value === {option!r}")


def status_text(pg) -> str:
    """The status box's words, after the status's stable English handle (the class of the element inside it)."""
    return pg.evaluate("""() => { const box = document.querySelector('.st-key-train_status');
        const handle = box && box.querySelector('[class*=st-key-train_status_is_]');
        return box ? (handle ? handle.className : '') + ' ' + box.innerText : ''; }""")


def test_train_digits_with_a_cnn_watch_it_learn_stop_it_and_read_it_in_chinese(page):
    pg = page
    choose(pg, "train_task", "Handwritten digits")
    choose(pg, "train_arch", "CNN (convolutional)")
    set_setting(pg, "train_epochs", "300", "train.epochs")  # long enough that it is still running when we stop it
    pg.locator(".st-key-train_start button").click()

    seen = [0]
    for _ in range(3):   # a first point, then the chart grows twice
        seen.append(wait_for_more_loss_points(pg, seen[-1]))
    assert seen[1] < seen[2] < seen[3]
    assert "running" in status_text(pg)
    shot(pg, "train_running_en")

    pg.locator(".st-key-train_stop button >> visible=true").first.click()
    wait_for_status(pg, "stopped")
    pg.locator(".st-key-train_stop").wait_for(state="detached")   # the page has redrawn with the results
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
    set_setting(pg, "train_epochs", "3000", "train.epochs")  # far longer than the test: it is still training after the reload
    pg.locator(".st-key-train_start button").click()
    wait_for_status(pg, "running")
    run_id = wait_for_run_in_url(pg)

    pg.reload()
    pg.locator(".st-key-train_status").wait_for()
    assert run_id in pg.locator("body").inner_text()  # the run's header names it
    assert "running" in status_text(pg)
    assert run_in_url(pg) == run_id
    # the form comes back from the URL
    pg.wait_for_function("() => document.querySelector('.st-key-train_epochs input')?.value === '3000'")
    shot(pg, "train_reloaded_mid_run")

    pg.locator(".st-key-train_stop button >> visible=true").first.click()
    wait_for_status(pg, "stopped")


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
