"""The Chinese walk: Train, Compare and Runs in ?lang=zh, a finished run shown, read no English word.

Every text a participant reads on each page (markdown, captions, alerts, widget labels, help and
options, metrics, table cells and headers, chart legends, axes and ticks) is collected from the
headless page and scanned for ASCII words outside an allowed list: numbers and ids, units, names of
architectures, layers, optimizers and devices, and code (a digit, an underscore or a dot inside a word).
"""
import json
import re

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from modelkit import models
from modelkit.config import make_config
from modelkit.data.tasks import TASKS
from modelkit.execution import worker
from modelkit.store import Store

TIMEOUT = 120
OWNER = "学员"
WORD = re.compile(r"[A-Za-z0-9_.]*[A-Za-z][A-Za-z0-9_.]*")   # a word, or code such as hidden.0.act
MARKUP = re.compile(r":[a-z]+(-badge|-background)?\[|:material/[a-z_]+:|\*\*|`|<[^>]*>")   # markdown, html
ALLOWED = {
    # architectures, their parts and training words that stay in English in Chinese texts
    "mlp", "cnn", "rnn", "lstm", "gru", "transformer", "relu", "gelu", "tanh", "softmax", "dropout", "cls",
    "adam", "adamw", "sgd", "rmsprop", "momentum", "nesterov", "mse", "mae", "tf", "onnx", "nan", "inf",
    # devices, units, file formats, names; "out" and "(B, 2)": a layer's name and a shape in the model summary
    "cpu", "cuda", "gpu", "mps", "s", "ms", "kb", "mb", "gb", "csv", "json", "zip", "id", "url",
    "python", "pytorch", "mnist", "apple", "xor", "sigkill", "sigsegv", "utf", "png", "jpeg", "bmp", "gif",
    "modelkit", "torch", "numpy", "curl",
    "chinese", "poetry", "mit",   # the Tang poems' source and its licence, named as they are
    "out", "b", "d", "x", "y", "k", "e", "f", "n", "r",
} | {name.lower() for name in dir(torch.nn) if name[:1].isupper()}   # layer types in model summaries


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    """A store with two finished moons runs (an MLP and a linear baseline), trained in this process."""
    home = tmp_path_factory.mktemp("home")
    store = Store(home=home)
    ids = []
    for arch in ("mlp", "linear"):
        run_id = store.create_run(make_config("moons", arch, ["train.epochs=3"]), owner=OWNER, queued=False)
        worker.execute_run(store, run_id)
        ids.append(run_id)
    assert [store.get_run(i).status for i in ids] == ["completed", "completed"]
    return home, ids


@pytest.fixture
def runs(finished_runs, monkeypatch):
    home, ids = finished_runs
    monkeypatch.setenv("MODELKIT_HOME", str(home))
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    yield ids
    st.cache_resource.clear()


def page(name, **query) -> AppTest:
    at = AppTest.from_file(f"../app_pages/{name}.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = "zh"
    at.session_state["seat"] = {"name": OWNER, "secret": ""}   # as the sidebar's name field sets it
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


# --- what a participant reads -------------------------------------------------------

TEXT_ELEMENTS = {"markdown", "caption", "title", "header", "subheader", "text", "alert", "info", "warning",
                 "error", "success", "exception", "metric", "expandable", "tab"}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _plotly_texts(spec: str) -> list[str]:
    """Trace names, category labels and hover texts, titles, tick labels and annotations of a figure."""
    figure, found = json.loads(spec), []
    for trace in figure.get("data", []):
        for field in ("name", "x", "y", "text", "labels"):
            found += _strings(trace.get(field))
    layout = figure.get("layout", {})
    for name, axis in layout.items():
        if isinstance(axis, dict):
            title = axis.get("title")
            found += _strings(title.get("text") if isinstance(title, dict) else title)
            found += _strings(axis.get("ticktext"))
    found += [a.get("text", "") for a in layout.get("annotations", [])]
    return found


def _table_texts(node) -> list[str]:
    frame = node.value
    found = [v for c in frame.columns for v in frame[c].dropna() if isinstance(v, str)]
    columns = json.loads(node.proto.columns or "{}")
    return found + [c.get("label", "") for c in columns.values() if isinstance(c, dict)]


def rendered_text(at) -> list[str]:
    texts = []
    for node in at.main:
        kind = getattr(node, "type", "")
        if kind == "plotly_chart":
            texts += _plotly_texts(node.proto.spec)
        elif kind == "dataframe":
            texts += _table_texts(node)
        elif kind in ("code", "json"):
            continue   # generated text and settings as code
        else:
            for attr in ("label", "help", "placeholder", "options") + (("value",) if kind in TEXT_ELEMENTS else ()):
                try:
                    texts += _strings(getattr(node, attr, None))
                except Exception:   # an element without that part
                    pass
            if kind == "progress":
                texts.append(node.proto.text)
    return texts


def english_words(texts) -> list[str]:
    found = set()
    for text in texts:
        for word in (w.rstrip(".") for w in WORD.findall(MARKUP.sub(" ", text))):
            if word.lower() not in ALLOWED and not re.search(r"[\d_.]", word):   # digits, _ or . inside: code
                found.add(f"{word} ({text[:60]!r})")
    return sorted(found)


# --- the three pages ----------------------------------------------------------------

def test_the_train_page_shows_a_finished_run_without_english(runs):
    at = page("train", run=runs[0])
    assert not at.exception
    assert any(runs[0] in str(v) for v in at.query_params.values()) or at.session_state["train_run"] == runs[0]
    assert english_words(rendered_text(at)) == []


def test_the_compare_page_shows_two_finished_runs_without_english(runs):
    at = page("compare", runs=",".join(runs))
    assert not at.exception
    assert at.session_state["compare_runs"] == runs
    assert english_words(rendered_text(at)) == []


def test_the_runs_page_shows_a_selected_run_without_english(runs):
    at = page("runs")
    row = at.dataframe[0].value["id"].tolist().index(runs[0])
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert english_words(rendered_text(at)) == []


def test_the_train_form_of_every_task_and_architecture_reads_no_english(monkeypatch):
    monkeypatch.setenv("MODELKIT_WORKERS", "1")
    st.cache_resource.clear()
    at, found = page("train"), {}
    for task in TASKS:
        at.selectbox(key="train_task").set_value(task).run()
        for arch in models.archs_for(task):
            at.selectbox(key="train_arch").set_value(arch).run()
            words = english_words(rendered_text(at))
            if words or at.exception:
                found[f"{task}/{arch}"] = words or at.exception
    st.cache_resource.clear()
    assert found == {}


def test_the_scan_finds_an_english_word():
    assert english_words(["训练 :green-badge[completed] 已完成", "学习率 0.003 · MLP · 20261129-a3f9"]) == [
        "completed ('训练 :green-badge[completed] 已完成')"]
