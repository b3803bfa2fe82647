"""The Compare page's Sweep and Scale modes: one architecture, many runs, one budget.

Sweep: one or two settings over a small grid (modelkit.compare.sweep), a heatmap of the validation metric that
fills in live, the best cell outlined. Scale: one family at 4-6 sizes, test metric and training time
against parameter count, and one sentence on where adding parameters stopped paying. The page passes
`base_for(arch)`, the config its task, budget and size widgets describe; runs go through the runner.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from modelkit import models
from modelkit.compare import sweep
from modelkit.compare.race import higher_is_better
from modelkit.config import ConfigError, RunConfig
from modelkit.data import tasks
from modelkit.data.tasks import task_info
from modelkit.plots import play_charts, words
from modelkit.ui import seat
from modelkit.ui.access import chart_words, show_chart
from modelkit.ui.forms import error_text
from modelkit.ui.i18n import bound, current, t
from modelkit.ui.labels import setting_value
from modelkit.ui.live import points_so_far, polled
from modelkit.ui.resources import get_store
from modelkit.ui.results import KIND_METRIC, TEST_METRICS

SWEEP_KEY, SCALE_KEY = "compare_sweep", "compare_scale"   # what was launched: run ids and how to draw them
DEFAULT_VALUES = {"train.lr": "0.001, 0.01, 0.1", "train.batch_size": "16, 64", "train.weight_decay": "0, 0.01",
                  "model.hidden": "8, 32, 128", "model.channels": "8, 32", "model.hidden_size": "16, 64",
                  "model.layers": "1, 2", "model.d_model": "16, 64", "model.dropout": "0, 0.3"}
NO_SETTING = ""


def values_key(path: str) -> str:
    return f"compare_sweep_values_{path.replace('.', '_')}"


def arch_choice(key: str, archs: list[str]) -> str:
    tl = bound()
    if st.session_state.get(key) not in archs:   # the plain deep network first: it has sizes to vary
        st.session_state[key] = "mlp" if "mlp" in archs else archs[0]
    return st.selectbox(t("sweep.arch"), archs, key=key, format_func=lambda a: tl(f"arch.{a}.title"))


def axis(label: str, key: str, options: list[str], default: str) -> str:
    """One setting to vary (or none) and its values, the values' box keyed by the setting."""
    tl = bound()
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    path = st.selectbox(label, options, key=key, format_func=lambda p: tl(f"field.{p}") if p else tl("sweep.none"))
    if path:
        st.session_state.setdefault(values_key(path), DEFAULT_VALUES.get(path, ""))
        st.text_input(t("sweep.values"), key=values_key(path), help=t("sweep.values_help"))
    return path


def named(base: RunConfig, kind: str) -> RunConfig:
    """`base` in a group of `kind` (a sweep, a ladder) started now: pages name its runs in their reader's
    language (labels.run_titles)."""
    base.group = {"kind": kind, "at": round(time.time())}
    return base


def planned_sweep(base: RunConfig, paths: list[str]) -> tuple[list[RunConfig], dict]:
    values = {p: sweep.parse_values(st.session_state[values_key(p)], p) for p in paths}
    return sweep.expand(named(base, "sweep"), values), values


def sweep_mode(task: str, base_for: Callable[[str], RunConfig]):
    """Setup (architecture, one or two settings and their values), start, and the live heatmap."""
    st.markdown(f"### 3 · {t('sweep.setup_header')}")
    st.caption(t("sweep.intro", cap=sweep.MAX_RUNS))
    arch_col, x_col, y_col = st.columns(3)
    with arch_col:
        arch = arch_choice("compare_sweep_arch", models.archs_for(task))
    try:
        base = base_for(arch)
        options = sweep.sweepable(base)
        with x_col:
            x = axis(t("sweep.x"), "compare_sweep_x", options, options[0])
        with y_col:
            y = axis(t("sweep.y"), "compare_sweep_y", [NO_SETTING, *(p for p in options if p != x)], NO_SETTING)
        configs, values = planned_sweep(base, [p for p in (x, y) if p])
    except ConfigError as err:
        st.error(error_text(err, arch), icon=":material/error:")
        configs, values = [], {}
    st.button(t("sweep.start", n=len(configs)), key="compare_sweep_start", type="primary", disabled=not configs,
                 icon=":material/grid_on:", on_click=launch, args=(SWEEP_KEY, configs, {"values": values}),
                 width="content")
    shown(SWEEP_KEY, sweep_panel)


def launch(state_key: str, configs: list[RunConfig], extra: dict):
    """Queue the grid or ladder as one group (modelkit.room.door); a refusal shows under its Start button."""
    try:
        st.session_state[state_key] = {"runs": seat.submit(configs), **extra}
    except ConfigError as err:
        st.session_state[f"{state_key}_refused"] = err


def shown(state_key: str, panel: Callable):
    """The door's refusal of the last start, else the launched runs' panel, polled while any is queued or running."""
    if f"{state_key}_refused" in st.session_state:
        st.error(error_text(st.session_state.pop(f"{state_key}_refused")), icon=":material/block:")
    launched = st.session_state.get(state_key)
    if not launched:
        return
    st.markdown(f"### 4 · {t('sweep.results_header')}")
    store = get_store()
    if any(r is not None and r.active for r in map(store.get_run, launched["runs"])):
        polled(panel)
    else:
        panel()


def fetch(state_key: str) -> tuple[list, dict]:
    store = get_store()
    runs = [r for r in map(store.get_run, st.session_state[state_key]["runs"]) if r is not None]
    return runs, {r.id: points_so_far(store, r.id, f"{state_key}_points_{r.id}") for r in runs}


def progress_line(runs: list, polling: bool):
    done = sum(not r.active for r in runs)
    if polling and done == len(runs):
        st.rerun(scope="app")   # all finished: draw once more, without polling
    st.caption(t("sweep.progress", done=done, n=len(runs)))
    seat.stop_all_button(runs, "compare_sweep_stop")


def sweep_panel(polling: bool = False):
    runs, points = fetch(SWEEP_KEY)
    if not runs:
        return
    progress_line(runs, polling)
    values = st.session_state[SWEEP_KEY]["values"]
    paths = list(values)
    metric = KIND_METRIC[task_info(runs[0].task).kind][0]
    table, best = sweep.grid_table(runs, points, paths, metric, values)
    table.columns = [setting_value(paths[0], v) for v in table.columns]
    if len(paths) > 1:
        table.index = [setting_value(paths[1], v) for v in table.index]
    best_shown = best and (setting_value(paths[0], best[0]), setting_value(paths[1], best[1]) if len(paths) > 1 else "")
    labels = {"x": t(f"field.{paths[0]}"), "y": t(f"field.{paths[1]}") if len(paths) > 1 else "",
              "value": t(f"metric.{metric}")}
    fig = play_charts.sweep_heatmap_figure(table, best_shown, labels=labels, higher_is_better=higher_is_better(metric))
    filled = int(table.notna().to_numpy().sum())
    with st.container(key=f"compare_sweep_heatmap_{filled}"):   # how many cells are in: a handle for scripts
        st.markdown(f"**{t('sweep.heatmap_title', metric=t(f'metric.{metric}'))}**")
        show_chart(fig, key="compare_sweep_fig")
        cells = (words.grid_table(table, f"{labels['y']} / {labels['x']}") if len(paths) > 1
                 else words.grid_table(table.set_axis([labels["value"]]), labels["x"]))   # one setting: one row
        chart_words(words.describe_grid(table, current(), what=labels["value"]), cells)
    if best_shown:
        where = " · ".join(v for v in best_shown if v)
        value, training = f"{table.loc[best_shown[1], best_shown[0]]:.3g}", sum(r.active for r in runs)
        if training:   # not the best cell yet: a run still training may beat it
            st.info(t("sweep.best_so_far", where=where, value=value, n=training, total=len(runs)))
        else:
            st.success(t("sweep.best", where=where, value=value), icon=":material/star:")


# --- Scale ----------------------------------------------------------------------------

def scale_mode(task: str, base_for: Callable[[str], RunConfig]):
    """Setup (one family), the ladder it would train, start, and the chart with its sentence."""
    st.markdown(f"### 3 · {t('scale.setup_header')}")
    st.caption(t("scale.intro"))
    families = [a for a in models.archs_for(task) if a in models.scalable()]
    if not families:
        st.info(t("scale.no_family"))
        return
    pick, plan = st.columns([1, 3], vertical_alignment="bottom")
    with pick:
        arch = arch_choice("compare_scale_arch", families)
    try:
        ladder = ladder_for(named(base_for(arch), "scale").to_json())
    except ConfigError as err:
        st.error(error_text(err, arch), icon=":material/error:")
        return
    sizes = [RunConfig.from_json(c) for c, _ in ladder]
    plan.caption(t("scale.plan", n=len(ladder), sizes=" → ".join(f"{p:,}" for _, p in ladder)))
    st.button(t("scale.start", n=len(ladder)), key="compare_scale_start", type="primary", icon=":material/stacked_line_chart:",
              on_click=launch, args=(SCALE_KEY, sizes, {}))
    shown(SCALE_KEY, scale_panel)


@st.cache_data(show_spinner=False, max_entries=32)
def ladder_for(base_json: str) -> list[tuple[str, int]]:
    """The ladder of a base config, each size with its parameter count (built on the meta device: no memory)."""
    base = RunConfig.from_json(base_json)
    spec = tasks.load(base.task).spec
    return [(c.to_json(), sweep.param_count(c, spec)) for c in sweep.scale_ladder(base)]


def scale_panel(polling: bool = False):
    runs, _ = fetch(SCALE_KEY)
    if not runs:
        return
    progress_line(runs, polling)
    kind = task_info(runs[0].task).kind
    metric = TEST_METRICS[kind][0]
    table = sweep.scale_table(runs, metric)
    labels = {"params": t("scale.params"), "metric": t(f"metric.{metric}"), "seconds": t("scale.seconds")}
    with st.container(key="compare_scale_chart"):
        fig = play_charts.scale_figure(table, labels=labels)
        show_chart(fig, key="compare_scale_fig")
        chart_words(words.describe_lines(fig, current()), words.lines_table(fig, labels["params"]))
    said = sweep.where_it_stopped(table, metric)
    if said is not None:
        st.info(sentence(said, metric), icon=":material/lightbulb:")
    shown_table = pd.DataFrame({t("scale.params"): table["params"], t(f"metric.{metric}"): table["metric"],
                                t("scale.seconds"): table["seconds"]})
    st.dataframe(shown_table, hide_index=True, width="stretch",   # 12,345 parameters, not 12345
                 column_config={t("scale.params"): st.column_config.NumberColumn(format="localized")})


def sentence(said: dict, metric: str) -> str:
    numbers = {k: f"{v:,}" if isinstance(v, int) else f"{v:.3g}" for k, v in said.items() if k != "code"}
    numbers["slower"] = f"{said['slower']:.1f}" if "slower" in said else ""   # one timing per size: a rough figure
    return t(f"scale.{said['code']}", metric=t(f"metric.{metric}"), **numbers)
