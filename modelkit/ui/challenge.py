"""A challenge on the Train page (?challenge=ID), and the Host page's form that creates one.

    challenge.start("train")      # before the form: pre-fill once, lock its settings, show its instruction
    challenge.allowed(archs)      # the architecture choices it leaves
    challenge.current()           # its id for runner.submit(..., challenge=)
    challenge.board()             # its live leaderboard, below the form

Locked settings are shown but disabled (modelkit.ui.forms.is_locked); the runner refuses
them if they are sent anyway (modelkit.room.challenges.within_challenge).
"""
from __future__ import annotations

import time

import streamlit as st

from modelkit import models, room
from modelkit.config import ConfigError
from modelkit.data import uploads
from modelkit.data.tasks import TASKS
from modelkit.ui import forms, room_view, seat
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import task_title
from modelkit.ui.resources import get_store
from modelkit.written import literal

STATE = "challenge_id"      # Session State: the challenge this session's Train page is in
BOARD_EVERY_S = 3.0


def current() -> str | None:
    return st.session_state.get(STATE)


def _get(challenge_id: str):
    return get_store().get_challenge(challenge_id)


def start(prefix: str):
    """The Train page's challenge from ?challenge=ID: fill the form from it once, then keep its locked
    settings in place (an architecture switch refills the form) and shown disabled. Returns it or None."""
    challenge_id = st.query_params.get("challenge")
    challenge = _get(challenge_id) if challenge_id else None
    if challenge is None:
        st.session_state.pop(STATE, None)
        st.session_state.pop(forms.LOCKED, None)
        if challenge_id:
            st.warning(t("error.no_challenge", challenge=challenge_id[:40]), icon=":material/flag:")
        return None
    arch = st.session_state.get(f"{prefix}_arch")
    from_url = st.query_params.get("task") == challenge.task   # a reload keeps the participant's free settings
    left = st.session_state.get(f"{prefix}_task") != challenge.task or arch not in challenge.archs   # a preset
    if (st.session_state.get(STATE) != challenge.id and not from_url) or left:
        arch = first_arch(challenge, st.query_params.get("arch"))
        forms.fill(room.challenge_config(challenge, arch), prefix)
    st.session_state[STATE] = challenge.id   # also when the link carries the form (a reload): its runs are the challenge's
    pinned = room.challenge_config(challenge, arch)
    forms.fill(pinned, prefix, only=set(challenge.locked))
    st.session_state[forms.LOCKED] = {forms.key(prefix, *path.split(".", 1)) for path in challenge.locked} \
        | {forms.key(prefix, "task", "name")}
    banner(challenge)
    return challenge


def first_arch(challenge, wanted: str | None) -> str:
    """Where a participant starts: the link's `arch=` when the challenge allows it, else the first allowed
    architecture that is not a baseline (the linear baseline only when it is all the challenge allows)."""
    if wanted in challenge.archs:
        return wanted
    return next((a for a in challenge.archs if not models.ARCHS[a].baseline), challenge.archs[0])


def banner(challenge):
    """The challenge's instruction on top of the page, with its rules."""
    tl = bound()
    rules = t("challenge.rules", task=task_title(challenge.task, tl), budget=f"{challenge.budget:g}",
              archs=", ".join(tl(f"arch.{a}.title") for a in challenge.archs))
    if challenge.deadline:
        rules += " · " + t("challenge.deadline", time=challenge.deadline.astimezone().strftime("%H:%M"))
    title = literal(challenge.title) if challenge.title else t("challenge.untitled")
    st.info(f"**{title}** · {literal(challenge.instruction)}\n\n{rules}",
            icon=":material/flag:")
    if room.is_anonymous(room_view.participant()):
        st.caption(t("challenge.name_hint"))


def allowed(archs: list[str]) -> list[str]:
    """The architectures the current challenge allows among `archs` (all of them without a challenge)."""
    challenge = _get(current()) if current() else None
    return [a for a in archs if challenge is None or a in challenge.archs]


def board():
    """Below the Train page: the challenge's leaderboard, redrawn as runs finish."""
    if current():
        st.markdown(f"### {t('challenge.board')}")
        _live_board(current())


@st.fragment(run_every=BOARD_EVERY_S)
def _live_board(challenge_id: str):
    """The challenge's leaderboard; with a hidden test, ranked on it (each score, never its rows)."""
    challenge = _get(challenge_id)
    if challenge is None:
        return
    seen = seat.seen_store()   # another's shared model without its architecture until the host reveals it
    if challenge.hidden:
        st.caption(t("hidden.ranked"))
        table = room.hidden.hidden_board(seen, challenge)
    else:
        table = room.leaderboard(seen.list_runs(challenge=challenge_id), challenge.task)
    with st.container(key="challenge_board"):
        room_view.board_table(table, challenge.task)


def on_grid(lines: list[str]) -> list[str]:
    """A locked learning rate moved to the nearest value the Train page's slider offers, so it can be met."""
    out = []
    for line in lines:
        key, _, value = line.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = None
        out.append(f"train.lr={forms.snap_lr(rate)!r}" if key.strip() == "train.lr" and rate and rate > 0 else line)
    return out


# --- the Host page's form --------------------------------------------------------------

def creation_form():
    """Create a challenge: task, architectures, budget, locked settings, deadline, instruction."""
    tl = bound()
    top = st.columns([2, 2, 1])
    title = top[0].text_input(t("challenge.title"), key="host_ch_title", max_chars=80)
    task = top[1].selectbox(t("field.task.name"), list(TASKS) + [d.task for d in uploads.list_datasets()],
                            key="host_ch_task", format_func=lambda n: task_title(n, tl))
    budget = top[2].number_input(t("challenge.budget"), key="host_ch_budget", min_value=1.0,
                                 value=min(30.0, room.current_limits(get_store()).seconds), step=5.0)
    # a row of its own: every allowed architecture's chip reads whole ("MLP (deep network)", not "MLP (de…")
    archs = st.multiselect(t("challenge.archs"), models.archs_for(task), key="host_ch_archs",
                           default=models.archs_for(task), format_func=lambda a: tl(f"arch.{a}.title"))
    left, right = st.columns(2)
    locked = left.text_area(t("challenge.locked"), key="host_ch_locked",
                            placeholder="train.lr=0.01\nmodel.hidden=[32, 32]",
                            help=t("help.challenge_locked"))
    instruction = right.text_area(t("challenge.instruction"), key="host_ch_instruction", max_chars=500)
    minutes = right.number_input(t("challenge.minutes"), key="host_ch_minutes", min_value=0, value=0, step=5,
                                 help=t("help.challenge_minutes"))
    hidden = right.toggle(t("challenge.hidden"), key="host_ch_hidden", help=t("help.challenge_hidden"))
    exam = right.file_uploader(t("challenge.hidden_file"), type=["csv", "tsv", "txt"], key="host_ch_hidden_file",
                               help=t("help.challenge_hidden_file")) if hidden else None
    if st.button(t("challenge.create"), key="host_ch_create", type="primary", icon=":material/flag:"):
        kind = None if not hidden else room.hidden.UPLOAD if exam is not None else room.hidden.HELD_BACK
        try:
            made = room.create_challenge(get_store(), task=task, archs=archs, budget=budget,
                                         locked=on_grid(room.parse_locked(locked)), instruction=instruction.strip(),
                                         deadline=time.time() + 60 * minutes if minutes else None, title=title.strip(),
                                         hidden=kind, hidden_file=(exam.getvalue(), exam.name) if exam else None)
        except ConfigError as err:
            st.error(f"{err.path}: {forms.error_text(err)}" if err.path else forms.error_text(err),
                     icon=":material/error:")
        else:
            st.session_state["host_challenge"] = made
            st.rerun()   # so that the leaderboard and the join link above and below offer it
    if st.session_state.get("host_challenge"):
        st.success(t("challenge.created"), icon=":material/check:")
