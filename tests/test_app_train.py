"""The Train page, headless (streamlit.testing.v1.AppTest)."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from modelkit import room
from modelkit.store import Store
from modelkit.written import literal

TIMEOUT = 120


pytestmark = pytest.mark.usefixtures("app_resources")   # conftest: each test's own store and runner


def app(lang=None, **query) -> AppTest:
    """The whole app (entry point and Train page) after its first run.

    AppTest reruns only the page script once st.navigation has chosen one, so
    interactions are tested on the page itself (see `page`).
    """
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def page(lang="en", participant="", **query) -> AppTest:
    """The Train page alone, with the session state the entry point would have set."""
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["seat"] = {"name": participant, "secret": ""} if participant else None   # as the sidebar sets it
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def refusals(at) -> list[str]:
    """The refusal messages under the form's fields (small red captions: ':red[:material/error: text]')."""
    return [c.value.split(": ", 1)[1].removesuffix("]") for c in at.caption if c.value.startswith(":red[")]


@pytest.mark.parametrize("lang, title, device", [("en", "Train a model", "Training on"), ("zh", "训练一个模型", "训练设备")])
def test_defaults_render_without_exceptions_in_both_languages(lang, title, device):
    at = app(lang)
    assert not at.exception
    assert at.title[0].value == title
    assert at.selectbox(key="lang").value == lang
    assert device in at.sidebar.caption[0].value
    assert at.selectbox(key="train_task").value == "moons"
    assert at.button(key="train_start").disabled is False


def test_the_language_follows_the_url():
    at = app("zh")
    assert at.query_params["lang"] in ("zh", ["zh"])


def test_chinese_page_shows_chinese_labels_and_help():
    at = page("zh")
    lr = at.select_slider(key="train_lr")
    assert lr.label == "学习率" and "步子" in lr.help


def test_a_preset_fills_the_form():
    at = page("en")
    at.button(key="train_preset_digits_cnn").click().run()
    assert at.selectbox(key="train_task").value == "digits"
    assert at.selectbox(key="train_arch").value == "cnn"
    assert at.number_input(key="train_time_budget").value == 15
    assert at.number_input(key="train_epochs").value is None


def test_changing_the_task_offers_only_fitting_architectures():
    at = page("en")
    at.selectbox(key="train_task").set_value("text").run()
    assert "cnn" not in at.selectbox(key="train_arch").options
    assert not at.exception


def test_a_refused_value_shows_a_message_next_to_the_control_in_the_current_language():
    at = page("zh")
    at.text_input(key="train_model_hidden").set_value("64, abc").run()
    assert not at.exception
    assert any("整数" in text for text in refusals(at))
    assert at.button(key="train_start").disabled


def test_no_budget_at_all_is_refused_with_a_message():
    at = page("en")
    at.number_input(key="train_epochs").set_value(None).run()
    assert refusals(at) == ["Give a number of epochs or a time limit (or both)."]


def test_a_rule_between_fields_is_refused_in_plain_words_in_the_current_language():
    at = page("zh", task="mnist1d", arch="transformer")
    at.number_input(key="train_model_heads").set_value(3).run()
    assert refusals(at) == ["宽度（64）必须是注意力头数（3）的整数倍。"]
    assert at.button(key="train_start").disabled


def test_starting_a_run_records_it_in_the_store_with_the_participants_name():
    at = page("en", participant="Ada")
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    run_id = at.session_state["train_run"]
    run = Store().get_run(run_id)
    assert run is not None and run.owner == "Ada" and run.task == "moons" and run.arch == "mlp"
    assert run.config["train"]["epochs"] == 1
    assert at.query_params["run"] == [run_id] or at.query_params["run"] == run_id
    status = at.get("markdown")
    assert any(run.status in m.value for m in status if "badge" in m.value)


def test_the_url_reattaches_to_a_run():
    from modelkit.config import make_config

    run_id = Store().create_run(make_config("moons", "mlp"), owner="web")
    at = page("en", run=run_id, task="moons", arch="mlp")
    assert at.session_state["train_run"] == run_id
    assert not at.exception


def test_settings_that_do_not_apply_to_the_task_are_not_offered():
    at = page("en", task="text", arch="transformer")
    keys = {w.key for w in at.number_input} | {w.key for w in at.selectbox}
    assert "train_model_heads" in keys
    assert not keys & {"train_model_patch", "train_model_stride", "train_model_pooling"}


def test_an_automatic_memory_cell_is_offered_and_accepted():
    at = page("en", task="sine", arch="rnn")
    cell = at.selectbox(key="train_model_cell")
    assert cell.options[0] == "Automatic"
    cell.set_value("automatic").run()
    assert not at.exception and not refusals(at)
    assert at.button(key="train_start").disabled is False


# --- what a run looks like on the page ------------------------------------------

def stopped_run(**sets) -> str:
    """A moons MLP run stopped before it started: finished at once, with no runner needed."""
    from modelkit.config import make_config

    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", [f"{k}={v}" for k, v in sets.items()]), owner="web")
    store.request_stop(run_id)
    return run_id


def badges(at) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def test_the_status_badge_speaks_the_pages_language():
    at = page("zh", run=stopped_run(), task="moons", arch="mlp")
    assert badges(at) and all("已停止" in b and "stopped" not in b for b in badges(at))


def test_toy_class_names_speak_the_pages_language():
    at = page("zh")
    preview = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in preview["data"]] == ["类别 0", "类别 1"]


def test_a_preset_clears_the_last_runs_view():
    run_id = stopped_run()
    at = page("en", run=run_id, task="moons", arch="mlp")
    assert any(run_id in m.value for m in at.markdown)
    at.button(key="train_preset_sine_lstm").click().run()
    assert "train_run" not in at.session_state
    assert not any(run_id in m.value for m in at.markdown) and not badges(at)
    assert Store().get_run(run_id) is not None            # the run itself stays, on the Runs page


def test_a_new_task_clears_the_last_runs_view():
    at = page("en", run=stopped_run(), task="moons", arch="mlp")
    at.selectbox(key="train_task").set_value("circles").run()
    assert "train_run" not in at.session_state and not badges(at)


def test_a_run_started_without_a_name_is_named_by_its_settings_and_owned_by_its_guest():
    at = page("en", participant="")
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    run = Store().get_run(at.session_state["train_run"])
    assert run.owner == room.guest_owner(at.session_state["guest"]) and run.owner.startswith("anonymous:")
    shown = "**" + literal("Moons · MLP (deep network) · Epochs 1")   # named when shown, as text (never markup)
    assert any(m.value.startswith(shown) for m in at.markdown)


def draw_run_panel(run_id):
    from modelkit.ui import run_view

    run_view.panel(run_id, "test", polling=True)


def test_following_a_run_never_loads_its_data(monkeypatch):
    from modelkit.config import make_config
    from modelkit.data import tasks

    def refuse(cfg):
        raise AssertionError("a polled view loaded the task's data")

    run_id = Store().create_run(make_config("sine", "lstm"), owner="Ada")   # queued: no runner takes it here
    monkeypatch.setattr(tasks, "load", refuse)
    at = AppTest.from_function(draw_run_panel, args=(run_id,), default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert any(b.startswith(":gray-badge[queued]") for b in badges(at))


@pytest.mark.parametrize("lr", [0.004, 0.0007])
def test_a_rerun_opens_the_train_page_with_the_exact_learning_rate_and_trains_with_it(lr):
    from modelkit.config import make_config
    from modelkit.room import admit
    from modelkit.ui.query import config_to_query

    old = admit(Store(), make_config("moons", "mlp", [f"train.lr={lr}", "train.epochs=1"]), "web")   # as stored
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["participant"] = "en", ""
    for k, v in config_to_query(old).items():   # what Runs -> Re-run opens (its form filled, its URL)
        at.query_params[k] = v
    at.run()
    assert at.select_slider(key="train_lr").value == lr
    at.button(key="train_start").click().run()
    new, wanted = Store().get_run(at.session_state["train_run"]).config, old.to_dict()
    assert {k: new[k] for k in ("task", "model", "train")} == {k: wanted[k] for k in ("task", "model", "train")}
