"""The Compare and Runs pages, headless (streamlit.testing.v1.AppTest), on runs trained by a real runner."""
import json

import pytest
import streamlit as st
from polling import wait_until
from streamlit.testing.v1 import AppTest

from modelkit import room
from modelkit.compare import race
from modelkit.config import make_config
from modelkit.execution.runner import Runner
from modelkit.store import Store

TIMEOUT = 120
GUEST = "0123456789abcdef" * 2   # a nameless browser's secret, as its cookie keeps it


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory):
    """A store with three finished moons runs (two MLPs, one linear) and one digits run, trained by a runner."""
    home = tmp_path_factory.mktemp("home")
    store = Store(home=home)
    runner = Runner(store, workers=1)
    try:
        configs = [make_config("moons", "mlp", ["train.epochs=2"]), make_config("moons", "linear", ["train.epochs=2"]),
                   make_config("moons", "mlp", ["train.epochs=3", "model.hidden=[8]"]),
                   make_config("digits", "linear", ["train.epochs=1"])]
        owners = ("Ada", "Ada", room.guest_owner(GUEST), "Lin")
        ids = [runner.submit(c, owner=owner) for c, owner in zip(configs, owners)]
        wait_until(lambda: not any(store.get_run(i).active for i in ids), 180, 0.2, "the runs finished")
    finally:
        runner.shutdown()
    assert all(store.get_run(i).status == "completed" for i in ids)
    return home, ids


@pytest.fixture
def home(trained_home, monkeypatch):
    path, ids = trained_home
    monkeypatch.setenv("MODELKIT_HOME", str(path))
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield ids
    st.cache_resource.clear()


@pytest.fixture
def fresh(app_resources):
    """An empty store of its own (conftest's MODELKIT_HOME) and a one-worker runner."""
    return Store()


def page(name, lang="en", **query) -> AppTest:
    at = AppTest.from_file(f"../app_pages/{name}.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["seat"] = {"name": "Ada", "secret": ""}   # as the sidebar's name field sets it
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


# --- Compare ------------------------------------------------------------------------

@pytest.mark.parametrize("lang, title", [("en", "Compare architectures"), ("zh", "比较网络结构")])
def test_compare_defaults_render_in_both_languages(fresh, lang, title):
    at = page("compare", lang)
    assert not at.exception
    assert at.title[0].value == title
    assert at.selectbox(key="compare_task").value == "digits"
    assert at.multiselect(key="compare_archs").value == ["linear", "mlp", "cnn"]
    assert at.button(key="compare_start").disabled is False


def test_one_architecture_is_not_a_comparison(fresh):
    at = page("compare")
    at.multiselect(key="compare_archs").set_value(["cnn"]).run()
    assert at.button(key="compare_start").disabled
    assert "at least two" in " ".join(c.value for c in at.caption)


def test_changing_the_task_offers_only_fitting_architectures(fresh):
    at = page("compare")
    at.selectbox(key="compare_task").set_value("moons").run()
    assert not at.exception
    assert at.multiselect(key="compare_archs").options == ["Linear (baseline)", "MLP (deep network)"]
    assert at.multiselect(key="compare_archs").value == ["linear", "mlp"]


def test_start_queues_every_architecture_with_the_same_budget_and_seed_and_its_own_sizes(fresh):
    at = page("compare")
    at.selectbox(key="compare_task").set_value("moons").run()
    at.number_input(key="compare_time_budget").set_value(3).run()
    at.number_input(key="compare_seed").set_value(7).run()
    at.text_input(key="compare_mlp_model_hidden").set_value("12, 6").run()
    at.button(key="compare_start").click().run()
    assert not at.exception
    runs = [fresh.get_run(i) for i in at.session_state["compare_runs"]]
    assert [r.arch for r in runs] == ["linear", "mlp"]
    assert {(r.config["train"]["time_budget"], r.config["train"]["epochs"], r.config["train"]["seed"]) for r in runs} \
        == {(3.0, None, 7)}
    assert runs[1].config["model"]["hidden"] == [12, 6] and runs[0].owner == "Ada"
    assert at.query_params["runs"] in (",".join(r.id for r in runs), [",".join(r.id for r in runs)])


def test_the_paper_race_queues_five_mnist1d_runs_with_one_time_budget(fresh):
    at = page("compare")
    at.button(key="compare_paper_race").click().run()
    assert not at.exception
    runs = [fresh.get_run(i) for i in at.session_state["compare_runs"]]
    assert [r.arch for r in runs] == list(race.PAPER_RACE_ARCHS)
    assert {r.task for r in runs} == {"mnist1d"}
    assert {r.config["train"]["time_budget"] for r in runs} == {race.PAPER_RACE_SECONDS}
    assert at.selectbox(key="compare_task").value == "mnist1d"
    for run_id in at.session_state["compare_runs"]:
        fresh.request_stop(run_id)   # leave nothing for the runner to train


def test_finished_runs_from_the_url_show_a_leaderboard_with_a_winner(home):
    ids = home[:3]
    at = page("compare", runs=",".join(ids))
    assert not at.exception
    assert at.selectbox(key="compare_task").value == "moons"
    table = at.dataframe[0].value
    assert table["run_id"].tolist() == ids
    assert table["status"].tolist() == ["completed"] * 3
    assert table["run"].tolist() == ["MLP (deep network) · Hidden layers 32×32 · Epochs 2", "Linear (baseline)",
                                     "MLP (deep network) · Hidden layers 8 · Epochs 3"]
    assert (table["winner"] == "★").sum() == 1
    assert len(at.get("plotly_chart")) >= 3 + 3   # three curve charts, one confusion matrix per run
    assert any("wins with" in s.value for s in at.success)


def test_runs_from_the_history_can_be_added(home):
    at = page("compare", runs=home[0])
    at.multiselect(key="compare_add").set_value([home[1]]).run()
    at.button(key="compare_add_button").click().run()
    assert at.session_state["compare_runs"] == [home[0], home[1]]
    assert home[3] not in at.multiselect(key="compare_add").options   # a digits run does not join a moons race


# --- Runs ---------------------------------------------------------------------------

def test_runs_table_lists_every_run_with_its_metrics(home):
    at = page("runs")
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["id"]) == sorted(home)
    assert set(table["owner"]) == {"Ada", "anonymous", "Lin"}   # the nameless one in the reader's words
    assert table["test_accuracy"].notna().all()
    assert at.button(key="runs_compare").disabled and at.button(key="runs_delete").disabled


def test_runs_filters_narrow_the_table(home):
    at = page("runs")
    at.multiselect(key="runs_task").set_value(["digits"]).run()
    assert at.dataframe[0].value["id"].tolist() == [home[3]]
    at.multiselect(key="runs_task").set_value([]).run()
    at.multiselect(key="runs_arch").set_value(["mlp"]).run()
    assert sorted(at.dataframe[0].value["id"]) == sorted([home[0], home[2]])


def test_the_runs_page_says_when_there_are_none_in_chinese(fresh):
    at = page("runs", "zh")
    assert not at.exception
    assert "还没有运行" in at.info[0].value


def select(at, rows):
    """Tick table rows as a reader would (AppTest has no click for dataframe selections)."""
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def test_selecting_one_run_opens_it_with_its_settings_and_results(home):
    at = page("runs")
    row = at.dataframe[0].value["id"].tolist().index(home[0])
    select(at, [row])
    assert not at.exception
    assert any(home[0] in m.value for m in at.markdown)
    assert at.json[0].value and '"hidden"' in at.json[0].value
    assert at.button(key="runs_rerun").disabled is False and at.button(key="runs_compare").disabled


def app_at(name) -> AppTest:
    """The whole app (entry point and navigation) showing app_pages/<name>.py: what st.switch_page needs;
    a browser without a name, whose cookie holds the guest GUEST (the owner of the third run)."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state["guest"] = GUEST
    at.query_params["lang"] = "en"
    at.run()
    return at.switch_page(f"app_pages/{name}.py").run()


def test_compare_opens_the_selected_runs_on_the_compare_page(home):
    at = app_at("runs")
    ids = at.dataframe[0].value["id"].tolist()
    select(at, [ids.index(home[0]), ids.index(home[1])])
    at.button(key="runs_compare").click().run()
    assert not at.exception
    assert sorted(at.session_state["compare_runs"]) == sorted(home[:2])
    assert at.title[0].value == "Compare architectures"
    assert at.selectbox(key="compare_task").value == "moons"


def test_runs_of_two_tasks_cannot_be_compared(home):
    at = page("runs")
    ids = at.dataframe[0].value["id"].tolist()
    select(at, [ids.index(home[0]), ids.index(home[3])])
    assert at.button(key="runs_compare").disabled
    assert any("one task" in c.value for c in at.caption)


def test_run_again_fills_the_train_form_with_the_runs_settings(home):   # its own run: the nameless browser's guest
    at = app_at("runs")
    select(at, [at.dataframe[0].value["id"].tolist().index(home[2])])
    at.button(key="runs_rerun").click().run()
    assert not at.exception
    assert at.session_state["train_task"] == "moons" and at.session_state["train_arch"] == "mlp"
    assert at.session_state["train_model_hidden"] == "8" and at.session_state["train_epochs"] == 3
    assert at.title[0].value == "Train a model"


def test_delete_asks_first_then_removes_the_selected_runs(fresh):
    config = make_config("moons", "linear", ["train.epochs=1"])
    ids = [fresh.create_run(config, owner="Ada") for _ in range(3)]
    for run_id in ids:
        fresh.request_stop(run_id)   # queued -> stopped: finished, so it may be deleted
    at = page("runs")
    rows = at.dataframe[0].value["id"].tolist()
    select(at, [rows.index(ids[0]), rows.index(ids[1])])
    at.button(key="runs_delete").click().run()
    assert len(fresh.list_runs()) == 3                       # nothing gone before the confirmation
    at.button(key="runs_delete_confirm").click().run()
    assert not at.exception
    assert [r.id for r in fresh.list_runs()] == [ids[2]]
    assert any("Deleted 2" in s.value for s in at.success)


# --- what the pages say about the runs ----------------------------------------------

def test_the_leaderboard_shows_the_settings_that_tell_runs_of_one_architecture_apart(home):
    at = page("compare", runs=",".join(home[:3]))
    table = at.dataframe[0].value
    assert table["model.hidden"].tolist() == ["32×32", "–", "8"]      # a linear model has no hidden layers
    assert table["train.epochs"].tolist() == ["2", "2", "3"]


def test_a_comparison_opened_from_the_history_says_the_form_does_not_describe_it(home):
    at = page("compare", runs=",".join(home[:2]))
    assert any("does not describe it" in i.value for i in at.info)


def test_a_comparison_started_from_the_form_has_no_such_note(fresh):
    at = page("compare")
    at.selectbox(key="compare_task").set_value("moons").run()
    at.button(key="compare_start").click().run()
    assert not any("does not describe it" in i.value for i in at.info)
    for run_id in at.session_state["compare_runs"]:
        fresh.request_stop(run_id)


def header_fits(header: str, width: int) -> bool:
    """Whether `width` px shows `header` whole: 7 px a character at the table's font (14 px for CJK), plus padding."""
    import unicodedata

    return width >= 16 + 7 * sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in header)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_leaderboard_header_fits_its_column(home, lang):
    at = page("compare", lang, runs=",".join(home[:3]))
    columns = json.loads(at.dataframe[0].proto.columns)
    shown = {name: c for name, c in columns.items() if c.get("label")}
    assert len(shown) >= 10
    assert all(header_fits(c["label"], c.get("width", 0)) for c in shown.values()), shown


def test_statuses_speak_the_pages_language(home):
    compared = page("compare", "zh", runs=",".join(home[:3]))
    assert compared.dataframe[0].value["status"].tolist() == ["已完成"] * 3
    runs = page("runs", "zh")
    assert set(runs.dataframe[0].value["status"]) == {"已完成"}


def test_after_a_delete_nothing_is_ticked(fresh):
    config = make_config("moons", "linear", ["train.epochs=1"])
    ids = [fresh.create_run(config, owner="Ada") for _ in range(3)]
    for run_id in ids:
        fresh.request_stop(run_id)
    at = page("runs")
    select(at, [0])
    gone = at.dataframe[0].value["id"][0]
    at.button(key="runs_delete").click().run()
    at.button(key="runs_delete_confirm").click().run()
    assert gone not in [r.id for r in fresh.list_runs()] and len(fresh.list_runs()) == 2
    assert at.button(key="runs_delete").disabled                  # no run moved up into the tick
    assert at.button(key="runs_delete").label == "Delete (0)"


def test_a_tick_stays_on_its_run_when_a_filter_moves_it(home):
    at = page("runs")
    ids = at.dataframe[0].value["id"].tolist()
    select(at, [ids.index(home[2])])
    at.multiselect(key="runs_task").set_value(["moons"]).run()
    assert at.dataframe[0].value["id"].tolist().index(home[2]) != ids.index(home[2])   # it moved
    assert any(home[2] in m.value for m in at.markdown)           # and is still the run opened below
    assert not any(r in m.value for m in at.markdown for r in (home[0], home[1]))


def test_runs_started_without_a_name_show_anonymous_in_the_pages_language(fresh):
    fresh.create_run(make_config("moons", "linear"), owner="anonymous")
    at = page("runs", "zh")
    assert at.dataframe[0].value["owner"].tolist() == ["匿名"]


def test_the_owner_filter_narrows_the_table(home):
    at = page("runs")
    at.multiselect(key="runs_owner").set_value(["Ada"]).run()
    assert sorted(at.dataframe[0].value["id"]) == sorted(home[:2])
