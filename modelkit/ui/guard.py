"""The page boundary: an exception a page meets becomes a plain, translated note with a reference.

The traceback goes to the server log under that reference, so the host can look it up;
the participant never sees one, and the server and every other session go on.
"""
from __future__ import annotations

import logging
import secrets
from contextlib import contextmanager

import streamlit as st

from modelkit.ui.i18n import t

log = logging.getLogger("modelkit.pages")


@contextmanager
def page_boundary(where: str):
    """Run a page (or a fragment) so that any exception ends in st.error, not a traceback."""
    try:
        yield
    except Exception:   # Streamlit's own rerun/stop signals are BaseExceptions and pass through
        ref = secrets.token_hex(3)
        log.exception("page error %s in %s", ref, where)
        st.error(t("app.crashed", ref=ref), icon=":material/error:")
