"""A page with only the use sections of one run (?run=ID), for the browser test of the drawing canvas."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from modelkit.config import RunConfig  # noqa: E402
from modelkit.ui.i18n import init_language  # noqa: E402
from modelkit.ui.resources import get_store  # noqa: E402
from modelkit.ui.use import use_sections  # noqa: E402

st.set_page_config(layout="wide")
init_language()
run = get_store().get_run(st.query_params.get("run", ""))
if run is None:
    st.error("no such run")
else:
    use_sections(run, RunConfig.from_dict(run.config))
