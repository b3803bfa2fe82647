"""Statuses that agree (issue 24, item 5): a paused run reads paused, a run cut by its time limit says so and
how far it got, a run the host stopped says so, and no badge repeats its own word beside it, in either language."""
import pytest

from modelkit import messages
from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import HOST, Store
from modelkit.text import translate
from modelkit.ui import labels

STATUSES = tuple(labels.STATUS_COLORS)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("status", STATUSES)
def test_a_badge_and_the_words_beside_it_never_say_the_same_thing_twice(status, lang):
    word, meaning = translate(lang, f"badge.{status}"), translate(lang, f"status.{status}")
    assert word.rstrip("…") not in meaning and meaning.rstrip("…") not in word


def test_a_run_cut_by_its_time_limit_says_so_and_how_far_it_got():
    store = Store()
    config = make_config("moons", "mlp", ["train.epochs=100000", "train.time_budget=1", "train.eval_every=0"])
    run_id = store.create_run(config, queued=False)
    worker.execute_run(store, run_id)
    run = store.get_run(run_id)
    assert run.status == "completed" and labels.shown_status(run) == "time_limit"
    english, chinese = messages.run_text(run, "en"), messages.run_text(run, "zh")
    assert "time limit of 1 s" in english and "of the 100000 epochs" in english
    assert "时限 1 秒" in chinese and "100000 轮" in chinese


def test_a_run_that_trains_all_its_epochs_is_simply_completed():
    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=2", "train.time_budget=60"]), queued=False)
    worker.execute_run(store, run_id)
    run = store.get_run(run_id)
    assert labels.shown_status(run) == "completed" and messages.run_text(run).startswith("Finished")


def show_run(run_id, lang):
    import streamlit as st

    from modelkit.ui import run_view

    st.session_state["lang"] = lang
    run_view.panel(run_id, "train")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_paused_run_reads_paused_not_running(lang, app_resources):
    from streamlit.testing.v1 import AppTest

    store = Store()
    run_id = store.create_run(make_config("moons", "mlp"), queued=False)
    store.mark_started(run_id, "cpu", 1000)
    store.set_paused(run_id, True)
    at = AppTest.from_function(show_run, args=(run_id, lang), default_timeout=60).run()
    assert not at.exception
    badge = " ".join(m.value for m in at.markdown if "-badge[" in m.value)
    assert translate(lang, "badge.paused") in badge
    assert translate(lang, "badge.running") not in badge and translate(lang, "status.running") not in badge


def test_a_stop_remembers_who_asked_the_host_or_the_runs_owner():
    store = Store()
    by_host = store.create_run(make_config("moons", "mlp"), owner="ana")
    by_owner = store.create_run(make_config("moons", "mlp"), owner="ana")
    store.request_stop(by_host)                # the Host page and the CLI ask as the host: by None
    store.request_stop(by_owner, by="ana")
    host_run, own_run = store.get_run(by_host), store.get_run(by_owner)
    assert (host_run.stopped_by, own_run.stopped_by) == (HOST, "ana")
    assert (labels.shown_status(host_run), labels.shown_status(own_run)) == ("host_stopped", "stopped")


def test_a_training_run_the_host_stops_ends_stopped_by_the_host():
    store = Store()
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=1000"]), owner="ana", queued=False)
    store.request_stop(run_id)
    worker.execute_run(store, run_id)
    run = store.get_run(run_id)
    assert run.status == "stopped" and labels.shown_status(run) == "host_stopped"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_run_the_host_stopped_says_so_on_its_page(lang, app_resources):
    from streamlit.testing.v1 import AppTest

    store = Store()
    run_id = store.create_run(make_config("moons", "mlp"), owner="ana")
    store.request_stop(run_id)
    at = AppTest.from_function(show_run, args=(run_id, lang), default_timeout=60).run()
    assert not at.exception
    badge = " ".join(m.value for m in at.markdown if "-badge[" in m.value)
    assert translate(lang, "badge.host_stopped") in badge and translate(lang, "status.host_stopped") in badge
