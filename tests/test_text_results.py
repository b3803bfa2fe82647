"""Text results in words (issue 24, item 7): a sentence says plainly whether the model beats guessing by letter
frequency, and the numbers beside each other are written alike."""
import re

import pytest

from modelkit.config import make_config
from modelkit.data import uploads
from modelkit.execution import worker
from modelkit.store import Store
from modelkit.training.metrics import against_baseline
from modelkit.ui import labels

TEXT = "".join(f"Day {i}: the heron stood in the reeds and waited for a fish.\n" for i in range(120))


@pytest.mark.parametrize("ppl, base, verdict", [(2666.0, 33.1, "worse"), (12.0, 33.1, "better"), (33.5, 33.1, "same")])
def test_a_perplexity_is_judged_against_the_letter_frequency_guess(ppl, base, verdict):
    said, times = against_baseline(ppl, base)
    assert said == verdict and times >= 1
    assert times == pytest.approx(max(ppl / base, base / ppl)) or verdict == "same"


def test_numbers_side_by_side_keep_three_significant_figures():
    for value in (2666.4, 33.14, 0.123456, 0.00123456, 7.0):
        digits = re.sub(r"[^0-9]", "", labels.format_metric("test_perplexity", value)).lstrip("0")
        assert len(digits) >= 3
    assert labels.format_metric("test_mse", -0.0) == "0"


def results_page(run_id, lang):
    import streamlit as st

    from modelkit.ui import results
    from modelkit.ui.resources import get_store

    st.session_state["lang"] = lang
    run = get_store().get_run(run_id)
    results.test_metrics(run, "lm")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_finished_text_run_says_in_words_how_it_compares_with_letter_frequencies(lang, app_resources):
    from streamlit.testing.v1 import AppTest

    from modelkit.text import translate

    ds = uploads.add_text(TEXT.encode(), "heron.txt")
    store = Store()
    config = make_config(ds.task, "gru", ["model.hidden_size=16", "train.time_budget=2", "train.epochs=1"])
    run_id = store.create_run(config, queued=False)
    worker.execute_run(store, run_id)
    metrics = store.get_run(run_id).metrics
    verdict, _ = against_baseline(metrics["test_perplexity"], metrics["test_baseline_perplexity"])
    at = AppTest.from_function(results_page, args=(run_id, lang), default_timeout=60).run()
    assert not at.exception
    sentence = translate(lang, f"results.lm_{verdict}").split("**")[1]   # its bold opening words
    assert any(sentence in m.value for m in at.markdown)
