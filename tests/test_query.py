"""Links: a settings URL rebuilds the form, stays short with own text, and a page error becomes a note."""
import logging

from streamlit.testing.v1 import AppTest

from modelkit.config import make_config
from modelkit.ui.query import TEXT_REF, config_from_query, config_to_query


def test_a_link_rebuilds_the_config():
    config = make_config("digits", "cnn", ["train.lr=0.01", "model.channels=[8,16]"])
    query = config_to_query(config)
    assert query["train.lr"] == "0.01" and query["model.channels"] == "[8, 16]"
    assert config_from_query(query).to_dict() == config.to_dict()


def test_own_text_travels_by_reference_and_the_link_stays_short():
    text = "我们的文本，" * 2000 + "and some English too. " * 500
    config = make_config("text", "transformer", base={"task": {"text": text}})
    query = config_to_query(config)
    assert "task.text" not in query and len(query[TEXT_REF]) == 16
    assert sum(len(k) + len(v) for k, v in query.items()) < 300
    assert config_from_query(query).task.text == text


def test_a_link_to_a_text_this_server_does_not_keep_is_refused_naming_the_text():
    import pytest

    from modelkit.config import ConfigError

    with pytest.raises(ConfigError) as err:
        config_from_query({"task": "text", "arch": "transformer", TEXT_REF: "0123456789abcdef"})
    assert (err.value.path, err.value.code) == ("task.text", "text_missing")


def _page_that_fails():
    import streamlit as st

    from modelkit.ui.guard import page_boundary

    st.session_state["lang"] = "zh"
    with page_boundary("test"):
        st.write("before")
        raise RuntimeError("can't allocate memory")


def test_an_exception_in_a_page_becomes_a_translated_note_with_a_reference(caplog):
    caplog.set_level(logging.ERROR, logger="modelkit.pages")
    at = AppTest.from_function(_page_that_fails).run()
    assert not at.exception
    note = at.error[0].value
    assert note.startswith("这个页面出了点问题") and "allocate" not in note
    ref = note.rsplit("：", 1)[1].rstrip("。")
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)
