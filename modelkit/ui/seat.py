"""Who acts in this browser session: a participant in their seat, or the host; and the one way pages
submit runs and ask whether a control is theirs.

    seat.restore()                  # app.py, before the navigation: the host's cookie, the link's seat
    seat.name_field()               # the sidebar's name: takes a seat, or says in place that it is taken
    seat.host_field()               # the sidebar's host key (throttled), or host mode and its way out
    seat.submit(configs, challenge) # every page's runs, through the one door (modelkit.room.door)
    seat.refusal(run, "pause")      # None, or why the engine would refuse this session that control
    seat.seen_store().list_runs()   # the runs as this session may see them (modelkit.room.gallery.visible)

A seat lives in the session and in the participant's own link (?who=ana&seat=<secret>), so the same
person gets it back after a reload or on another device. The host key is never put in a URL or a page:
the browser that typed it gets a token in a cookie instead, valid until it leaves host mode.
"""
from __future__ import annotations

import json
import math
import time

import streamlit as st

from modelkit import room
from modelkit.config import ConfigError
from modelkit.ui.forms import error_text
from modelkit.ui.i18n import t
from modelkit.ui.labels import GUEST_STATE, SEAT_STATE, session_owner
from modelkit.ui.resources import get_runner, get_store

SEAT = SEAT_STATE                 # session state: {"name": ..., "secret": ...} once seated, else None
NAME_KEY = "participant"          # the sidebar's name field
NAME_REFUSED = "name_refused"     # the ConfigError of the last name typed, shown under the field
HOST_KEY = "host_unlocked"        # session state: this session is the host
HOST_TOKEN = "host_token"         # the token in this browser's cookie
COOKIE_DUE = "host_cookie_due"    # the cookie to write on this run: the token, or "" to clear it
GUEST_DUE = "guest_cookie_due"    # a new guest's secret, to keep in this browser's cookie
KEY_TRIES = "host_key_tries"      # (wrong keys typed, not before this time may it try again)


def is_host() -> bool:
    return bool(st.session_state.get(HOST_KEY))


participant = session_owner       # the owner this session's runs are stored with: its seat's name, or anonymous


def actor() -> str | None:
    """`by` for the engine: None for the host, else the participant."""
    return None if is_host() else participant()


def submit(configs: list, challenge: str | None = None) -> list[str]:
    """Queue `configs` as one group for this session (ConfigError: the door's refusal, for the page to show)."""
    return get_runner().submit_all(list(configs), owner=participant(), by=actor(), challenge=challenge)


def seen_store():
    """The store as this session reads runs (modelkit.room.gallery.Seen): another participant's shared model
    comes without its settings until the host reveals them; the host sees every run whole."""
    return room.gallery.Seen(get_store(), actor())


def refusal(run, action: str) -> str | None:
    """Why the engine would refuse this session `action` on `run`, in its language; None if it would not."""
    refused = room.actions.refusal(get_store(), run, action, actor())
    return None if refused is None else error_text(refused)


# --- the session's first run: who it is -----------------------------------------------------

def restore():
    """Once a session: the host again if this browser holds a host token; the seat its link names; the
    browser's guest (who owns the runs it starts without a name), from its cookie or new."""
    if GUEST_STATE not in st.session_state:
        kept = st.context.cookies.get(room.GUEST_COOKIE)
        if room.guest_owner(kept) is None:
            kept = st.session_state[GUEST_DUE] = room.new_guest()
        st.session_state[GUEST_STATE] = kept
    if HOST_KEY not in st.session_state:
        token = st.context.cookies.get(room.HOST_COOKIE)
        st.session_state[HOST_KEY] = room.is_host_session(get_store(), token)
        st.session_state[HOST_TOKEN] = token if st.session_state[HOST_KEY] else None
    if SEAT not in st.session_state:
        st.session_state[SEAT] = None
        if st.query_params.get("who"):
            sit(st.query_params["who"], st.query_params.get("seat"))
        st.session_state[NAME_KEY] = participant() if st.session_state[SEAT] else ""


def sit(name: str, secret: str | None = None):
    """Take (or take back, with its secret) the seat `name`; a refusal waits under the name field."""
    st.session_state.pop(NAME_REFUSED, None)
    if not room.seats.written(name):
        st.session_state[SEAT] = None
        return
    held = st.session_state.get(SEAT)
    if held and room.seat_key(held["name"]) == room.seat_key(name):
        secret = held["secret"]   # the same name typed again: the same seat
    try:
        seat, secret = room.claim(get_store(), name, secret)
    except ConfigError as err:
        st.session_state[NAME_REFUSED] = err
        st.session_state[SEAT] = None
        return
    st.session_state[SEAT] = {"name": seat.name, "secret": secret}


def _on_name():
    sit(st.session_state.get(NAME_KEY, ""))
    st.session_state[NAME_KEY] = participant() if st.session_state[SEAT] else ""


def name_field():
    """The sidebar's name field; the seat (name and secret) kept in the URL, so the link brings it back."""
    st.text_input(t("app.name"), key=NAME_KEY, placeholder=t("app.name_placeholder"), help=t("help.participant"),
                  max_chars=room.seats.MAX_NAME, on_change=_on_name)
    refused = st.session_state.get(NAME_REFUSED)
    if refused is not None:
        st.warning(error_text(refused), icon=":material/person_off:")
    seat = st.session_state.get(SEAT)
    if seat:
        st.caption(t("app.seat_kept"))
        st.query_params.update(who=seat["name"], seat=seat["secret"])
    else:
        for name in ("who", "seat"):
            if name in st.query_params:
                del st.query_params[name]


# --- the host ---------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _room_guard() -> room.RoomKeyGuard:
    return room.RoomKeyGuard()


def key_wait() -> float:
    """Seconds until this session may try a key again: its own wrong tries, and the server's."""
    now = time.time()
    return max(st.session_state.get(KEY_TRIES, (0, 0.0))[1] - now, _room_guard().wait(now))


def _check_key():
    typed = st.session_state.get("host_key_input") or ""
    st.session_state["host_key_input"] = ""
    if key_wait() > 0:   # still waiting: the key is not even compared
        return
    if room.is_host_key(typed):
        token = room.open_host_session(get_store())
        st.session_state.update({HOST_KEY: True, HOST_TOKEN: token, COOKIE_DUE: token, KEY_TRIES: (0, 0.0)})
    else:
        wrong = st.session_state.get(KEY_TRIES, (0, 0.0))[0] + 1
        st.session_state[KEY_TRIES] = (wrong, time.time() + room.key_wait(wrong))
        _room_guard().wrong(time.time())
        st.session_state["host_key_refused"] = True


def _leave_host():
    room.close_host_session(get_store(), st.session_state.get(HOST_TOKEN))
    st.session_state.update({HOST_KEY: False, HOST_TOKEN: None, COOKIE_DUE: ""})


def _write_cookie(name: str, value: str):
    """Keep (or with "" clear) a cookie in this browser for its reloads and new tabs: the host token, or a
    guest's secret (for a year)."""
    age = "; max-age=31536000" if value and name == room.GUEST_COOKIE else "" if value else "; max-age=0"
    st.html(f"<script>document.cookie = {json.dumps(f'{name}={value}; path=/; SameSite=Strict{age}')};"
            "</script>", unsafe_allow_javascript=True, width="content")


def host_field():
    """The sidebar's Host field: the key opens host mode for this browser; wrong keys make it wait."""
    if COOKIE_DUE in st.session_state:
        _write_cookie(room.HOST_COOKIE, st.session_state.pop(COOKIE_DUE))
    if GUEST_DUE in st.session_state:
        _write_cookie(room.GUEST_COOKIE, st.session_state.pop(GUEST_DUE))
    if is_host():
        st.caption(t("room.host_on"))
        st.button(t("room.host_leave"), key="host_leave", icon=":material/logout:", on_click=_leave_host)
        return
    wait = key_wait()
    with st.expander(t("room.host"), icon=":material/key:", expanded=wait > 0):
        st.text_input(t("room.host_key"), key="host_key_input", type="password", on_change=_check_key,
                      help=t("help.host_key"), disabled=wait > 0)
        if wait > 0:
            st.caption(t("room.host_key_wait", s=math.ceil(wait)))
        elif st.session_state.pop("host_key_refused", False):
            st.caption(t("room.host_key_wrong"))


# --- controls shared by the pages ------------------------------------------------------------

def _stop_each(run_ids: list[str]):
    for run_id in run_ids:
        get_runner().stop(run_id, by=actor())


def stop_all_button(runs, key: str):
    """Stop every active run of `runs` this session may stop (its own; all for the host); shown
    disabled, with the reason, when it may stop none of them."""
    active = [r for r in runs if r.active]
    if not active:
        return
    mine = [r.id for r in active if refusal(r, "stop") is None]
    st.button(t("compare.stop_all"), key=key, icon=":material/stop:", on_click=_stop_each, args=(mine,),
              disabled=not mine, help=None if mine else refusal(active[0], "stop"))
