"""Several runs at once, drawn from the store: status strip, overlaid curves, leaderboard, confusion matrices.

The Compare page draws a comparison with `panel(run_ids)`; colours and labels come from
modelkit.compare.race, so a run has the same colour in every chart and in the leaderboard.
"""
from __future__ import annotations

import html
import unicodedata

import pandas as pd
import streamlit as st

from modelkit.compare import race
from modelkit.config import RunConfig
from modelkit.data.tasks import task_info
from modelkit.plots import figures, words
from modelkit.ui.access import chart_words, show_chart
from modelkit.ui.i18n import bound, current, t
from modelkit.ui.labels import (
    PERCENT_METRICS,
    class_name,
    format_metric,
    setting_text,
    setting_value,
    shown_status,
    status_badge,
    task_title,
)
from modelkit.ui.live import duration, points_so_far, progress_text
from modelkit.ui.resources import workers_starting
from modelkit.ui.results import KIND_METRIC, TEST_METRICS

X_AXES = ("step", "epoch", "seconds")


def points_key(run_id: str) -> str:
    return f"compare_points_{run_id}"


def fetch(store, run_ids) -> tuple[list, dict[str, pd.DataFrame]]:
    """The runs (in comparison order, missing ones dropped) and their points, only new points fetched."""
    runs = [r for r in (store.get_run(run_id) for run_id in run_ids) if r is not None]
    return runs, {r.id: points_so_far(store, r.id, points_key(r.id)) for r in runs}


def swatch(color: str, text: str) -> str:
    """`text` after a dot of the run's colour (HTML for st.markdown(unsafe_allow_html=True))."""
    return f'<span style="color:{color};font-size:1.3em;line-height:1">●</span> <b>{html.escape(text)}</b>'


def status_strip(store, runs, labels: dict, colors: dict):
    """One small card per run: its colour, name, status word and progress."""
    cols = st.columns(min(len(runs), 6))
    for i, run in enumerate(runs):
        with cols[i % len(cols)].container(border=True, key=f"compare_card_{i}"):
            st.markdown(swatch(colors[run.id], labels[run.id]), unsafe_allow_html=True)
            paused = run.status == "running" and store.controls(run.id)["paused"]
            st.markdown(status_badge(shown_status(run, paused), run.queue_position,
                                     starting=run.status == "queued" and workers_starting()))
            if run.status == "running":
                budget = RunConfig.from_dict(run.config).train.time_budget
                progress = store.live(run.id).get("progress") or {}
                fraction, _ = progress_text(progress, budget)
                st.progress(fraction, text=t("live.elapsed", time=duration(progress.get("seconds") or 0.0)))
            elif not run.active and run.started and run.finished:
                st.caption(duration((run.finished - run.started).total_seconds()))


def chart_controls() -> tuple[str, float, bool]:
    """TensorBoard's three: what the x-axis counts, how much to smooth, and a log scale for the loss."""
    for k, default in (("compare_x", "step"), ("compare_smoothing", 0.6), ("compare_log", False)):
        st.session_state.setdefault(k, default)
    left, middle, right = st.columns([1.3, 2, 1], vertical_alignment="bottom")
    tl = bound()
    x = left.segmented_control(t("compare.x_axis"), X_AXES, key="compare_x", required=True,
                               format_func=lambda v: tl(f"compare.x.{v}"), help=t("help.compare.x_axis"))
    smoothing = middle.slider(t("compare.smoothing"), 0.0, 0.99, step=0.01, key="compare_smoothing",
                              help=t("help.compare.smoothing"))
    log_y = right.toggle(t("compare.log_scale"), key="compare_log", help=t("help.compare.log_scale"))
    return x or "step", smoothing, log_y


def charts(runs, points: dict, labels: dict, colors: dict, kind: str, x: str, smoothing: float, log_y: bool):
    """Training loss, validation loss and the task's validation metric, side by side, one colour per run."""
    by_label = {labels[r.id]: points[r.id] for r in runs}
    label_colors = {labels[r.id]: colors[r.id] for r in runs}
    common = {"colors": label_colors, "x": x}
    metric, y_range = KIND_METRIC[kind]
    references = {}
    for r in runs:
        paper = race.paper_accuracy(r.task, r.arch)
        if paper is not None and metric == "val_accuracy":
            references[labels[r.id]] = (paper, f"{paper:.0%}")   # beside its line, in the run's colour
    panels = (("loss", t("compare.chart.train_loss"), {"smoothing": smoothing, "log_y": log_y}),
              ("val_loss", t("compare.chart.val_loss"), {"log_y": log_y}),
              (metric, t("metric." + metric), {"y_range": y_range, "references": references}))
    for col, (name, title, extra) in zip(st.columns(3), panels):
        with col.container(key=f"compare_chart_{name}"):
            st.markdown(f"**{title}**")
            fig = figures.runs_curve_figure(by_label, name, **common, **extra,
                                          labels={"x": t(f"compare.x.{x}"), "value": title})
            show_chart(fig)   # its legend shows each run's dash and marker beside its colour
            chart_words(words.describe_runs(by_label, name, current(), what=title, percent=name in PERCENT_METRICS,
                                            higher_is_better=race.higher_is_better(name)),
                        words.runs_table(by_label, name, (t("words.col.run"), t("words.col.last"))))
    if references:
        st.caption(t("compare.paper_caption"))


def _number_format(metric: str) -> str:
    return "{:.1%}" if metric in PERCENT_METRICS else "{:.3f}"


def text_width(text: str) -> int:
    """Pixels the table needs to show `text` whole in a cell or header (a wide CJK character counts twice)."""
    units = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))
    return 24 + 7 * units   # Source Sans at 14 px: 6-7 px a character (measured in Chromium), plus the padding


def leaderboard_frame(runs, table: pd.DataFrame, labels: dict, metric: str, tests) -> tuple[pd.DataFrame, dict]:
    """The leaderboard as the reader sees it, and each column's (header, number format or None): the winner,
    the run, its status, the scores, what tells runs of one architecture apart, then how it ran."""
    by_id = {r.id: r for r in runs}
    differs = race.label_settings(runs)
    metric_title = t("metric." + metric)
    columns = {
        "winner": ("", None, table["winner"].map({True: "★", False: ""})),
        "run": (t("compare.col.run"), None, [labels[rid] for rid in table["run_id"]]),
        "status": (t("compare.col.status"), None, table["status"].map(lambda s: t(f"badge.{s}"))),
        "best_val": (t("compare.col.best", metric=metric_title), _number_format(metric), table["best_val"]),
        "final_val": (t("compare.col.final", metric=metric_title), _number_format(metric), table["final_val"]),
        **{m: (t("metric." + m), _number_format(m), table[m]) for m in tests},
        "paper": (t("compare.col.paper"), "{:.0%}", table["paper"]),
        **{path: (t(f"field.{path}"), None, [setting_value(path, race.settings(by_id[rid]).get(path))
                                              for rid in table["run_id"]]) for path in differs},
        "seconds": (t("compare.col.seconds"), "{:.1f}", table["seconds"]),
        "params": (t("results.col.params"), "{:,.0f}", table["params"].astype(float)),
        "samples_per_s": (t("compare.col.samples_per_s"), "{:,.0f}", table["samples_per_s"].round()),
        "device": (t("compare.col.device"), None, table["device"]),
        "run_id": (t("compare.col.run_id"), None, table["run_id"]),
    }
    if table["paper"].isna().all():
        del columns["paper"]
    shown = pd.DataFrame({name: list(values) for name, (_, _, values) in columns.items()})
    return shown, {name: (header, fmt) for name, (header, fmt, _) in columns.items()}


def column_widths(shown: pd.DataFrame, heads: dict) -> dict[str, int]:
    """Each column wide enough for its header and its longest value, so that nothing is cut off."""
    widths = {}
    for name, (header, fmt) in heads.items():
        cells = ["–" if pd.isna(v) else (fmt.format(v) if fmt else str(v)) for v in shown[name]]
        widths[name] = max(text_width(x) for x in [header, *cells])
    return widths


def leaderboard(runs, points: dict, labels: dict, colors: dict, kind: str):
    """The table that fills in as runs finish; the winner first in its own column, marked with a trophy."""
    metric = KIND_METRIC[kind][0]
    tests = TEST_METRICS[kind][:2] if kind != "regression" else TEST_METRICS[kind]
    table = race.leaderboard(runs, points, metric, tests)
    shown, heads = leaderboard_frame(runs, table, labels, metric, tests)
    widths = column_widths(shown, heads)
    helps = {"winner": t("compare.col.winner_help"), "paper": t("compare.col.paper_help")}
    config = {name: st.column_config.Column(header, width=40 if name == "winner" else widths[name],
                                            help=helps.get(name), pinned=name in ("winner", "run") or None)
              for name, (header, _) in heads.items()}   # the run stays in sight while the table scrolls sideways
    # the Styler draws each run's name in its colour and formats the numbers (– until a value exists)
    run_colors = [colors[rid] for rid in table["run_id"]]
    styled = (shown.style.format({name: fmt for name, (_, fmt) in heads.items() if fmt}, na_rep="–")
              .apply(lambda col: [f"color: {c}; font-weight: 600" for c in run_colors], subset=["run"]))
    with st.container(key="compare_leaderboard"):
        st.dataframe(styled, hide_index=True, column_config=config, placeholder="–")
    win = table.loc[table["winner"], "run_id"]
    if len(win):
        judged_by = tests[0] if tests else "final_val"
        value = table[table["winner"]].iloc[0][judged_by]
        name = tests[0] if tests else metric
        st.container(key="compare_winner").success(
            t("compare.winner", run=labels[win.iloc[0]], metric=t("metric." + name), value=format_metric(name, value)),
            icon=":material/trophy:")


def confusion_matrices(runs, labels: dict, colors: dict):
    """The test-set confusion matrix of every finished classification run, side by side."""
    done = [r for r in runs if not r.active and r.status in ("completed", "stopped")]
    if not done:
        return
    st.markdown(f"#### {t('compare.confusion_title')}")
    st.caption(t("results.confusion_caption"))
    per_row = 3 if len(done) != 4 else 2
    for start in range(0, len(done), per_row):
        cols = st.columns(per_row)
        for col, run in zip(cols, done[start:start + per_row]):
            details = run.details or {}
            if "confusion_matrix" not in details:
                continue
            with col:
                st.markdown(swatch(colors[run.id], labels[run.id]), unsafe_allow_html=True)
                names = [class_name(n) for n in details.get("class_names", ())] or \
                    [str(i) for i in range(len(details["confusion_matrix"]))]
                fig = figures.confusion_matrix_figure(details["confusion_matrix"], names,
                                                    labels={"true": t("plot.true_class"),
                                                            "pred": t("plot.pred_class")}, height=320)
                show_chart(fig, key=f"compare_confusion_{run.id}")
                chart_words(words.describe_confusion(details["confusion_matrix"], names, current()),
                            words.confusion_table(details["confusion_matrix"], names, t("plot.true_class")))


def panel(store, run_ids):
    """The whole comparison of `run_ids`: status cards, controls, curves, leaderboard, confusion matrices."""
    runs, points = fetch(store, run_ids)
    if not runs:
        return []
    task = runs[0].task
    others = [r for r in runs if r.task != task]
    if others:
        st.warning(t("compare.other_tasks", task=task_title(task), n=len(others)))
        runs = [r for r in runs if r.task == task]
    tl = bound()
    labels = race.run_labels(runs, lambda a: tl(f"arch.{a}.title"), setting_text)
    colors = race.run_colors([r.id for r in runs])
    kind = task_info(task).kind
    status_strip(store, runs, labels, colors)
    x, smoothing, log_y = chart_controls()
    charts(runs, points, labels, colors, kind, x, smoothing, log_y)
    st.markdown(f"#### {t('compare.leaderboard_title')}")
    leaderboard(runs, points, labels, colors, kind)
    if kind == "classification":
        confusion_matrices(runs, labels, colors)
    return runs
