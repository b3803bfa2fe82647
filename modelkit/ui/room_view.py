"""The room on a page: who is here, the queue, leaderboards, the join address, the limits, the seats.

Who acts in a session (its seat, the host) is modelkit.ui.seat's; `actor()` and `is_host()` are
re-exported here for the pages that ask.
"""
from __future__ import annotations

import io
import time

import pandas as pd
import streamlit as st

from modelkit import room
from modelkit.written import literal
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import owner_name
from modelkit.ui.live import duration
from modelkit.ui.resources import get_runner, get_store
from modelkit.ui.seat import actor, is_host, participant  # noqa: F401  (the pages ask here)

HERE_FOR_S = 300.0                # a participant not seen for this long has left the room
HEARTBEAT_S = 60.0                # an open tab says it is here this often, even when nobody touches it


@st.cache_resource(show_spinner=False)
def announced_key() -> str:
    """The host key, written to the server log once per server start."""
    return room.announce_host_key()


@st.cache_resource(show_spinner=False)
def _presence() -> dict:
    return {}


def seen():
    """Note that this session's participant is here now (called on every page run); the host is not one."""
    if not is_host() and not room.is_anonymous(participant()):
        _presence()[participant()] = time.time()


@st.fragment(run_every=HEARTBEAT_S)
def heartbeat():
    """An open tab is here although nobody clicks in it: every HEARTBEAT_S this draws nothing and notes the
    participant as seen (a browser slows a background tab's timers to about once a minute, inside HERE_FOR_S)."""
    seen()


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


def board_table(table, task: str, *, big: bool = False):
    """A leaderboard (modelkit.room.leaderboard) as a plain table: readable on a projector, ranks first."""
    if table.empty:
        st.info(t("room.board_empty"), icon=":material/leaderboard:")
        return
    tl, metric = bound(), room.board_metric(task)
    score = (lambda v: f"{v:.1%}") if metric == "test_accuracy" else (lambda v: f"{v:.3f}")
    view = pd.DataFrame({t("room.col.rank"): table["rank"], t("room.col.participant"): table["participant"].map(lambda n: literal(owner_name(n))),
                         t(f"metric.{metric}"): table["score"].map(score),
                         t("runs.col.arch"): table["arch"].map(lambda a: tl(f"arch.{a}.title")),
                         t("results.col.params"): table["params"].map(lambda n: "–" if pd.isna(n) else f"{n:,}"),
                         t("runs.col.seconds"): table["seconds"].map(lambda v: "–" if pd.isna(v) else f"{v:.1f}")})
    styled = view.style.hide(axis="index")
    if big:   # the projector: large enough to read from the back of the room
        styled = styled.set_properties(**{"font-size": "1.8rem", "padding": "0.6rem 1.2rem"})
    st.table(styled)


# --- the Host page's parts ---------------------------------------------------------------

def seats_section():
    """Every taken seat; the host frees one for a participant who lost their link (their runs stay)."""
    seats = room.taken_seats(get_store())
    if not seats:
        st.caption(t("host.seats_empty"))
        return
    pick, free = st.columns([3, 2], vertical_alignment="bottom")
    names = [s.name for s in seats]
    chosen = pick.selectbox(t("host.seat"), names, key="host_seat", help=t("help.free_seat"))
    if free.button(t("host.free_seat"), key="host_free_seat", icon=":material/event_seat:", width="stretch"):
        room.free_seat(get_store(), chosen)
        st.success(t("host.seat_freed", name=literal(chosen)), icon=":material/check:")


def people_table(runs):
    table = room.people(runs, here())
    st.dataframe(table, key="host_people", hide_index=True, column_config={
        "participant": st.column_config.TextColumn(t("room.col.participant")),
        "here": st.column_config.CheckboxColumn(t("room.col.here")),
        "running": st.column_config.TextColumn(t("room.col.running")),
        "queued": st.column_config.NumberColumn(t("room.col.queued")),
        "finished": st.column_config.NumberColumn(t("room.col.finished"))})


def _stop(run_id: str):
    get_runner().stop(run_id, by=actor())     # the Host page: the host, by None


def _remove(run_id: str):
    store = get_store()
    room.actions.stop(store, run_id, by=actor())   # a queued run stops at once; then it can go
    if not store.get_run(run_id).active:
        room.actions.delete(store, run_id, by=actor())


def queue_rows(runs):
    """The active runs, training first, then the queue in the order it will start; stop or remove each."""
    active = sorted((r for r in runs if r.active), key=lambda r: (r.status != "running", r.queue_position or 0))
    if not active:
        st.caption(t("room.queue_empty"))
        return
    tl = bound()
    for run in active:
        cols = st.columns([1, 3, 4, 2, 2], vertical_alignment="center")
        cols[0].markdown(f"**{run.queue_position}**" if run.queue_position else ":blue[:material/play_arrow:]")
        cols[1].markdown(literal(owner_name(run.owner)))
        cols[2].caption(f"{tl(f'task.{run.task}.title')} · {tl(f'arch.{run.arch}.title')} · `{run.id}`")
        if run.status == "running":
            cols[3].button(t("train.stop"), key=f"host_stop_{run.id}", on_click=_stop, args=(run.id,),
                           icon=":material/stop:", disabled=run.stop_requested, width="stretch")
        else:
            cols[4].button(t("room.remove"), key=f"host_remove_{run.id}", on_click=_remove, args=(run.id,),
                           icon=":material/delete:", width="stretch")


def join_url() -> str:
    """The room's address as participants reach it: MODELKIT_PUBLIC_URL, else this machine's network address."""
    return room.join_url(st.context.url)


def join_check(url: str):
    """One line under the join link: whether this server answers at that address, as a phone would reach it."""
    if room.answers(url):
        st.caption(f":material/check_circle: {t('host.join_ok')}")
    else:
        st.caption(f":material/warning: {t('host.join_unreachable')}")


def qr_png(text: str) -> bytes:
    """`text` as a QR code picture (PNG), big enough to scan from the back of a room."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()


def limits_form():
    """The room's limits: shown, changed for every process of the room, or reset to the environment's."""
    store = get_store()
    now = room.current_limits(store)
    cols = st.columns(3)
    seconds = cols[0].number_input(t("room.limit_seconds"), key="host_limit_seconds", min_value=1.0,
                                   value=float(now.seconds), step=10.0, help=t("help.limit_seconds"))
    params = cols[1].number_input(t("room.limit_params"), key="host_limit_params", min_value=1,
                                  value=int(now.params), step=100_000, help=t("help.limit_params"))
    queued = cols[2].number_input(t("room.limit_queued"), key="host_limit_queued", min_value=1,
                                  value=int(now.queued), step=1, help=t("help.limit_queued"))
    left, right, _ = st.columns([1, 1, 3])
    if left.button(t("room.limits_save"), key="host_limits_save", type="primary", width="stretch"):
        room.set_limits(store, room.Limits(seconds=float(seconds), params=int(params), queued=int(queued)))
        st.success(t("room.limits_saved"), icon=":material/check:")
    if right.button(t("room.limits_reset"), key="host_limits_reset", width="stretch"):
        room.set_limits(store, None)
        for name in room.Limits.fields():
            st.session_state.pop(f"host_limit_{name}", None)
        st.rerun()
