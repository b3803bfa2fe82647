"""Gallery: the models participants shared, to open and try on your own input; and sharing your own."""
from __future__ import annotations

import streamlit as st

from modelkit.ui import gallery_view
from modelkit.ui.i18n import t

st.title(t("gallery.title"))
st.caption(t("gallery.subtitle"))
with st.expander(t("gallery.share_title"), icon=":material/share:"):
    gallery_view.share_form()
gallery_view.shelf()
