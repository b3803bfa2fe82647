"""The loss tab follows the example (issue 24, item 6): the probability slider starts at the picked
example's own probability, moves when the example changes, and the threshold block is about the class
picked above it."""
import numpy as np
import pytest

from modelkit import inside
from modelkit.config import make_config
from modelkit.execution import worker
from modelkit.store import Store


def trained(task, epochs):
    store = Store()
    run_id = store.create_run(make_config(task, "mlp", [f"train.epochs={epochs}"]), queued=False)
    worker.execute_run(store, run_id)
    return store, run_id


def inside_page(run_id, parts):
    import streamlit as st

    from modelkit.config import RunConfig
    from modelkit.ui.inside_view import inside_section
    from modelkit.ui.resources import get_store

    st.session_state["lang"] = "en"
    run = get_store().get_run(run_id)
    inside_section(run, RunConfig.from_dict(run.config), parts=parts, key="k")


def right_probability(store, run_id, example) -> float:
    look = inside.forward(inside.load(store, run_id), example)
    return round(float(np.clip(look["probabilities"][int(look["target"])], 0.01, 1)), 2)


def test_the_probability_slider_starts_at_each_examples_own_probability(app_resources):
    from streamlit.testing.v1 import AppTest

    store, run_id = trained("moons", 1)   # one epoch: the examples' probabilities still differ
    probabilities = [right_probability(store, run_id, i) for i in range(20)]
    first, other = 0, next(i for i, p in enumerate(probabilities) if abs(p - probabilities[0]) >= 0.05)
    at = AppTest.from_function(inside_page, args=(run_id, ["loss"]), default_timeout=90).run()
    assert not at.exception
    assert at.slider(key="k_p").value == pytest.approx(probabilities[first])
    at.number_input(key="k_example").set_value(other).run()
    assert at.slider(key="k_p").value == pytest.approx(probabilities[other])
    assert all(not m.value.startswith("-") for m in at.metric)


def test_the_threshold_block_is_about_the_class_picked_above_it(app_resources):
    from streamlit.testing.v1 import AppTest

    store, run_id = trained("breast_cancer", 2)
    at = AppTest.from_function(inside_page, args=(run_id, ["metrics"]), default_timeout=90).run()
    assert not at.exception
    for c, name in enumerate(["malignant", "benign"]):
        at.selectbox(key="k_metric_class").set_value(c).run()
        said = " ".join(x.value for x in at.caption if "threshold" in x.value)
        assert f"**{name}**" in said
        recall = at.metric[1].value   # the picked class's recall above, the threshold block's at 0.5 below
        assert at.metric[3].value == recall
