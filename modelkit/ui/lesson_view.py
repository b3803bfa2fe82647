"""The lesson on the pages: every participant's page follows the step the host moved to, and the Host
page's lesson section (start, move, run free, who has done the step, one result on the projector).

    lesson_view.open_if_moved()   # app.py, before the page: the room moved, so the step's page opens
    lesson_view.banner()          # app.py, on top of every page: the lesson's step
    lesson_view.watch()           # app.py, after every page: the poll that sees the host move
    lesson_view.take("learn")     # a page, before its widgets: what the step asks of it (once), or None
    lesson_view.host_section()    # the Host page

A participant's page polls the room's lesson every FOLLOW_EVERY_S (one small read of the store): when the
host moves, or when someone joins late, the step's page opens with what the step sets (the Learn step, the
challenge's link, the comparison's task and architectures). While the room runs free nothing is followed.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from modelkit import room
from modelkit.config import ConfigError, RunConfig
from modelkit.data import tasks
from modelkit.data.tasks import TASKS
from modelkit.room import lessons
from modelkit.ui import results
from modelkit.ui.forms import error_text
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import SEAT_STATE
from modelkit.ui.resources import get_store, place
from modelkit.ui.room_view import here
from modelkit.ui.seat import is_host
from modelkit.written import literal

FOLLOW_EVERY_S = 1.0      # a page sees the host's move within this (and one rerun)
MARK_FRESH_S = 0.25       # the room's step, read from the store once in this long for every page of the server
SEEN = "lesson_seen"      # session state: the lesson mark this session last followed
PENDING = "lesson_pending"   # session state: page -> what the step asks of it, taken once by that page
OPEN = "lesson_open"         # session state: the room moved; the next whole run opens the step's page
PAGES = {"learn": "app_pages/learn.py", "challenge": "app_pages/train.py", "compare": "app_pages/compare.py",
         "gallery": "app_pages/gallery.py"}


def step_title(step: lessons.Step) -> str:
    return t(f"{step.words}.title") if step.words else literal(step.title or t(f"lesson.kind.{step.kind}"))


def step_note(step: lessons.Step) -> str:
    return t(f"{step.words}.note") if step.words else literal(step.note)


def lesson_title(lesson: lessons.Lesson) -> str:
    return t(f"lesson.{lesson.name}.title") if lesson.ready else literal(lesson.title)


def take(page: str):
    """What the current step asks of `page` (set when the room moved), once; None when nothing."""
    return st.session_state.get(PENDING, {}).pop(page, None)


def _kept_params() -> dict:
    """The query parameters that travel to the step's page: the seat, the language."""
    seat = st.session_state.get(SEAT_STATE)
    params = {"who": seat["name"], "seat": seat["secret"]} if seat else {}
    return {**params, "lang": st.session_state.get("lang", "en")}


def open_step(now: lessons.Now):
    """Open the page of the room's step with what it sets (a note stays on the page the participant is on)."""
    step, params = now.current, _kept_params()
    if step.kind == "note":
        return
    if step.kind == "learn":
        st.session_state[PENDING] = {"learn": step.learn}
    elif step.kind == "compare":
        st.session_state[PENDING] = {"compare": (step.task, list(step.archs))}
    elif step.kind == "challenge" and now.challenge:
        params["challenge"] = now.challenge
    st.switch_page(PAGES[step.kind], query_params=params)


def banner():
    """On top of a participant's page: the lesson's step (drawn in each whole run of the app)."""
    now = None if is_host() else lessons.current(get_store())
    if now is None or now.free:
        return
    with st.container(key="lesson_banner"):
        st.info(f"**{t('lesson.banner', n=now.step, of=len(now.lesson.steps), lesson=lesson_title(now.lesson))}**"
                f" · {step_title(now.current)}\n\n{step_note(now.current)}", icon=":material/school:")


def room_mark() -> str:
    """The room's step as a mark ("" when no lesson or running free): what every page's poll compares."""
    return _room_mark(*place())


@st.cache_data(ttl=MARK_FRESH_S, show_spinner=False, max_entries=4)
def _room_mark(url: str, home: str) -> str:
    """One store read per MARK_FRESH_S for the whole room, however many pages poll (per place, as get_store)."""
    now = lessons.current(get_store())
    return "" if now is None or now.free else now.mark


@st.fragment(run_every=FOLLOW_EVERY_S)
def watch():
    """At the end of a participant's page, drawing nothing: the poll that sees the room move (or run free).

    It comes last so that its timer starts only once the page is drawn: a poll placed above a page that
    takes longer than FOLLOW_EVERY_S to draw (Learn, on a busy server) cut that page short on every tick,
    and the followed page showed its banner and never its content. The page changes in a whole run of the
    app, never in this fragment's own."""
    if is_host():
        return
    mark = room_mark()
    if st.session_state.get(SEEN, "") != mark:
        st.session_state[SEEN] = mark
        st.session_state[OPEN] = bool(mark)   # a new step opens its page; running free only drops the banner
        st.rerun(scope="app")


def open_if_moved():
    """app.py, before the page: open the step's page when this session's poll saw the room move."""
    if st.session_state.pop(OPEN, False):
        now = lessons.current(get_store())
        if now is not None and not now.free:
            open_step(now)


# --- the Host page's lesson section --------------------------------------------------------

def _act(call, *args):
    """Run a lesson action as the host; a refusal waits to be shown in place."""
    try:
        call(get_store(), *args)
    except ConfigError as err:
        st.session_state["host_lesson_refused"] = err


def host_section():
    """Start a lesson, move the room through it, let it run free; and make one of the host's own."""
    store = get_store()
    names = lessons.lesson_names(store)
    titles = {n: lesson_title(lessons.find_lesson(store, n)) for n in names}
    pick, start = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(t("lesson.pick"), names, key="host_lesson", format_func=titles.get)
    start.button(t("lesson.start"), key="host_lesson_start", type="primary", icon=":material/play_arrow:",
                 on_click=_act, args=(lessons.start, chosen), width="stretch")
    if "host_lesson_refused" in st.session_state:
        st.error(error_text(st.session_state.pop("host_lesson_refused")), icon=":material/block:")
    pacing()
    with st.expander(t("lesson.make"), icon=":material/edit_note:"):
        maker()


@st.fragment(run_every=3.0)
def pacing():
    """Where the room is: its steps to move to, run free, and who has done the current step."""
    now = lessons.current(get_store())
    if now is None:
        st.caption(t("lesson.none"))
        return
    steps = now.lesson.steps
    st.markdown(f"#### {lesson_title(now.lesson)}")
    st.caption(t("lesson.free_now") if now.free else
               t("lesson.host_on", n=now.step, of=len(steps), title=step_title(now.current)))
    cols = st.columns([1, 1, 3, 1, 1], vertical_alignment="bottom")
    cols[0].button(t("lesson.previous"), key="host_lesson_previous", icon=":material/arrow_back:",
                   disabled=now.step == 1, on_click=_act, args=(lessons.move, now.step - 1), width="stretch")
    cols[1].button(t("lesson.next"), key="host_lesson_next", icon=":material/arrow_forward:", type="primary",
                   disabled=now.step == len(steps), on_click=_act, args=(lessons.move, now.step + 1),
                   width="stretch")
    to = cols[2].selectbox(t("lesson.step"), range(1, len(steps) + 1), index=now.step - 1, key="host_lesson_to",
                           format_func=lambda n: f"{n}. {step_title(steps[n - 1])}")
    cols[3].button(t("lesson.go"), key="host_lesson_go", on_click=_act, args=(lessons.move, to), width="stretch")
    cols[4].button(t("lesson.free"), key="host_lesson_free", icon=":material/lock_open:", disabled=now.free,
                   on_click=_act, args=(lessons.free,), width="stretch")
    if not now.free:
        step_progress(now)


def step_progress(now: lessons.Now):
    """Who has done the step (trained, shared) and who is stuck; one result to put on the projector."""
    store = get_store()
    table = lessons.progress(store, now, [*here(), *(s.name for s in room.taken_seats(store))])
    if table.empty:
        st.caption(t("lesson.nobody"))
    else:
        shown = table.assign(state=table.state.map(lambda s: t(f"lesson.state.{s}")),
                             participant=table.participant.map(literal))
        st.dataframe(shown, key="host_lesson_progress", hide_index=True, column_config={
            "participant": st.column_config.TextColumn(t("room.col.participant")),
            "state": st.column_config.TextColumn(t("lesson.col.state")),
            "run_id": st.column_config.TextColumn(t("lesson.col.run"))})
    finished = [r for r in lessons.step_runs(store, now) if r.status in ("completed", "stopped")]
    if finished:
        by_id = {r.id: r for r in finished}
        pick, put = st.columns([4, 1], vertical_alignment="bottom")
        chosen = pick.selectbox(t("lesson.spotlight"), list(by_id), key="host_spotlight",
                                format_func=lambda r: f"{literal(by_id[r].owner)} · {by_id[r].arch} · {r}")
        put.button(t("lesson.spotlight_put"), key="host_spotlight_put", icon=":material/cast:",
                   on_click=_act, args=(lessons.spotlight, chosen), width="stretch")
    if now.challenge:
        challenge = store.get_challenge(now.challenge)
        if challenge is not None and challenge.hidden:
            st.markdown(f"##### {t('hidden.side_by_side')}")
            both_table(room.hidden.public_and_hidden(store, challenge), challenge.task)


def both_table(table, task: str):
    """The public and the hidden ranking side by side (modelkit.room.hidden.public_and_hidden)."""
    if table.empty:
        st.info(t("room.board_empty"), icon=":material/leaderboard:")
        return
    metric = room.board_metric(task)
    score = (lambda v: "–" if v != v else f"{v:.1%}") if metric == "test_accuracy" else \
        (lambda v: "–" if v != v else f"{v:.3f}")
    rank = (lambda n: "–" if n is None or n != n else str(n))
    view = {t("room.col.participant"): table.participant.map(literal),
            t("hidden.col.public_rank"): table.rank_public.astype(object).map(rank),
            t("hidden.col.public"): table.score_public.map(score),
            t("hidden.col.hidden_rank"): table.rank_hidden.astype(object).map(rank),
            t("hidden.col.hidden"): table.score_hidden.map(score)}
    st.table(pd.DataFrame(view).style.hide(axis="index"))


def has_spotlight() -> bool:
    now = lessons.current(get_store())
    return now is not None and now.spotlight is not None and get_store().get_run(now.spotlight) is not None


def spotlight_view():
    """The projector's view of the run the host put on it: whose it is, its test numbers, its boundary."""
    run = get_store().get_run(lessons.current(get_store()).spotlight)
    tl = bound()
    st.title(f"{literal(run.owner)} · {tl(f'task.{run.task}.title')} · {tl(f'arch.{run.arch}.title')}")
    results.test_metrics(run, tasks.task_info(run.task).kind)
    if run.details.get("boundary"):
        results.boundary(run.details["boundary"], RunConfig.from_dict(run.config), key="host_spotlight_plane")
    st.button(t("lesson.spotlight_off"), key="host_spotlight_off", icon=":material/cancel_presentation:",
              on_click=_act, args=(lessons.spotlight, None))


# --- making a lesson ---------------------------------------------------------------------

STEP_COLUMNS = ("kind", "title", "note", "learn", "task", "archs", "budget", "hidden")


def maker():
    """The host's own lesson: a name, a title and its steps as rows (kind, words, settings), saved in the store."""
    left, right = st.columns(2)
    name = left.text_input(t("lesson.name"), key="host_lesson_name", max_chars=80)
    title = right.text_input(t("lesson.title"), key="host_lesson_title", max_chars=120)
    blank = pd.DataFrame([{"kind": "note", "title": "", "note": "", "learn": "", "task": "", "archs": "",
                           "budget": 20.0, "hidden": False}], columns=list(STEP_COLUMNS))
    rows = st.data_editor(blank, key="host_lesson_steps", num_rows="dynamic", hide_index=True, column_config={
        "kind": st.column_config.SelectboxColumn(t("lesson.col.kind"), options=list(lessons.KINDS), required=True),
        "title": st.column_config.TextColumn(t("lesson.col.title"), max_chars=lessons.MAX_TEXT),
        "note": st.column_config.TextColumn(t("lesson.col.note"), max_chars=lessons.MAX_TEXT),
        "learn": st.column_config.SelectboxColumn(t("lesson.col.learn"), options=list(lessons.LEARN_STEPS)),
        "task": st.column_config.SelectboxColumn(t("field.task.name"), options=list(TASKS)),
        "archs": st.column_config.TextColumn(t("lesson.col.archs"), help=t("help.lesson_archs")),
        "budget": st.column_config.NumberColumn(t("challenge.budget"), min_value=1.0),
        "hidden": st.column_config.CheckboxColumn(t("lesson.col.hidden"))})
    if st.button(t("lesson.save"), key="host_lesson_save", icon=":material/save:"):
        try:
            made = lessons.lesson_from(name, title, [step_row(row) for row in rows.to_dict("records")])
        except ConfigError as err:
            st.error(f"{err.path}: {error_text(err)}" if err.path else error_text(err), icon=":material/error:")
        else:
            lessons.save_lesson(get_store(), made)
            st.success(t("lesson.saved", name=literal(made.name)), icon=":material/check:")


def step_row(row: dict) -> dict:
    """One row of the lesson maker as a step's dict: empty cells left out, architectures split at commas."""
    out = {k: v for k, v in row.items() if k in STEP_COLUMNS and v not in (None, "") and v == v}
    if "archs" in out:
        out["archs"] = [a.strip() for a in str(out["archs"]).split(",") if a.strip()]
    out["hidden"] = bool(out.get("hidden", False))
    out["budget"] = float(out.get("budget", 20.0))
    return out
