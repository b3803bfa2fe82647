"""An uploaded text described as itself (issue 24, item 4): its own name and length, its own beginning in the
preview, Markdown and reStructuredText accepted, and a form that starts on a network rather than the baseline."""
import pytest

from modelkit.config import make_config
from modelkit.data import uploads

NOTES = "# Field notes\n\n" + "".join(f"Day {i}: the heron stood in the reeds and waited for a fish.\n"
                                       for i in range(60))


@pytest.fixture
def notes():
    return uploads.add_text(NOTES.encode("utf-8"), "notes.md")


def test_an_uploaded_text_is_described_by_its_file_and_length_not_as_the_built_in_one(notes):
    from modelkit.ui import labels

    source = labels.text_source(make_config(notes.task, "gru").task)
    assert "notes.md" in source and f"{len(NOTES):,}" in source and "Python" not in source


def preview_page(task):
    import streamlit as st

    from modelkit.config import make_config
    from modelkit.ui import task_views

    st.session_state["lang"] = "en"
    task_views.show_preview(make_config(task, "gru").task)


def test_the_preview_shows_the_text_as_it_begins(notes, app_resources):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(preview_page, args=(notes.task,), default_timeout=60).run()
    assert not at.exception
    shown = at.code[0].value
    assert NOTES.startswith(shown) and len(shown) > 200


def test_the_upload_panel_takes_markdown_and_restructured_text(app_resources):
    from streamlit.testing.v1 import AppTest

    def panel():
        import streamlit as st

        from modelkit.ui.upload import upload_panel

        st.session_state["lang"] = "en"
        upload_panel("t")

    at = AppTest.from_function(panel, default_timeout=60).run()
    accepted = list(at.get("file_uploader")[0].proto.type)
    assert {".txt", ".md", ".rst"} <= set(accepted)


def test_choosing_an_uploaded_text_starts_the_form_on_a_network_not_the_linear_baseline(notes, app_resources):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert at.selectbox(key="train_arch").value == "mlp"   # moons: the default pair
    at.selectbox(key="train_task").set_value(notes.task).run()
    assert not at.exception
    assert at.selectbox(key="train_arch").value not in ("linear", "mlp")
