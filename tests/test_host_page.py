"""The Host page and a challenge on the Train page, headless (streamlit.testing.v1.AppTest)."""
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from modelkit import room
from modelkit.config import make_config
from modelkit.written import literal
from modelkit.store import Store

TIMEOUT = 120


@pytest.fixture(autouse=True)
def _fresh_resources(monkeypatch):
    """Each test gets a store and runner under its own MODELKIT_HOME (conftest sets it), and a known key."""
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    monkeypatch.setenv(room.HOST_KEY_ENV, "teacher-key")
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def host_page(lang="en") -> AppTest:
    at = AppTest.from_file("../app_pages/host.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["host_unlocked"] = lang, True
    return at.run()


def finished_run(store, owner, accuracy, challenge=None):
    run_id = store.create_run(make_config("moons", "mlp"), owner=owner, queued=False, challenge=challenge)
    store.finish_run(run_id, "completed", "", metrics={"test_accuracy": accuracy, "seconds": 2.0})
    return run_id


def table_with(at, column):
    """The first table on the page with `column` (plain tables carry no key in AppTest)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_right_key_in_the_sidebar_unlocks_the_host_page():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    assert not at.session_state["host_unlocked"] if "host_unlocked" in at.session_state else True
    at.text_input(key="host_key_input").input("teacher-key").run()
    assert at.session_state["host_unlocked"] is True
    assert not at.exception


def test_a_wrong_key_is_refused_in_plain_words():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    at.text_input(key="host_key_input").input("guess").run()
    assert at.session_state["host_unlocked"] is False
    assert any("not the host key" in c.value for c in at.sidebar.caption)


def test_the_host_page_without_the_key_shows_nothing_of_the_room():
    at = AppTest.from_file("../app_pages/host.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = "en"
    at.run()
    assert [w.value for w in at.warning] == [
        "This page is for the workshop host: type the host key in the sidebar first."]
    assert not at.title


@pytest.mark.parametrize("lang, title", [("en", "Host the room"), ("zh", "主持教室")])
def test_the_host_page_shows_people_queue_leaderboard_and_join_link(lang, title):
    store = Store()
    finished_run(store, "ana", 0.9)
    store.create_run(make_config("moons", "mlp"), owner="ben")
    at = host_page(lang)
    assert not at.exception
    assert at.title[0].value == title
    people = table_with(at, "here")
    assert set(people["participant"]) == {"ana", "ben"}
    assert people.set_index("participant").loc["ben", "queued"] == 1
    (board,) = [tb.value for tb in at.table]
    assert board.iloc[:, 1:3].values.tolist() == [["ana", "90.0%"]]   # participant, test accuracy
    assert at.button(key=f"host_remove_{store.queue()[0]}")
    assert any(c.value.endswith("/") and c.value.startswith("http") for c in at.code)


def test_removing_a_queued_run_takes_it_off_the_queue():
    store = Store()
    run_id = store.create_run(make_config("moons", "mlp"), owner="ben")
    at = host_page()
    at.button(key=f"host_remove_{run_id}").click().run()
    assert store.get_run(run_id) is None


def test_the_host_creates_a_challenge_with_locked_settings():
    at = host_page()
    at.text_input(key="host_ch_title").input("Tiny MLP").run()
    at.multiselect(key="host_ch_archs").set_value(["mlp"]).run()
    at.text_area(key="host_ch_locked").input("train.lr=0.01\nmodel.hidden=[8, 8]").run()
    at.text_area(key="host_ch_instruction").input("Reach 90 % with 8 units.").run()
    at.button(key="host_ch_create").click().run()
    (made,) = Store().list_challenges()
    assert (made.title, made.task, made.archs, made.locked) == ("Tiny MLP", "moons", ["mlp"],
                                                               {"train.lr": 0.01, "model.hidden": [8, 8]})
    assert any(c.value.endswith(f"/?challenge={made.id}") for c in at.code)


def test_a_challenge_that_locks_its_own_task_is_refused_naming_the_setting():
    at = host_page()
    at.text_area(key="host_ch_locked").input("task.name=\"iris\"").run()
    at.button(key="host_ch_create").click().run()
    assert at.error and at.error[0].value.startswith("task.name:")
    assert Store().list_challenges() == []


def test_the_hosts_limits_are_kept_for_the_room():
    at = host_page()
    at.number_input(key="host_limit_seconds").set_value(45.0).run()
    at.button(key="host_limits_save").click().run()
    assert room.current_limits(Store()).seconds == 45.0


def test_the_challenge_link_prefills_the_train_page_and_locks_its_settings():
    store = Store()
    challenge = room.create_challenge(store, task="digits", archs=["cnn", "mlp"], budget=15,
                                      locked=["train.lr=0.01", "train.batch_size=32"], instruction="Go.")
    finished_run(store, "zoe", 0.5, challenge=challenge)   # a moons run: not on a digits board
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["seat"] = "en", {"name": "ana", "secret": ""}
    at.query_params["challenge"] = challenge
    at.run()
    assert not at.exception
    assert at.selectbox(key="train_task").value == "digits" and at.selectbox(key="train_task").disabled
    assert set(at.selectbox(key="train_arch").options) == {"CNN (convolutional)", "MLP (deep network)"}
    assert at.select_slider(key="train_lr").value == 0.01 and at.select_slider(key="train_lr").disabled
    assert at.number_input(key="train_batch_size").value == 32 and at.number_input(key="train_batch_size").disabled
    budget = at.number_input(key="train_time_budget")
    assert budget.value == 15 and not budget.disabled   # free, below the challenge's cap
    assert literal("Go.") in at.info[0].value   # as Markdown that shows exactly what the host wrote
    at.button(key="train_start").click().run()
    run = store.get_run(at.session_state["train_run"])
    assert (run.challenge, run.owner, run.config["train"]["lr"]) == (challenge, "ana", 0.01)
    store.request_stop(run.id)


def test_a_locked_learning_rate_is_moved_onto_the_train_pages_slider():
    at = host_page()
    at.multiselect(key="host_ch_archs").set_value(["mlp"]).run()
    at.text_area(key="host_ch_locked").input("train.lr=0.007").run()
    at.button(key="host_ch_create").click().run()
    assert Store().list_challenges()[0].locked == {"train.lr": 0.005}


def test_a_participant_finds_delete_and_rerun_of_anothers_run_disabled_with_the_reason():
    store = Store()
    run_id = finished_run(store, "ben", 0.7)
    at = AppTest.from_file("../app_pages/runs.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["seat"] = "en", {"name": "ana", "secret": ""}
    at.run()
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert at.button(key="runs_delete").disabled and at.button(key="runs_rerun").disabled
    assert any("This run belongs to ben" in c.value for c in at.caption)
    assert store.get_run(run_id) is not None


def test_the_projector_view_shows_the_leaderboard_alone():
    finished_run(Store(), "ana", 0.9)
    at = host_page()
    at.toggle(key="host_projector").set_value(True).run()
    assert at.title[0].value == "Class leaderboard · Moons"
    assert len(at.table) == 1 and not at.dataframe   # no people table, no forms
    assert "host_ch_create" not in {b.key for b in at.button}


class TwoWorkers:
    def workers(self):
        return [{"pid": 1, "ready": True, "run_id": None}] * 2


def test_a_queued_run_shows_its_place_and_an_estimated_wait(monkeypatch):
    from modelkit.ui import room_view

    monkeypatch.setattr(room_view, "get_runner", lambda: TwoWorkers())
    store = Store()
    first = store.create_run(make_config("moons", "mlp"), owner="ana")
    mine = store.create_run(make_config("moons", "mlp"), owner="ben")
    at = AppTest.from_file("../app_pages/train.py", default_timeout=TIMEOUT)
    at.session_state["lang"], at.session_state["participant"] = "en", "ben"
    at.query_params["run"], at.query_params["task"], at.query_params["arch"] = mine, "moons", "mlp"
    at.run()
    assert any(c.value == "Number 2 in the queue: it should start in about 2 min 00 s." for c in at.caption)
    store.request_stop(first), store.request_stop(mine)


def test_the_challenge_form_offers_an_uploaded_table_and_a_hidden_file_beside_the_held_back_split():
    from uploaded_files import plants_measured_csv

    from modelkit.data import uploads

    ds = uploads.add_table(plants_measured_csv(), "plants.csv", target="kind")
    at = host_page()
    assert any("plants.csv" in o for o in at.selectbox(key="host_ch_task").options)
    assert not at.get("file_uploader")   # no hidden test, no file to send
    at.selectbox(key="host_ch_task").set_value(ds.task).run()
    at.toggle(key="host_ch_hidden").set_value(True).run()
    (uploader,) = at.get("file_uploader")
    assert uploader.proto.label == "Or rows only you see (CSV)"
    at.button(key="host_ch_create").click().run()   # no file sent: a fifth of the table held back
    (made,) = Store().list_challenges()
    assert (made.task, made.hidden, made.hidden_file) == (ds.task, "held_back", None)
