"""How a run ended is stored as a code with parameters, read in every language; the Chinese text task.

The English stays in run.message (CLI, older readers); the pages read the same ending in Chinese.
"""
import re

import pytest
from streamlit.testing.v1 import AppTest

from modelkit import messages
from modelkit.config import ConfigError, make_config
from modelkit.data import tasks
from modelkit.execution.runner import death_message
from modelkit.execution.worker import execute_run, failure_message
from modelkit.messages import Message
from modelkit.store import Store
from modelkit.training.loop import run

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def store():
    return Store()


def han_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(bool(HAN.match(c)) for c in letters) / max(len(letters), 1)


# --- the message itself ---------------------------------------------------------------

def test_a_message_is_its_english_text_and_reads_in_chinese_from_its_code():
    message = Message.of("completed", steps=4377, epochs=12.04, seconds=30.12)
    assert message == "Finished 4377 steps (12.0 epochs) in 30.1 s."
    assert message.text("zh") == "训练了 4377 步（12.0 轮），用时 30.1 秒。"
    assert message.parts == ({"key": "message.completed", "params": {"steps": 4377, "epochs": 12.04,
                                                                     "seconds": 30.12}},)


def test_two_messages_add_up_to_one_with_both_sentences_in_each_language():
    both = Message.of("completed", steps=3, epochs=1.0, seconds=0.5)
    both += Message.of("weights_not_saved", error="disk full")
    assert str(both).endswith("The trained weights could not be saved: disk full.")
    assert both.text("zh") == "训练了 3 步（1.0 轮），用时 0.5 秒。训练好的权重没能保存：disk full。"


def test_a_refusal_is_told_in_the_refusals_own_words():
    message = failure_message(ConfigError("train.device", "no_cuda"))
    assert message.startswith("The settings were refused: train.device:")
    refusal = ConfigError("train.device", "no_cuda").text("zh")
    assert message.text("zh") == f"设置被拒绝了：train.device: {refusal}"


@pytest.mark.parametrize("exitcode, english, chinese", [(-9, "SIGKILL", "被强行结束了"), (-11, "SIGSEGV", "崩溃了"),
                                                      (-15, "SIGTERM", "信号 SIGTERM"), (3, "code 3", "退出码 3")])
def test_a_dead_worker_is_explained_in_both_languages(exitcode, english, chinese):
    message = death_message(exitcode)
    assert "stopped unexpectedly" in message and english in message
    assert chinese in message.text("zh") and "意外停止" in message.text("zh")


# --- the endings of real runs -----------------------------------------------------------

def test_a_completed_run_says_its_steps_in_chinese():
    result, _ = run(make_config("moons", "linear", ["train.epochs=2"]))
    assert result.message.parts[0]["key"] == "message.completed"
    assert result.message.text("zh").startswith(f"训练了 {result.steps} 步")


def test_a_diverged_run_gives_its_advice_in_chinese():
    result, _ = run(make_config("sine", "linear", ["train.optimizer=sgd", "train.lr=5", "train.epochs=5"]))
    assert result.status == "diverged"
    assert "学习率（5）可能太高" in result.message.text("zh") and "试试 0.5" in result.message.text("zh")


def test_early_stopping_says_so_in_chinese():
    result, _ = run(make_config("iris", "mlp", ["train.epochs=2000", "train.early_stopping=3", "train.lr=0.05"]))
    assert result.message.parts[0]["key"] == "message.early_stop"
    assert "提前停止" in result.message.text("zh") and "连续 3 次" in result.message.text("zh")


# --- stored and read back ---------------------------------------------------------------

def test_a_finished_run_keeps_english_in_its_message_and_reads_in_chinese(store):
    run_id = store.create_run(make_config("moons", "linear", ["train.epochs=1"]), queued=False)
    execute_run(store, run_id)
    stored = store.get_run(run_id)
    assert stored.message.startswith("Finished ")
    assert messages.run_text(stored, "zh").startswith("训练了 ")
    assert stored.details[messages.MESSAGE_KEY][0]["key"] == "message.completed"
    assert "confusion_matrix" in stored.details   # the message joins the run's details, replacing none


def test_a_run_stopped_before_it_started_reads_in_chinese(store):
    run_id = store.create_run(make_config("moons", "linear"))
    store.request_stop(run_id)
    assert messages.run_text(store.get_run(run_id), "zh") == "在开始之前就停止了。"


def test_an_interrupted_run_reads_in_chinese(store):
    run_id = store.create_run(make_config("moons", "linear"), queued=False)
    store.finish_run(run_id, "interrupted", messages.INTERRUPTED)
    assert "服务器重启" in messages.run_text(store.get_run(run_id), "zh")


def test_a_message_whose_code_is_unknown_here_shows_its_english(store):
    run_id = store.create_run(make_config("moons", "linear"), queued=False)
    store.finish_run(run_id, "completed", "Done the new way.",
                     details={messages.MESSAGE_KEY: [{"key": "message.from_the_future", "params": {}}]})
    assert messages.run_text(store.get_run(run_id), "zh") == "Done the new way."


def test_a_run_of_an_older_modelkit_shows_the_english_it_was_stored_with(store):
    run_id = store.create_run(make_config("moons", "linear"), queued=False)
    store.finish_run(run_id, "completed", "Finished 5 steps (1.0 epochs) in 0.1 s.", details={"x": 1})
    assert messages.run_text(store.get_run(run_id), "zh") == "Finished 5 steps (1.0 epochs) in 0.1 s."


# --- the Chinese text ------------------------------------------------------------------

def test_the_chinese_corpus_is_tang_poems_in_simplified_characters():
    data = tasks.load(make_config("text", "transformer", ["task.corpus=zh"]).task)
    text = tasks.chinese_text()
    assert len(tasks.tang_poems()) > 2000 and len(text) > 150_000
    assert han_share(text) > 0.99 and "风" in text and "風" not in text   # simplified, not traditional
    assert data.spec.n_outputs <= tasks.COMMON_CHARACTERS + 10   # the commonest characters and punctuation


def test_the_text_task_is_english_by_default():
    assert make_config("text", "transformer").task.corpus == "en"
    assert han_share(tasks.corpus_text("en")) == 0


def page(lang: str) -> AppTest:
    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["participant"] = ""
    return at.run()


@pytest.fixture
def no_runner(monkeypatch):
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    import streamlit as st
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_the_text_preset_on_a_chinese_page_writes_tang_poems_and_says_so(no_runner):
    at = page("zh")
    at.button(key="train_preset_text_transformer").click().run()
    assert not at.exception
    assert at.selectbox(key="train_task_corpus").value == "zh"
    assert any("唐诗" in c.value and "公有领域" in c.value for c in at.caption)
    assert any(han_share(c.value) > 0.9 for c in at.code)


def test_the_text_preset_on_an_english_page_writes_english_and_says_what_it_is(no_runner):
    at = page("en")
    at.button(key="train_preset_text_transformer").click().run()
    assert at.selectbox(key="train_task_corpus").value == "en"
    assert any("English documentation" in c.value for c in at.caption)
