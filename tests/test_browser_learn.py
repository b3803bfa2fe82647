"""The Learn page in real Chromium: walk the steps, see inside a finished CNN, GRU and Transformer, in both languages.

The three runs are trained before the server starts; the page reuses them. Screenshots
go to $MODELKIT_SCREENSHOTS when it is set.
"""
import json
import os
import time
from pathlib import Path

import pytest

from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store
from tests.test_browser_train import ARGS, CHROMIUM, choose, server, shot  # noqa: F401 (server: a fixture)

playwright = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
              pytest.mark.timeout(300)]
TINY = [("digits", "cnn", ["model.channels=[4,8]"]), ("digits", "gru", ["model.hidden_size=16"]),
        ("digits", "transformer", ["model.d_model=16", "model.heads=2"])]


@pytest.fixture
def trained(tmp_path):
    """A tiny CNN, GRU and Transformer already trained in the store the server will use."""
    store = Store(home=tmp_path / "home")
    for task, arch, sets in TINY:
        run_id = store.create_run(make_config(task, arch, ["train.epochs=1", *sets]), queued=False)
        worker.execute_run(store, run_id)


@pytest.fixture
def page(trained, server, browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 2400})
    pg.set_default_timeout(60_000)
    deadline = time.time() + 60
    while True:  # the server may still be starting
        try:
            pg.goto(server + "learn?lang=en")
            break
        except playwright.Error:
            if time.time() > deadline:
                raise
            pg.wait_for_timeout(500)
    pg.locator(".st-key-learn_text").wait_for()
    yield pg


def header(pg) -> str:
    return pg.locator(".st-key-learn_text h2").first.inner_text()


def wait_for_chart(pg, name: str, view: str = "learn_inside"):
    """Until the chart `name` (in the container keyed <view>_chart_<name>) is drawn with data."""
    pg.wait_for_function(f"""() => {{
        const g = document.querySelector('.st-key-{view}_chart_{name} .js-plotly-plot');
        return g && g._fullData && g._fullData.length > 0; }}""")


def wait_for_header(pg, text: str):
    pg.wait_for_function(f"() => document.querySelector('.st-key-learn_text h2')?.innerText === {text!r}")


def exceptions(pg) -> int:
    return pg.locator("[data-testid=stException]").count()


def test_walk_to_the_cnn_gru_and_transformer_steps_and_see_inside_each_in_both_languages(page):
    pg = page
    en = json.loads((ROOT / "assets" / "i18n" / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((ROOT / "assets" / "i18n" / "zh.json").read_text(encoding="utf-8"))
    assert header(pg) == en["learn.network.title"]
    charts = {"cnn": ("filters", "feature_maps", "pooling"), "rnn": ("hidden",),
              "transformer": ("attention", "positional")}
    for step in ("loss", "backprop", "optimizers", "cnn", "rnn", "transformer"):
        pg.locator(".st-key-learn_next button").click()
        wait_for_header(pg, en[f"learn.{step}.title"])
        if step == "optimizers":
            wait_for_chart(pg, "surface", view="learn")
        for name in charts.get(step, ()):
            wait_for_chart(pg, name)
            # a rerun may briefly leave the previous step's chart in this place: wait for this one's title
            pg.wait_for_function("([key, title]) => document.querySelector('.st-key-' + key)?.innerText"
                                 "?.startsWith(title)", arg=[f"learn_inside_chart_{name}", en[f"inside.{name}.title"]])
        if step in charts or step == "optimizers":
            shot(pg, f"learn_{step}_en")
        assert exceptions(pg) == 0

    choose(pg, "lang", "简体中文")
    wait_for_header(pg, zh["learn.transformer.title"])
    pg.get_by_text(zh["inside.attention.title"]).first.wait_for()
    wait_for_chart(pg, "attention")
    shot(pg, "learn_transformer_zh")
    for step, name in (("rnn", "hidden"), ("cnn", "filters")):
        pg.locator(".st-key-learn_previous button").click()
        wait_for_header(pg, zh[f"learn.{step}.title"])
        pg.get_by_text(zh[f"inside.{name}.title"]).first.wait_for()
        wait_for_chart(pg, name)
        shot(pg, f"learn_{step}_zh")
    assert exceptions(pg) == 0
