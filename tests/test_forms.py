"""The forms follow the fields: settings that do nothing are greyed out and say why; refusals by code."""
import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 120


pytestmark = pytest.mark.usefixtures("app_resources")   # conftest: each test's own store and runner


def page(lang="en", **query) -> AppTest:
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["seat"] = None
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def refusals(at) -> list[str]:
    return [c.value.split(": ", 1)[1].removesuffix("]") for c in at.caption if c.value.startswith(":red[")]


def test_sgd_settings_are_greyed_out_under_adam_and_say_why():
    at = page("en", task="moons", arch="mlp")
    momentum = at.number_input(key="train_momentum")
    assert momentum.disabled and "Used only when Optimizer is SGD" in momentum.help.split("\n")[0]
    at.selectbox(key="train_optimizer").set_value("sgd").run()
    assert not at.number_input(key="train_momentum").disabled


def test_batch_size_is_greyed_out_under_full_batch_gradient_descent():
    at = page("en", task="moons", arch="mlp")
    assert not at.number_input(key="train_batch_size").disabled
    at.selectbox(key="train_optimizer").set_value("gd").run()
    assert at.number_input(key="train_batch_size").disabled


def test_schedule_settings_follow_the_schedule_in_chinese():
    at = page("zh", task="moons", arch="mlp")
    assert at.number_input(key="train_step_every").disabled
    assert at.number_input(key="train_step_every").help.startswith("仅在")
    at.selectbox(key="train_schedule").set_value("step").run()
    assert not at.number_input(key="train_step_every").disabled
    assert at.number_input(key="train_warmup_fraction").disabled


def test_a_loss_that_does_not_fit_the_task_is_refused_at_the_form_in_chinese():
    at = page("zh", task="sine", arch="lstm")
    at.selectbox(key="train_loss").set_value("cross_entropy").run()
    assert not at.exception
    assert refusals(at) == ["交叉熵需要类别，而这个任务预测的是数值；请选择自动，或以下之一：mse, mae。"]
    assert at.button(key="train_start").disabled


def test_own_text_too_short_to_split_is_refused_before_training():
    at = page("en", task="text", arch="transformer")
    at.text_area(key="train_task_text").set_value("a few hundred characters of text. " * 12).run()
    assert any(r.startswith("The text is too short: give at least") for r in refusals(at))
    assert at.button(key="train_start").disabled
