"""Runs that read apart (issue 24, items 10 and 14): a run is named when it is shown, in the reader's language,
by what differs from its participant's previous run, a repeat numbered; the CLI's `runs` keeps columns apart."""
import re

import pytest

from modelkit.cli import main
from modelkit.config import make_config
from modelkit.data import uploads
from modelkit.store import Store
from modelkit.text import translate
from tests.test_own_columns import penguins_csv


def titles_in(lang, runs):
    """labels.run_titles as a page in `lang` computes it."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def page(ids, lang):
        import streamlit as st

        from modelkit.store import Store
        from modelkit.ui import labels

        st.session_state["lang"] = lang
        names = labels.run_titles(Store().list_runs())
        for run_id in ids:
            st.text(names[run_id])

    st.cache_resource.clear()
    at = AppTest.from_function(page, args=(runs, lang), default_timeout=60).run()
    assert not at.exception
    return [x.value for x in at.text]


@pytest.fixture
def three_runs():
    store = Store()
    first = store.create_run(make_config("moons", "mlp", ["train.epochs=5000"]), owner="ana", queued=False)
    again = store.create_run(make_config("moons", "mlp", ["train.epochs=5000"]), owner="ana", queued=False)
    faster = store.create_run(make_config("moons", "mlp", ["train.epochs=5000", "train.lr=0.03"]), owner="ana",
                              queued=False)
    other = store.create_run(make_config("moons", "mlp", ["train.epochs=5000"]), owner="ben", queued=False)
    return [first, again, faster, other]


def test_runs_are_named_by_what_differs_from_the_previous_one_and_repeats_are_numbered(three_runs):
    first, again, faster, other = titles_in("en", three_runs)
    assert first == "Moons · MLP (deep network) · Epochs 5000"
    assert again == first + " · #2"
    assert faster.startswith("Moons · MLP (deep network) · ") and "0.03" in faster and "Epochs" not in faster
    assert other == first   # another participant's first run of those settings


def test_the_same_runs_read_in_chinese_when_the_page_is_chinese(three_runs):
    first, again, faster, _ = titles_in("zh", three_runs)
    assert translate("zh", "task.moons.title") in first and "Moons" not in first and "Epochs" not in first
    assert again.endswith("第 2 次") and "0.03" in faster


def test_the_clis_runs_table_keeps_every_column_apart(capsys):
    ds = uploads.add_table(penguins_csv(), "penguins.csv", target="species")
    run_id = Store().create_run(make_config(ds.task, "mlp"), owner="a-participant-with-a-long-name", queued=False)
    assert main(["runs"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    cells = re.split(r"\s{2,}", row.strip())
    assert (cells[0], cells[2], cells[3]) == (run_id, ds.task, "mlp")
    assert "a-participant-with-a-long-name".startswith(cells[4])
    assert [header.index(h) for h in ("task", "arch")] == [row.index(ds.task), row.index("mlp", row.index(ds.task))]


@pytest.fixture
def sweep_runs():
    """A 2-cell sweep over the learning rate, started from an English page: it stores its group, not a name."""
    from modelkit.compare import sweep
    from modelkit.config import RunConfig

    base = RunConfig.from_dict({**make_config("moons", "mlp").to_dict(), "group": {"kind": "sweep", "at": 1_700_000_000}})
    store = Store()
    return [store.create_run(c, owner="ana", queued=False) for c in sweep.expand(base, {"train.lr": [0.01, 0.1]})]


def test_a_sweeps_runs_are_named_by_the_setting_they_vary_and_their_group(sweep_runs):
    low, high = titles_in("en", sweep_runs)
    assert low.startswith("Moons · MLP (deep network) · Learning rate 0.01 · sweep ")
    assert "Learning rate 0.1 · sweep" in high


def test_a_sweep_started_in_english_reads_in_chinese_on_a_chinese_page(sweep_runs):
    low, high = titles_in("zh", sweep_runs)
    assert translate("zh", "field.train.lr") in low and "参数扫描" in high
    assert not re.search(r"\b(sweep|Learning|Moons|lr)\b", low + high)
