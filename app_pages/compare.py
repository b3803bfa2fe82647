"""Compare: two to six architectures on one task with one shared budget; overlaid live curves, a leaderboard."""
from __future__ import annotations

import time

import streamlit as st

from modelkit import models
from modelkit.compare import race
from modelkit.config import ConfigError, RunConfig, make_config
from modelkit.data.tasks import task_info
from modelkit.store import ACTIVE
from modelkit.ui import comparison, forms, lesson_view, seat, sweep_view, task_views
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import localized, owner_name, run_titles, shown_status
from modelkit.ui.live import polled
from modelkit.ui.pickers import task_picker, task_settings
from modelkit.ui.resources import get_store

P = "compare"                    # widget key prefix of this page; each architecture's sizes use compare_<arch>
RUNS_KEY = "compare_runs"        # the run ids of the comparison shown, in colour order
OPENED_KEY = "compare_opened"    # True while the comparison shown was opened (link, Runs page), not set up here
REFUSED_KEY = "compare_refused"  # the door's refusal of the last start, shown beside the Start button
DEFAULT_TASK, DEFAULT_SECONDS = "digits", 20.0
SHARED_TASK_FIELDS = ("val_fraction", "test_fraction", "seed")


# --- form state ---------------------------------------------------------------

def default_archs(task: str) -> list[str]:
    fitting = models.archs_for(task)
    return [a for a in ("linear", "mlp", "cnn", "gru", "transformer") if a in fitting][:3] or fitting[:2]


def fill_task(task: str, archs: list[str]):
    """Task settings and the architecture list for `task`; the budget and seed stay as they were."""
    kept = {k: st.session_state[k] for k in ("compare_time_budget", "compare_seed") if k in st.session_state}
    forms.fill(localized(make_config(task, archs[0])), P)
    st.session_state["compare_epochs"] = st.session_state.get("compare_epochs") or 20
    st.session_state.update({"compare_time_budget": DEFAULT_SECONDS, "compare_seed": 0, **kept})
    st.session_state["compare_archs"] = archs


def start_form():
    """First run of a session: a comparison from the URL (?runs=a,b), else the defaults; a lesson's
    comparison step sets its task and architectures whenever the room moves to it."""
    asked = lesson_view.take("compare")
    if asked:
        st.session_state.setdefault("compare_budget", "seconds")
        st.session_state.update({"compare_mode": "archs", RUNS_KEY: [], OPENED_KEY: False})
        fill_task(*asked)
        return
    if "compare_task" in st.session_state:
        return
    st.session_state.setdefault("compare_budget", "seconds")
    wanted = [r for r in st.query_params.get("runs", "").split(",") if r]
    if wanted and RUNS_KEY not in st.session_state:
        st.session_state[RUNS_KEY] = [r.id for r in map(get_store().get_run, wanted) if r is not None]
        st.session_state[OPENED_KEY] = True
    shown = [get_store().get_run(r) for r in st.session_state.get(RUNS_KEY, [])]
    task = next((r.task for r in shown if r is not None), DEFAULT_TASK)
    fill_task(task, default_archs(task))


def on_task_change():
    task = st.session_state["compare_task"]
    fill_task(task, default_archs(task))


def arch_prefix(arch: str) -> str:
    return f"{P}_{arch}"


def ensure_sizes(task: str, arch: str):
    """Fill an architecture's size widgets with its defaults for `task` the first time they are needed."""
    prefix = arch_prefix(arch)
    keys = [forms.key(prefix, "model", f) for f in forms.section_fields("model", arch)]
    if st.session_state.get(f"{prefix}_task") != task or any(k not in st.session_state for k in keys):
        forms.fill(localized(make_config(task, arch)), prefix)


def config_for(task: str, arch: str, group: dict) -> RunConfig:
    """`arch` with its own sizes and training defaults, and the shared task, budget and seed."""
    shared = task_settings(P, task)   # every run of the comparison shares them
    model = forms.read(arch_prefix(arch), task, arch)["model"]
    budget = ({"epochs": st.session_state["compare_epochs"], "time_budget": None}
              if st.session_state["compare_budget"] == "epochs"
              else {"epochs": None, "time_budget": st.session_state["compare_time_budget"]})
    train = {**budget, "seed": st.session_state["compare_seed"]}
    config = make_config(task, arch, base={"task": shared, "model": model, "train": train})
    config.group = group   # named at display time, in the reader's language (labels.run_titles)
    return config


def current_configs() -> tuple[list[RunConfig], tuple[str, ConfigError] | None]:
    task, archs = st.session_state["compare_task"], st.session_state["compare_archs"]
    group = {"kind": "compare", "at": round(time.time())}
    configs = []
    for arch in archs:
        try:
            configs.append(config_for(task, arch, group))
            task_views.check_memory(configs[-1])
        except ConfigError as err:
            return [], (arch, err)
    return configs, None


# --- launching ----------------------------------------------------------------

def launch(configs: list[RunConfig]):
    """Queue every run at once, as one group (modelkit.room.door); the comparison shows them in this order.
    A refusal (the room's limits) is shown beside the Start button."""
    try:
        st.session_state[RUNS_KEY] = seat.submit(configs)
    except ConfigError as err:
        st.session_state[REFUSED_KEY] = err
        return
    st.session_state[OPENED_KEY] = False
    # a time race reads best against seconds, an epoch race against epochs
    st.session_state["compare_x"] = "seconds" if configs[0].train.epochs is None else "epoch"


def start_comparison():
    configs, refusal = current_configs()
    if refusal is None and len(configs) >= race.MIN_RUNS:
        launch(configs)


def start_paper_race():
    """MNIST-1D with the paper's families and a Transformer, the same seconds each, launched at once."""
    st.session_state["compare_task"] = race.PAPER_TASK
    fill_task(race.PAPER_TASK, list(race.PAPER_RACE_ARCHS))
    st.session_state.update(compare_budget="seconds", compare_time_budget=race.PAPER_RACE_SECONDS)
    for arch in race.PAPER_RACE_ARCHS:
        forms.fill(make_config(race.PAPER_TASK, arch), arch_prefix(arch))
    group = {"kind": "race", "at": round(time.time())}
    configs = [config_for(race.PAPER_TASK, a, group) for a in race.PAPER_RACE_ARCHS]
    launch(configs)


def add_from_history():
    added = [r for r in st.session_state.get("compare_add", []) if r not in st.session_state.get(RUNS_KEY, [])]
    st.session_state[RUNS_KEY] = st.session_state.get(RUNS_KEY, []) + added
    st.session_state["compare_add"] = []


def clear_comparison():
    st.session_state[RUNS_KEY] = []
    st.session_state[OPENED_KEY] = False


# --- page sections ------------------------------------------------------------

def render_setup():
    tl = bound()
    if st.session_state.get(OPENED_KEY) and st.session_state.get(RUNS_KEY):
        st.info(t("compare.opened_note"), icon=":material/info:")
    st.markdown(f"### 1 · {t('compare.task_header')}")
    task, _ = task_picker(P, on_task_change)

    st.markdown(f"### 2 · {t('compare.arch_header')}")
    fitting = models.archs_for(task)
    st.session_state["compare_archs"] = [a for a in st.session_state.get("compare_archs", []) if a in fitting]
    st.multiselect(t("compare.archs"), fitting, key="compare_archs", max_selections=race.MAX_RUNS,
                   format_func=lambda a: tl(f"arch.{a}.title"), help=t("help.compare.archs"),
                   placeholder=t("compare.archs_placeholder"))
    archs = st.session_state["compare_archs"]
    cols = st.columns(3)
    for i, arch in enumerate(archs):
        ensure_sizes(task, arch)
        with cols[i % 3]:
            sizes(task, arch)
    return task, archs


def sizes(task: str, arch: str):
    """An architecture's size controls in an expander titled with its parameter count."""
    prefix = arch_prefix(arch)
    try:
        count = f"{task_views.param_count(config_for(task, arch, '')):,}"
    except ConfigError:
        count = "–"
    with st.expander(t("compare.sizes", arch=t(f"arch.{arch}.title"), n=count)):
        st.caption(t(f"arch.{arch}.desc"))
        fields = forms.section_fields("model", arch)
        for field in forms.shown_model_fields(arch, task_info(task).input_kind):
            forms.widget("model", field, fields, prefix)


def render_budget(number: int = 3):
    st.markdown(f"### {number} · {t('compare.budget_header')}")
    tl = bound()
    cols = st.columns([1.7, 1, 1, 1.6], vertical_alignment="bottom")   # the budget choice fits its two words
    cols[0].segmented_control(t("compare.budget"), ("seconds", "epochs"), key="compare_budget", required=True,
                              format_func=lambda v: tl(f"compare.budget.{v}"), help=t("help.compare.budget"))
    train_fields = forms.section_fields("train")
    with cols[1]:
        field = "epochs" if st.session_state["compare_budget"] == "epochs" else "time_budget"
        forms.widget("train", field, train_fields, P)
    with cols[2]:
        forms.widget("train", "seed", train_fields, P)
    with cols[3].expander(t("train.data_split")):
        task_fields = forms.section_fields("task")
        for field in SHARED_TASK_FIELDS:
            forms.widget("task", field, task_fields, P)
    # an architecture race compares architectures; a sweep or a scale ladder varies one architecture
    st.caption(t("compare.budget_caption" if st.session_state.get("compare_mode", "archs") == "archs"
                 else "compare.budget_caption_runs"))


def render_start():
    configs, refusal = current_configs()
    archs = st.session_state["compare_archs"]
    ready = refusal is None and len(archs) >= race.MIN_RUNS
    start_col, race_col, note_col = st.columns([1, 1.3, 3], vertical_alignment="center")
    start_col.button(t("compare.start", n=len(archs)), key="compare_start", type="primary", disabled=not ready,
                     icon=":material/play_arrow:", on_click=start_comparison, width="stretch")
    race_col.button(t("compare.paper_race"), key="compare_paper_race", icon=":material/flag:",
                    help=t("compare.paper_race_help", seconds=f"{race.PAPER_RACE_SECONDS:g}"),
                    on_click=start_paper_race, width="stretch")
    if REFUSED_KEY in st.session_state:   # the door refused the last start
        note_col.error(forms.error_text(st.session_state.pop(REFUSED_KEY)), icon=":material/block:")
    elif refusal is not None:
        arch, err = refusal
        note_col.error(f"{t(f'arch.{arch}.title')}: {forms.error_text(err, arch)}", icon=":material/error:")
    elif len(archs) < race.MIN_RUNS:
        note_col.caption(t("compare.pick_two"))
    else:
        note_col.caption(t("compare.start_hint"))


def history_picker(task: str, shown: list[str]):
    """Finished runs of the same task from the history, to add to the comparison."""
    runs = seat.seen_store().list_runs()
    candidates = [r for r in runs if r.task == task and not r.active and r.id not in shown]
    with st.expander(t("compare.add_header", n=len(candidates))):
        if not candidates:
            st.caption(t("compare.add_none"))
            return
        titles = run_titles(runs)   # named now, in the reader's language
        names = {r.id: t("compare.add_option", arch=titles[r.id], owner=owner_name(r.owner),
                         created=r.created.astimezone().strftime("%Y-%m-%d %H:%M"), status=t(f"badge.{shown_status(r)}"))
                 for r in candidates}
        pick, add = st.columns([4, 1], vertical_alignment="bottom")
        pick.multiselect(t("compare.add"), list(names), key="compare_add", format_func=names.get,
                         max_selections=max(1, race.MAX_RUNS * 2 - len(shown)))
        add.button(t("compare.add_button"), key="compare_add_button", on_click=add_from_history,
                   disabled=not st.session_state.get("compare_add"), width="stretch")


def comparison_panel(polling: bool = False):
    run_ids = st.session_state.get(RUNS_KEY, [])
    runs = comparison.panel(seat.seen_store(), run_ids)
    if polling and not any(r.active for r in runs):
        st.rerun(scope="app")   # every run has ended: redraw once without polling
    seat.stop_all_button(runs, "compare_stop")


def sync_url():
    run_ids = st.session_state.get(RUNS_KEY, [])
    if run_ids:
        if st.query_params.get("runs") != ",".join(run_ids):
            st.query_params["runs"] = ",".join(run_ids)
    elif "runs" in st.query_params:
        del st.query_params["runs"]


def base_for(task: str):
    """The config of one architecture for a sweep or a scale ladder: its sizes, the shared task and budget."""
    def base(arch: str) -> RunConfig:
        ensure_sizes(task, arch)
        return config_for(task, arch, "")
    return base


MODES = ("archs", "sweep", "scale")


def render_mode() -> str:
    tl = bound()
    st.session_state.setdefault("compare_mode", "archs")
    return st.segmented_control(t("compare.mode"), MODES, key="compare_mode", required=True,
                                format_func=lambda m: tl(f"compare.mode.{m}"), help=t("help.compare.mode"))


# --- page ---------------------------------------------------------------------

def render_archs():
    """The comparison of architectures: setup, budget, start and the runs it launched."""
    task, archs = render_setup()
    render_budget()
    render_start()
    run_ids = st.session_state.get(RUNS_KEY, [])
    st.markdown(f"### 4 · {t('compare.results_header')}")
    if not run_ids:
        st.caption(t("compare.empty"))
        history_picker(task, [])
        return
    first = get_store().get_run(run_ids[0])
    history_picker(first.task if first else task, run_ids)
    st.button(t("compare.clear"), key="compare_clear", on_click=clear_comparison, type="tertiary",
              icon=":material/close:")
    store = get_store()
    if any(r is not None and r.status in ACTIVE for r in map(store.get_run, run_ids)):
        polled(comparison_panel)
    else:
        comparison_panel()


def render_grid(mode: str):
    """Sweep or Scale: one architecture, many runs (modelkit.ui.sweep_view draws them)."""
    st.markdown(f"### 1 · {t('compare.task_header')}")
    task, _ = task_picker(P, on_task_change)
    render_budget(2)
    (sweep_view.sweep_mode if mode == "sweep" else sweep_view.scale_mode)(task, base_for(task))


start_form()
st.title(t("compare.title"))
st.caption(t("compare.subtitle"))
mode = render_mode()
if mode == "archs":
    render_archs()
else:
    render_grid(mode)
sync_url()
