"""Sweep and scale say what is true (issue 24, item 11): no "best cell" while runs of the grid still train,
and a sweep's budget line speaks of runs, not of architectures."""
import pytest

from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store
from modelkit.text import translate


def sweep_page(run_ids, lrs):
    import streamlit as st

    from modelkit.ui import sweep_view

    st.session_state["lang"] = "en"
    st.session_state[sweep_view.SWEEP_KEY] = {"runs": run_ids, "values": {"train.lr": lrs}}
    sweep_view.sweep_panel()


@pytest.mark.parametrize("still_training", [True, False])
def test_the_best_cell_is_announced_only_once_every_run_has_finished(still_training, app_resources):
    from streamlit.testing.v1 import AppTest

    store, lrs, ids = Store(), [0.01, 0.1], []
    for lr in lrs:
        run_id = store.create_run(make_config("moons", "mlp", ["train.epochs=2", f"train.lr={lr}"]), queued=False)
        worker.execute_run(store, run_id)
        ids.append(run_id)
    if still_training:
        ids.append(store.create_run(make_config("moons", "mlp", ["train.epochs=2", "train.lr=1.0"]), queued=False))
        store.mark_started(ids[-1], "cpu", 100)
        lrs = [*lrs, 1.0]
    at = AppTest.from_function(sweep_page, args=(ids, lrs), default_timeout=90).run()
    assert not at.exception
    best = translate("en", "sweep.best").split(":")[0]
    so_far = translate("en", "sweep.best_so_far").split(":")[0]
    said = [x.value for x in [*at.success, *at.info]]
    assert any(s.startswith(so_far if still_training else best) for s in said)
    assert not any(s.startswith(best if still_training else so_far) for s in said)
    filled = 2 if still_training else len(lrs)   # the heatmap in words: how many cells are in
    assert any(f"in {filled} of {len(lrs)} cells" in c.value for c in at.caption)
    assert [e.table[0].value.shape for e in at.expander] == [(1, len(lrs))]


def test_a_sweeps_budget_line_speaks_of_runs_not_architectures(app_resources):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app_pages/compare.py", default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.session_state["compare_mode"] = "sweep"
    at.run()
    captions = [c.value for c in at.caption]
    assert translate("en", "compare.budget_caption_runs") in captions
    assert translate("en", "compare.budget_caption") not in captions
