"""Own data in a real browser: upload a CSV under the task picker, see its preview, add it, train, see the result."""
import pytest

from tests.browser import (
    NEEDS_CHROMIUM,
    server_fixture,
    set_setting,
    wait_for_status,
)
from tests.test_datasets import plants_csv

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(300)]
server = server_fixture(workers=1)


def test_upload_a_csv_pick_its_target_train_and_see_the_result(server, tmp_path, browser):
    csv = tmp_path / "plants.csv"
    csv.write_bytes(plants_csv())
    pg = browser.new_page(viewport={"width": 1400, "height": 2600})
    pg.set_default_timeout(90_000)
    pg.goto(server.url)
    pg.get_by_text("Use your own data").click()
    pg.locator(".st-key-train_upload input[type=file]").set_input_files(str(csv))
    pg.get_by_text("300 rows, 4 columns").wait_for()            # the preview
    assert pg.locator(".st-key-train_upload_target input").input_value() == "kind"
    pg.locator(".st-key-train_upload_add button").click()
    pg.wait_for_function("() => document.querySelector('.st-key-train_task input')?.value === "
                         "'Your data: plants.csv'")
    set_setting(pg, "train_epochs", "30", "train.epochs")
    pg.locator(".st-key-train_start button").click()
    wait_for_status(pg, "completed", timeout_ms=150_000)
    accuracy = pg.locator("[data-testid=stMetric]", has_text="Test accuracy").first
    accuracy.wait_for()
    value = float(accuracy.locator("[data-testid=stMetricValue]").inner_text().rstrip("%")) / 100
    assert value > 0.8
