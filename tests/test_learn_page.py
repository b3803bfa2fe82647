"""The Learn page, headless: it walks its eight steps, trains a step's model through the runner or reuses one."""
import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store

pytestmark = pytest.mark.usefixtures("app_resources")   # conftest: each test's own store and runner
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
ORDER = ["network", "loss", "backprop", "optimizers", "cnn", "rnn", "transformer", "metrics"]


def table(lang):
    return json.loads((ROOT / "assets" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def page(lang="en", step=None) -> AppTest:
    at = AppTest.from_file("../app_pages/learn.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    if step:
        at.session_state["learn_step"] = step
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_next_walks_the_eight_steps_in_the_seed_order(lang):
    text = table(lang)
    at = page(lang)
    assert at.button(key="learn_previous").disabled
    seen = []
    for _ in ORDER:
        assert not at.exception
        seen.append(at.header[0].value)
        if len(seen) < len(ORDER):
            at.button(key="learn_next").click().run()
    assert seen == [text[f"learn.{s}.title"] for s in ORDER]
    assert at.button(key="learn_next").disabled


def test_previous_goes_back_one_step():
    at = page(step="cnn")
    at.button(key="learn_previous").click().run()
    assert at.radio(key="learn_step").value == "optimizers"


def test_the_optimizer_step_draws_four_paths_without_any_run():
    at = page(step="optimizers")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    at.select_slider(key="learn_surface_lr").set_value(0.01).run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert Store().list_runs() == []


def test_a_step_reuses_a_model_already_trained_for_it():
    store = Store()
    run_id = store.create_run(make_config("digits", "cnn", ["train.epochs=1", "model.channels=[4,8]"]), queued=False)
    worker.execute_run(store, run_id)
    at = page(step="cnn")
    assert not at.exception
    assert any(run_id in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 3  # filters, feature maps, before/after pooling
    assert len(store.list_runs()) == 1  # nothing new was trained


def test_the_train_button_trains_the_steps_model_through_the_runner_then_shows_it():
    at = page(step="network")
    assert len(at.get("plotly_chart")) == 0
    at.button(key="learn_train").click().run()
    runs = Store().list_runs()
    assert [(r.task, r.arch) for r in runs] == [("moons", "mlp")]
    deadline = time.time() + TIMEOUT
    while Store().get_run(runs[0].id).active and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert not at.exception
    assert Store().get_run(runs[0].id).status == "completed"
    assert len(at.get("plotly_chart")) == 3  # probabilities, activations, first-layer regions
