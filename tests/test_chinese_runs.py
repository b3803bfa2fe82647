"""No English on Chinese pages (issue 24, items 5 and 10): a paused run, a run cut by its time limit, a run the
host stopped and a finished run's Look inside read in Chinese, layers in words rather than `hidden.0`,
`blocks.1` or `out`."""
import re

import pytest
import streamlit as st

from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store
from modelkit.text import translate
from tests.test_chinese_pages import OWNER, english_words, page, rendered_text

LAYER_CODE = re.compile(r"\b(hidden|blocks|out|rnn|embed)(\.\d+)?\b")


@pytest.fixture
def store(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MODELKIT_WORKERS", "0")   # nothing picks the paused run up: it stays as it is
    st.cache_resource.clear()
    yield Store()
    st.cache_resource.clear()


def test_a_paused_run_reads_paused_in_chinese(store):
    run_id = store.create_run(make_config("moons", "mlp"), owner=OWNER, queued=False)
    store.mark_started(run_id, "cpu", 1000)
    store.set_paused(run_id, True)
    at = page("train", run=run_id)
    assert not at.exception
    texts = rendered_text(at)
    assert any(translate("zh", "badge.paused") in x for x in texts)
    assert not any(translate("zh", "status.running") in x for x in texts)
    assert english_words(texts) == []


def test_a_run_cut_by_its_time_limit_and_its_layers_read_in_chinese(store):
    config = make_config("moons", "mlp", ["train.epochs=100000", "train.time_budget=1"])
    run_id = store.create_run(config, owner=OWNER, queued=False)
    worker.execute_run(store, run_id)
    at = page("train", run=run_id)
    assert not at.exception
    texts = rendered_text(at)
    assert any(translate("zh", "badge.time_limit") in x for x in texts)
    assert any("100000 轮" in x for x in texts)
    assert english_words(texts) == []
    assert [x for x in texts if LAYER_CODE.search(x)] == []


def test_a_run_the_host_stopped_reads_so_in_chinese(store):
    run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=1000"]), owner=OWNER, queued=False)
    store.request_stop(run_id)   # the host (the Host page, the CLI) asks: by None
    worker.execute_run(store, run_id)
    at = page("train", run=run_id)
    assert not at.exception
    texts = rendered_text(at)
    assert any(translate("zh", "badge.host_stopped") in x for x in texts)
    assert english_words(texts) == []
