"""The journey matrix in real Chromium, for the two kinds a person brings: an uploaded table and an
uploaded ZIP of image folders. Upload, add, train, then every section of the finished run is on the page:
Replay, Look inside, Try it (the table's own columns in their own units; the drawing canvas), the
download and the service's lines, and Show the code."""
import pytest

from tests.browser import NEEDS_CHROMIUM, server_fixture, set_setting, wait_for_run_in_url, wait_for_status

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [NEEDS_CHROMIUM, pytest.mark.timeout(600)]
server = server_fixture(workers=1)


def table_file(tmp_path):
    from uploaded_files import plants_measured_csv

    path = tmp_path / "plants.csv"
    path.write_bytes(plants_measured_csv())
    return path


def zip_file(tmp_path):
    from uploaded_files import digits_folder_zip

    path = tmp_path / "digits.zip"
    path.write_bytes(digits_folder_zip(per_class=15))
    return path


def try_table(pg, key):
    for column in ("height_mm", "leaf_mass_mg", "leaf_ratio"):
        assert pg.get_by_label(column).count() == 1
    assert 1000 < float(pg.get_by_label("height_mm").input_value()) < 2000   # millimetres, as uploaded
    pg.locator(f".st-key-{key}_probs").wait_for()


def try_image(pg, key):
    pg.locator(f".st-key-{key}_draw").wait_for()


@pytest.mark.parametrize("make, name, try_view", [(table_file, "plants.csv", try_table),
                                                  (zip_file, "digits.zip", try_image)], ids=["table", "image_zip"])
def test_an_uploaded_dataset_walks_every_section_of_its_finished_run(server, browser, tmp_path, make, name,
                                                                     try_view):
    pg = browser.new_page(viewport={"width": 1400, "height": 3000})
    pg.set_default_timeout(120_000)
    pg.goto(server.url)
    pg.get_by_text("Use your own data").click()
    pg.locator(".st-key-train_upload input[type=file]").set_input_files(str(make(tmp_path)))
    pg.locator(".st-key-train_upload_add button").click()
    pg.wait_for_function("n => document.querySelector('.st-key-train_task input')?.value === 'Your data: ' + n",
                         arg=name)
    set_setting(pg, "train_epochs", "2", "train.epochs")
    pg.locator(".st-key-train_start button").click()
    wait_for_status(pg, "completed", timeout_ms=300_000)
    run_id = wait_for_run_in_url(pg)
    key = f"train_use_{run_id}"
    pg.get_by_text("Replay the training").first.wait_for()
    pg.locator(".st-key-train_inside_view").wait_for()
    assert pg.locator(".st-key-train_inside_view [role=tab]").count() >= 3   # forward, loss, gradients, ...
    try_view(pg, key)
    pg.locator(f".st-key-{key}_download").wait_for()
    # the code block highlights its words apart: read its text, not the page's HTML
    pg.locator("code", has_text=f"python -m modelkit serve {run_id}").first.wait_for()
    assert "/predict" in pg.locator(f".st-key-{key}_curl").inner_text()
    pg.get_by_text("Show the code").first.click()
    pg.get_by_text("import torch").first.wait_for()
    pg.close()
