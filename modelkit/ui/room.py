"""Who is acting in this browser session: a participant by name, or the host once unlocked with the key.

`actor()` is what pages pass to the engine as `by` (None: the host may do everything);
`host_unlock()` is the sidebar's key field; `seen()` keeps who is here for the Host page.
"""
from __future__ import annotations

import time

import streamlit as st

from modelkit import room
from modelkit.ui.i18n import t
from modelkit.ui.live import duration
from modelkit.ui.resources import get_runner, get_store

HOST_KEY = "host_unlocked"        # session state: this session typed the right key
ANONYMOUS = "web"                 # the owner of runs started without a name
HERE_FOR_S = 300.0                # a participant not seen for this long has left the room


@st.cache_resource(show_spinner=False)
def announced_key() -> str:
    """The host key, written to the server log once per server start."""
    return room.announce_host_key()


def is_host() -> bool:
    return bool(st.session_state.get(HOST_KEY))


def participant() -> str:
    return (st.session_state.get("participant") or "").strip() or ANONYMOUS


def actor() -> str | None:
    """`by` for the engine: None for the host, else the participant's name."""
    return None if is_host() else participant()


def _check_key():
    if room.is_host_key(st.session_state.get("host_key_input")):
        st.session_state[HOST_KEY] = True
    else:
        st.session_state["host_key_refused"] = True
    st.session_state["host_key_input"] = ""


def host_unlock():
    """The sidebar's Host field: the key opens the Host page for this session."""
    announced_key()
    if is_host():
        st.caption(t("room.host_on"))
        return
    with st.expander(t("room.host"), icon=":material/key:"):
        st.text_input(t("room.host_key"), key="host_key_input", type="password", on_change=_check_key,
                      help=t("help.host_key"))
        if st.session_state.pop("host_key_refused", False):
            st.caption(f":red[{t('room.host_key_wrong')}]")


@st.cache_resource(show_spinner=False)
def _presence() -> dict:
    return {}


def seen():
    """Note that this session's participant is here now (called on every page run)."""
    _presence()[participant()] = time.time()


def here() -> list[str]:
    """Participants seen within the last few minutes, by name."""
    now = time.time()
    return sorted(name for name, last in list(_presence().items()) if now - last < HERE_FOR_S)


def queue_note(run):
    """Under a queued run: its place in the room's queue and about how long until it starts."""
    if run.status != "queued" or not run.queue_position:
        return
    wait = room.estimate_wait(get_store(), run.queue_position, len(get_runner().workers()) or 1)
    st.caption(t("room.queue_wait", n=run.queue_position, time=duration(wait)), help=t("help.fair_queue"))
