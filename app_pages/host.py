"""Host: the workshop host's room: who is here, the queue, the class leaderboard, challenges, limits."""
from __future__ import annotations

import streamlit as st

from modelkit.ui import room
from modelkit.ui.i18n import t

if not room.is_host():   # reached by URL without the key: nothing to see
    st.warning(t("host.locked"))
    st.stop()
st.title(t("host.title"))
st.caption(t("host.subtitle"))
