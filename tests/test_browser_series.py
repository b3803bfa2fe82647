"""An own time series in a real browser: upload it, see it drawn, train an LSTM, see the forecast over the
test part; then the same results in Chinese."""
import json

import pytest
from series_data import csv, seasonal_frame

from tests.browser import (
    ARGS,
    CHROMIUM,
    NEEDS_CHROMIUM,
    ROOT,
    server_fixture,
    set_setting,
    wait_for_status,
)
from tests.test_browser_train import choose, shot

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(900)]
server = server_fixture(workers=1)
ZH = json.loads((ROOT / "assets/i18n/zh.json").read_text(encoding="utf-8"))
TRACES_JS = """([s, n]) => { const g = document.querySelector(s + ' .js-plotly-plot');
    return (g && g._fullData ? g._fullData.length : 0) >= n; }"""   # a chart under `s` draws `n` lines or more


def test_upload_a_series_see_it_train_an_lstm_and_see_the_forecast_over_the_test_part(server, tmp_path):
    path = tmp_path / "load.csv"
    path.write_bytes(csv(seasonal_frame(400)))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 3000})
        pg.set_default_timeout(240_000)   # a shared, busy CPU
        pg.goto(server.url)
        pg.get_by_text("Use your own data").click()
        pg.locator(".st-key-train_upload input[type=file]").set_input_files(str(path))
        pg.get_by_text("400 time steps").wait_for()                               # the series, read
        assert pg.locator(".st-key-train_upload_kind input").input_value() == "Automatic: a forecast (time series)"
        pg.wait_for_function(TRACES_JS, arg=[".st-key-train_upload_series", 1])   # ... and drawn
        shot(pg, "series_upload_en")
        pg.locator(".st-key-train_upload_add button").click()
        pg.wait_for_function("() => document.querySelector('.st-key-train_task input')?.value === "
                             "'Your data: load.csv'")
        choose(pg, "train_arch", "LSTM")
        set_setting(pg, "train_epochs", "8", "train.epochs")
        pg.locator(".st-key-train_start button").click()
        wait_for_status(pg, "completed", timeout_ms=400_000)
        chart = "[class*=st-key-results_forecast_]"
        pg.wait_for_function(TRACES_JS, arg=[chart, 3])   # the truth, the forecast over it, whole forecasts
        assert pg.get_by_text("The test part with the forecast over it").is_visible()
        assert pg.get_by_text("repeating the last value").first.is_visible()      # beside the naive forecast
        shot(pg, "series_results_en")
        choose(pg, "lang", "简体中文")
        pg.get_by_text(ZH["results.forecast_title"]).wait_for()
        pg.wait_for_function(TRACES_JS, arg=[chart, 3])
        assert pg.get_by_text("重复最后一个").first.is_visible()
        shot(pg, "series_results_zh")
        browser.close()
