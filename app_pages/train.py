"""Train: task -> architecture -> hyperparameters -> live curves -> results, for one run."""
from __future__ import annotations


import streamlit as st

from modelkit import models
from modelkit.config import ConfigError, RunConfig, make_config
from modelkit.data.tasks import task_info
from modelkit.ui import challenge, forms, run_view, seat, task_views
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import localized
from modelkit.ui.pickers import task_picker
from modelkit.ui.presets import PRESETS
from modelkit.ui.query import config_from_query, config_to_query, is_config_param
from modelkit.ui.resources import get_store

P = "train"                     # widget key prefix of this page
RUN_KEY = "train_run"
MAIN_TRAIN_FIELDS = ("optimizer", "batch_size", "epochs", "time_budget")
DEFAULT_TASK, DEFAULT_ARCH = "moons", "mlp"


# --- form state ---------------------------------------------------------------

def start_form():
    """First run of a session: the URL's settings (and run), else the defaults."""
    if "train_task" in st.session_state:
        return
    config = None
    try:
        config = config_from_query(st.query_params)
    except ConfigError:
        st.session_state["train_url_refused"] = True
    forms.fill(config or localized(make_config(DEFAULT_TASK, DEFAULT_ARCH)), P)
    run_id = st.query_params.get("run")
    if run_id and RUN_KEY not in st.session_state and get_store().get_run(run_id):
        st.session_state[RUN_KEY] = run_id


def forget_run():
    """A new task or preset starts afresh: the last run's view goes (the run itself stays on the Runs page)."""
    st.session_state.pop(RUN_KEY, None)


def on_task_change():
    forget_run()
    task = st.session_state["train_task"]
    arch = st.session_state["train_arch"]
    forms.fill(localized(make_config(task, arch if arch in models.archs_for(task) else models.first_choice(task))), P)


def on_arch_change():
    task_fields = forms.read(P, st.session_state["train_task"], st.session_state["train_arch"])["task"]
    forms.fill(make_config(task_fields["name"], st.session_state["train_arch"], base={"task": task_fields}), P)


def on_preset(preset):
    forget_run()
    forms.fill(preset.config(), P)


def render_form() -> dict:
    """The three form sections; returns {config path: st.empty()} where refusals are shown."""
    st.markdown(f"### 1 · {t('train.task_header')}")
    task, slots = task_picker(P, on_task_change)

    st.markdown(f"### 2 · {t('train.arch_header')}")
    left, right = st.columns([3, 1], gap="large")
    with left:
        archs = challenge.allowed(models.archs_for(task))
        if st.session_state.get("train_arch") not in archs:
            st.session_state["train_arch"] = archs[0]
        st.selectbox(t("field.model.arch"), archs, key="train_arch", help=t("help.model.arch"),
                     format_func=lambda a, tl=bound(): tl(f"arch.{a}.title"), on_change=on_arch_change)
        arch = st.session_state["train_arch"]
        st.caption(t(f"arch.{arch}.desc"))
        fields = forms.section_fields("model", arch)
        cols = st.columns(4)
        for i, field in enumerate(forms.shown_model_fields(arch, task_info(task).input_kind)):
            with cols[i % 4]:
                forms.widget("model", field, fields, P)
                slots[f"model.{field}"] = st.empty()
    slots["params"] = right.empty()

    st.markdown(f"### 3 · {t('train.hyper_header')}")
    train_fields = forms.section_fields("train")
    cols = st.columns([1.6, 1, 1, 1, 1])
    with cols[0]:
        st.select_slider(t("field.train.lr"), options=forms.lr_options(st.session_state.get("train_lr")), key="train_lr", help=t("help.train.lr"),
                         disabled=forms.is_locked("train_lr"),
                         format_func=lambda v: f"{v:g}")
        slots["train.lr"] = st.empty()
    for col, field in zip(cols[1:], MAIN_TRAIN_FIELDS):
        with col:
            forms.widget("train", field, train_fields, P)
            slots[f"train.{field}"] = st.empty()
    with st.expander(t("train.advanced")):
        rest = [f for f in train_fields if f not in MAIN_TRAIN_FIELDS + ("lr",)]
        task_rest = ["val_fraction", "test_fraction", "seed"]
        cols = st.columns(4)
        for i, field in enumerate(rest):
            with cols[i % 4]:
                forms.widget("train", field, train_fields, P)
                slots[f"train.{field}"] = st.empty()
        st.caption(t("train.data_split"))
        cols = st.columns(4)
        for col, field in zip(cols, task_rest):
            with col:
                forms.widget("task", field, forms.section_fields("task"), P)
                slots[f"task.{field}"] = st.empty()
    return slots


def current_config() -> tuple[RunConfig | None, ConfigError | None]:
    task, arch = st.session_state["train_task"], st.session_state["train_arch"]
    try:
        data = forms.read(P, task, arch)
        data["name"] = ""
        return RunConfig.from_dict(data), None
    except ConfigError as err:
        return None, err


def show_refusal(err: ConfigError, slots: dict, fallback):
    text = forms.error_text(err, st.session_state.get("train_arch"))
    path = err.path if err.path in slots else ".".join(err.path.split(".")[:2])
    if path in slots:  # under its field, small and red, like a form's own check
        slots[path].caption(f":red[:material/error: {text}]")
    else:
        fallback.error(text, icon=":material/error:")


# --- running ------------------------------------------------------------------

def start_run(config: RunConfig):
    """Queue `config` under the participant's name, and follow it below the form. It keeps no name: pages
    name it when they show it, in the reader's language, by what differs from the participant's last run."""
    try:
        run_id, = seat.submit([config], challenge=challenge.current())
    except ConfigError as err:
        st.session_state["train_submit_error"] = err
        return
    st.session_state[RUN_KEY] = run_id


def sync_url(config: RunConfig | None):
    """Keep ?run= and the form's settings in the URL, so a reload or a shared link restores them."""
    wanted = config_to_query(config) if config else {}
    if st.session_state.get(RUN_KEY):
        wanted["run"] = st.session_state[RUN_KEY]
    for name in list(st.query_params):
        if (is_config_param(name) or name == "run") and name not in wanted:
            del st.query_params[name]
    for name, value in wanted.items():
        if st.query_params.get(name) != value:
            st.query_params[name] = value


# --- page ---------------------------------------------------------------------

start_form()
st.title(t("train.title"))
st.caption(t("train.subtitle"))
challenge.start(P)
if st.session_state.pop("train_url_refused", False):
    st.warning(t("train.url_refused"))

st.markdown(f"**{t('train.presets')}**")
preset_cols = st.columns(len(PRESETS))
for col, preset in zip(preset_cols, PRESETS):
    col.button(t(f"preset.{preset.id}.title"), key=f"train_preset_{preset.id}", help=t(f"preset.{preset.id}.desc"),
               on_click=on_preset, args=(preset,), width="stretch")

slots = render_form()
config, refusal = current_config()
if config is not None:
    try:
        slots["params"].metric(t("train.params"), f"{task_views.param_count(config):,}", help=t("help.params"))
        task_views.check_memory(config)
    except ConfigError as err:
        config, refusal = None, err

st.markdown(f"### 4 · {t('train.run_header')}")
start_col, note_col = st.columns([1, 4], vertical_alignment="center")
start_col.button(t("train.start"), key="train_start", type="primary", icon=":material/play_arrow:", disabled=config is None,
                 on_click=start_run, args=(config,), width="stretch")
general = note_col.empty()
if refusal is not None:
    show_refusal(refusal, slots, general)
    note_col.caption(t("train.fix_first"))
elif "train_submit_error" in st.session_state:
    show_refusal(st.session_state.pop("train_submit_error"), slots, general)
else:
    note_col.caption(t("train.start_hint"))

run_id = st.session_state.get(RUN_KEY)
if run_id and run_view.show(run_id, P) is None:
    st.session_state.pop(RUN_KEY)   # deleted meanwhile (Runs page, CLI)
challenge.board()
sync_url(config)
