"""The session's language: every visible string comes from assets/i18n/<lang>.json through `t`.

The tables themselves are read by modelkit.text (the CLI uses them too). The
language lives in st.session_state["lang"] and in the URL (?lang=zh); a first
visit follows the browser's locale.
"""
from __future__ import annotations

import streamlit as st

from modelkit.text import DEFAULT, LANGUAGES, table, translate  # noqa: F401  (the pages import them from here)


def language_from_locale(locale: str | None) -> str:
    """'zh-CN', 'zh-Hans', 'zh' -> zh; anything else -> en."""
    code = (locale or "").replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT


def current() -> str:
    return st.session_state.get("lang", DEFAULT)


def has(key: str, lang: str | None = None) -> bool:
    return key in table(lang or current())


def t(key: str, **fmt) -> str:
    """The text for `key` in the session's language, formatted with `fmt`."""
    return translate(current(), key, **fmt)


def bound():
    """`t` fixed to the session's current language, for format_func callbacks that run outside the script."""
    lang = current()
    return lambda key, **fmt: translate(lang, key, **fmt)


def choice_labeler(field: str):
    """format_func for a choice widget: 'sgd' -> its display name; technical names without a key stay as they are."""
    tl = bound()
    return lambda value: tl(f"choice.{field}.{value}") if has(f"choice.{field}.{value}", DEFAULT) else str(value)


def redraw_choice_labels():
    """on_change of the language select: make every select show its option labels in the new language.

    Streamlit knows a keyed widget by its key alone, so after a language switch the browser keeps
    showing the old label of the chosen option until the server sends the value again. Assigning each
    text value (and list of texts: multiselects) back to its key sends it. Buttons (booleans), uploads
    and chart selections, which may not be assigned, never hold such values in a language-switch rerun;
    empty (None) values are left alone for the same reason, so forms avoid None as a choice.
    """
    for key in list(st.session_state):
        value = st.session_state[key]
        if isinstance(value, str) or (isinstance(value, (list, tuple)) and value
                                      and all(isinstance(v, str) for v in value)):
            st.session_state[key] = value


def init_language() -> str:
    """Set the session language from ?lang=, else from the browser's locale; keep it in the URL."""
    if "lang" not in st.session_state:
        asked = st.query_params.get("lang")
        st.session_state["lang"] = asked if asked in LANGUAGES else language_from_locale(st.context.locale)
    if st.query_params.get("lang") != st.session_state["lang"]:
        st.query_params["lang"] = st.session_state["lang"]
    return st.session_state["lang"]
