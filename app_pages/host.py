"""Host: the workshop host's room: who is here, the queue, the class leaderboard, challenges, limits, join link."""
from __future__ import annotations

import streamlit as st

from modelkit import room
from modelkit.compare import race
from modelkit.ui import challenge, lesson_view, room_view
from modelkit.ui.i18n import bound, t
from modelkit.ui.resources import get_store
from modelkit.written import csv_bytes, literal

LIVE_EVERY_S = 3.0


def boards(store) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
    """Leaderboard choices, "challenge:<id>" and "task:<name>" -> (task, challenge id or None), and their labels."""
    tl = bound()
    out = {f"challenge:{c.id}": (c.task, c.id) for c in store.list_challenges()}
    out.update({f"task:{task}": (task, None) for task in sorted({r.task for r in store.list_runs()})})
    labels = {f"challenge:{c.id}": f"{t('challenge.untitled')} · {c.title or c.id}" for c in store.list_challenges()}
    labels.update({k: tl(f"task.{task}.title") for k, (task, ch) in out.items() if ch is None})
    return out, labels


def board(task: str, challenge_id: str | None, big: bool):
    """A leaderboard; a challenge with a hidden test ranks on it, or shows both rankings side by side."""
    store = get_store()
    found = store.get_challenge(challenge_id) if challenge_id else None
    if found is not None and found.hidden:
        if st.session_state.get("host_board_both"):
            lesson_view.both_table(room.hidden.public_and_hidden(store, found), task)
        else:
            st.caption(t("hidden.ranked"))
            room_view.board_table(room.hidden.hidden_board(store, found), task, big=big)
        return
    runs = store.list_runs(challenge=challenge_id) if challenge_id else store.list_runs()
    room_view.board_table(room.leaderboard(runs, task), task, big=big)


@st.fragment(run_every=LIVE_EVERY_S)
def projector(task: str, challenge_id: str | None):
    board(task, challenge_id, big=True)


@st.fragment(run_every=LIVE_EVERY_S)
def live_room():
    runs = get_store().list_runs()
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.markdown(f"#### {t('host.people')}")
        room_view.people_table(runs)
        st.markdown(f"#### {t('host.seats')}")
        room_view.seats_section()
    with right:
        st.markdown(f"#### {t('host.queue')}")
        room_view.queue_rows(runs)


@st.fragment(run_every=LIVE_EVERY_S)
def leaderboard_section():
    """The class leaderboard, with its choices (tasks with runs, challenges) kept up to date."""
    if st.session_state.get("host_projector"):
        st.rerun()   # the toggle was switched here: the whole page becomes the projector view
    st.markdown(f"### {t('host.board')}")
    choices, labels = boards(get_store())
    if not choices:
        st.info(t("room.board_empty"), icon=":material/leaderboard:")
        return
    pick, big, download = st.columns([3, 1, 1], vertical_alignment="bottom")
    choice = pick.selectbox(t("host.board_of"), list(choices), key="host_board", format_func=labels.get)
    big.toggle(t("host.projector"), key="host_projector", help=t("help.projector"))
    found = get_store().get_challenge(choices[choice][1]) if choices[choice][1] else None
    if found is not None and found.hidden:
        pick.toggle(t("hidden.both"), key="host_board_both", help=t("help.hidden_both"))
    download.download_button(t("host.download"), csv_bytes(race.history_table(get_store().list_runs())),
                             file_name="modelkit-class.csv", mime="text/csv", key="host_download",
                             icon=":material/download:", on_click="ignore", width="stretch")
    board(*choices[choice], big=False)


def join_section(store):
    st.markdown(f"### {t('host.join')}")
    base = st.text_input(t("host.join_url"), value=room_view.join_url(), key="host_join_url", help=t("help.join_url"))
    by_id = {c.id: c for c in store.list_challenges()}
    made = st.session_state.pop("host_challenge", None)
    if made in by_id:   # a challenge just created: its link is the one to show
        st.session_state["host_join_to"] = made
    # "" (not None) for the room itself: Streamlit draws a None value as its own English "Choose an option"
    target = st.selectbox(t("host.join_to"), ["", *by_id], key="host_join_to", placeholder=t("host.join_room"),
                          format_func=lambda c: by_id[c].title or c if c else t("host.join_room"))
    link = base.rstrip("/") + "/" + (f"?challenge={target}" if target else "")
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.image(room_view.qr_png(link), width=240)
    right.markdown(f"## {literal(link)}")
    right.code(link, language=None)
    with right:
        room_view.join_check(base)


# --- page ---------------------------------------------------------------------

if not room_view.is_host():   # reached by URL without the key: nothing to see
    st.warning(t("host.locked"))
    st.stop()
store = get_store()
if st.session_state.get("host_projector") and lesson_view.has_spotlight():   # one participant's result, large
    st.toggle(t("host.projector"), key="host_projector")
    lesson_view.spotlight_view()
    st.stop()
if st.session_state.get("host_projector") and st.session_state.get("host_board"):
    choices, labels = boards(store)
    if st.session_state["host_board"] in choices:   # the projector: the leaderboard alone, large
        st.title(f"{t('host.board')} · {literal(labels[st.session_state['host_board']])}")
        st.toggle(t("host.projector"), key="host_projector")
        projector(*choices[st.session_state["host_board"]])
        st.stop()

st.title(t("host.title"))
st.caption(t("host.subtitle"))
live_room()
st.divider()
st.markdown(f"### {t('lesson.host_title')}")
lesson_view.host_section()
st.divider()
leaderboard_section()
st.divider()
st.markdown(f"### {t('host.challenges')}")
challenge.creation_form()
st.divider()
join_section(store)
st.divider()
st.markdown(f"### {t('host.limits')}")
room_view.limits_form()
