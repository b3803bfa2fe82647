"""One run on a page: live while it trains, its results after. The Train and Runs pages both show it.

`show(run_id, prefix)` draws the run inside the polling fragment (live.polled) while it is queued or
running; when it ends the page is redrawn once and the run is drawn again, still, with its results.
A finished run's view is `results.results` followed by SECTIONS, in order: each later view of a
trained model (look inside, try it, export) is one function `section(run, config, prefix)` added there.
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from modelkit import room
from modelkit.config import ConfigError, RunConfig
from modelkit.data import tasks
from modelkit.store import Run
from modelkit.ui import labels, results, room_view, seat
from modelkit.ui.forms import error_text
from modelkit.ui.i18n import current, t
from modelkit.ui.inside_view import inside_section
from modelkit.ui.labels import owner_name, task_title
from modelkit.ui.live import points_so_far, polled, polled_live
from modelkit.ui.replay import replay_section
from modelkit.ui.resources import get_runner, get_store
from modelkit.ui.use import use_sections
from modelkit.use import codegen
from modelkit.written import literal


def look_inside(run: Run, config: RunConfig, prefix: str):
    inside_section(run, config, key=f"{prefix}_inside")


def use_it(run: Run, config: RunConfig, prefix: str):
    use_sections(run, config, prefix=f"{prefix}_use")


def show_code(run: Run, config: RunConfig, prefix: str):
    """The PyTorch code of exactly this model and its training loop: the export's train.py, to copy."""
    with st.expander(t("code.title"), icon=":material/code:"):
        st.caption(t("code.caption"))
        st.code(codegen.script_source(config, run_id=run.id), language="python", line_numbers=True)


# drawn after a finished run's results, in this order
SECTIONS: list[Callable[[Run, RunConfig, str], None]] = [replay_section, look_inside, use_it, show_code]


def show(run_id: str, prefix: str, *, about: bool = False) -> Run | None:
    """The run `run_id` (None when the store no longer has it), its element keys prefixed by `prefix`;
    `about` adds who started it and when, its message and its settings (the Runs page).

    While it is active its header (name, Stop, the live rate and Pause) is drawn outside the polling
    fragment, so that a press is never lost under a poll that redraws the button; the poll redraws the
    page once when the controls change elsewhere (another tab, the CLI, the host)."""
    run = seat.seen_store().get_run(run_id)
    if run is None:
        return None
    if run.active:   # a queued run polls at the usual pace, a training one faster (its new points)
        header(run, prefix, about=about)
        follow = polled_live if run.status == "running" else polled
        follow(panel, run_id, prefix, about=about, following=run.status, controls=drawn_controls(run))
    else:
        panel(run_id, prefix, about=about)
    return run


def drawn_controls(run: Run) -> tuple:
    """What the header's controls show: whether a stop was asked for, the pause, the live rate."""
    wanted = get_store().controls(run.id)
    return wanted["stop"], wanted["paused"], wanted["lr"]


def panel(run_id: str, prefix: str, *, about: bool = False, polling: bool = False, following: str | None = None,
          controls: tuple | None = None):
    """Header, status, curves; for a finished run its results and SECTIONS; `about` as in `show`.
    `following`: the status the poll was chosen for, `controls` what the header drawn outside the poll
    shows (see `show`)."""
    store = get_store()
    run = seat.seen_store().get_run(run_id)
    if run is None:
        return
    if polling and (not run.active or following not in (None, run.status)
                    or controls not in (None, drawn_controls(run))):
        st.rerun(scope="app")   # it ended, started or was paused elsewhere: redraw the page once
    if not polling:
        header(run, prefix, about=about)
    room_view.queue_note(run)
    if room.gallery.is_masked(run):   # another's shared model: its scores, not its settings or its model
        results.test_metrics(run, tasks.task_info(run.task).kind)
        st.caption(f":material/visibility_off: {t('gallery.hidden_settings')}")
        return
    try:
        config = RunConfig.from_dict(run.config)
    except ConfigError as err:   # its uploaded data was deleted since: the record stays readable
        st.warning(t("runs.config_gone", reason=error_text(err)), icon=":material/folder_off:")
        settings(run)
        return
    points = points_so_far(store, run_id, f"{prefix}_points")
    results.live_view(store, run, config, points, prefix)
    if not run.active:
        results.results(run, config, points)
        for section in SECTIONS:
            section(run, config, prefix)
    if about:
        settings(run)


def run_title(run: Run) -> str:
    """The run's name in the reader's language (labels.run_titles), worked out once per run and language:
    it depends only on the run and the participant's earlier runs, which do not change (and on whether the
    run is masked for this reader: shared, revealed, withdrawn)."""
    key = f"run_title.{current()}.{run.id}.{room.gallery.is_masked(run)}"
    if key not in st.session_state:
        titles = labels.run_titles(seat.seen_store().list_runs(owner=run.owner, limit=500)) if not run.name else {}
        st.session_state[key] = titles.get(run.id) or run.name or \
            t("train.run_title", task=task_title(run.task), arch=t(f"arch.{run.arch}.title"))
    return st.session_state[key]


def header(run: Run, prefix: str, *, about: bool):
    """The run's name and id, its stop button while it trains and, with `about`, who started it and when."""
    title = run_title(run)
    head, stop_col = st.columns([5, 1], vertical_alignment="center")
    head.markdown(f"**{literal(title)}** · `{run.id}`")
    if run.active:
        refused = seat.refusal(run, "stop")
        stop_col.button(t("train.stop"), key=f"{prefix}_stop", on_click=stop_run, args=(run.id,),
                        icon=":material/stop:", help=refused or t("help.stop"),
                        disabled=run.stop_requested or refused is not None, width="stretch")
    if about:
        created = run.created.astimezone().strftime("%Y-%m-%d %H:%M")
        head.caption(t("runs.owner_line", owner=literal(owner_name(run.owner)), created=created))
    if run.active and not run.stop_requested:
        live_controls(run, prefix)


LR_LADDER = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)   # the choices, as in TF Playground


def live_controls(run: Run, prefix: str):
    """The learning rate (applied from the run's next step) and pause/resume, live while it trains.

    Looking never changes a run: the slider starts at the run's own rate, as its default and under a
    key of that rate (a change from elsewhere, the CLI or another tab, makes a new slider at the new
    rate), and only a rate other than the one the run has is sent."""
    wanted = get_store().controls(run.id)
    current = run_lr(run, wanted)
    options = sorted({*LR_LADDER, current})
    lr_refused, pause_refused = seat.refusal(run, "lr"), seat.refusal(run, "pause")
    lr_col, pause_col = st.columns([5, 1], vertical_alignment="bottom")
    with lr_col.container(key=f"{prefix}_live_lr"):
        key = f"{prefix}_live_lr_{run.id}_{current:g}"
        st.select_slider(t("play.lr"), options, value=current, key=key, format_func=lambda v: f"{v:g}",
                         help=lr_refused or t("play.lr_help"), on_change=set_lr, args=(run.id, key),
                         disabled=lr_refused is not None)
    paused = wanted["paused"]
    pause_col.button(t("play.resume" if paused else "play.pause"), key=f"{prefix}_pause", width="stretch",
                     icon=":material/play_arrow:" if paused else ":material/pause:", on_click=set_paused,
                     args=(run.id, not paused), help=pause_refused or t("play.pause_help"),
                     disabled=pause_refused is not None)
    if lr_refused or pause_refused:   # said once, in words, beside the controls it greys out
        st.container(key=f"{prefix}_not_yours").caption(f":material/lock: {lr_refused or pause_refused}")
    if paused:
        st.container(key=f"{prefix}_paused").caption(t("play.paused"))


def run_lr(run: Run, wanted: dict) -> float:
    """The learning rate the run trains with now: the last one set live, else its configuration's."""
    return wanted["lr"] or run.config.get("train", {}).get("lr", 0.003)


def set_lr(run_id: str, key: str):
    """on_change of the live slider: a rate other than the run's own, through the engine, which refuses
    someone else's run or a challenge's locked rate."""
    store = get_store()
    run, lr = store.get_run(run_id), st.session_state.get(key)
    if run is None or lr is None or lr == run_lr(run, store.controls(run_id)):
        return
    try:
        room.actions.change_lr(store, run_id, lr, by=room_view.actor())
    except ConfigError as err:
        st.session_state["train_submit_error"] = err


def set_paused(run_id: str, paused: bool):
    try:
        room.actions.pause(get_store(), run_id, paused, by=room_view.actor())
    except ConfigError as err:
        st.session_state["train_submit_error"] = err


def stop_run(run_id: str):
    """on_click of Stop: only the run's owner (or the host) may stop it; a refusal shows under the form."""
    try:
        get_runner().stop(run_id, by=room_view.actor())
    except ConfigError as err:
        st.session_state["train_submit_error"] = err


def settings(run: Run):
    """The run's message (when it has one) and its full settings, folded away."""
    shown_with_status = run.status in ("failed", "interrupted") or labels.shown_status(run) == "time_limit"
    if run.message and not shown_with_status:   # those show it with their status
        st.info(labels.run_message(run), icon=":material/info:")
    with st.expander(t("runs.config_title")):
        st.json(run.config)
