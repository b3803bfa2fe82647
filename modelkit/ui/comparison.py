"""Several runs at once, drawn from the store: status strip, overlaid curves, leaderboard, confusion matrices.

The Compare page draws a comparison with `panel(run_ids)`; colours and labels come from
modelkit.compare, so a run has the same colour in every chart and in the leaderboard.
"""
from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from modelkit import compare, plots, tasks
from modelkit.config import RunConfig
from modelkit.ui import data as task_views
from modelkit.ui.i18n import bound, t
from modelkit.ui.live import duration, points_so_far, progress_text
from modelkit.ui.results import CHART_CONFIG, KIND_METRIC, STATUS_COLORS, TEST_METRICS
from modelkit.ui.resources import workers_starting

X_AXES = ("step", "epoch", "seconds")
PERCENT_METRICS = ("val_accuracy", "test_accuracy", "test_f1", "test_precision", "test_recall")


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
            badge = f":{STATUS_COLORS.get(run.status, 'gray')}-badge[{run.status}]"
            if run.status == "queued" and run.queue_position:
                badge += " " + t("live.queue", n=run.queue_position)
            badge += " · " + t("live.workers_starting") if run.status == "queued" and workers_starting() else ""
            st.markdown(badge)
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
        paper = compare.paper_accuracy(r.task, r.arch)
        if paper is not None and metric == "val_accuracy":
            references[labels[r.id]] = (paper, t("compare.paper_line", arch=labels[r.id], value=f"{paper:.0%}"))
    panels = (("loss", t("compare.chart.train_loss"), {"smoothing": smoothing, "log_y": log_y}),
              ("val_loss", t("compare.chart.val_loss"), {"log_y": log_y}),
              (metric, t("metric." + metric), {"y_range": y_range, "references": references}))
    for col, (name, title, extra) in zip(st.columns(3), panels):
        with col.container(key=f"compare_chart_{name}"):
            st.markdown(f"**{title}**")
            fig = plots.runs_curve_figure(by_label, name, **common, **extra,
                                          labels={"x": t(f"compare.x.{x}"), "value": title})
            st.plotly_chart(fig.update_layout(showlegend=False), config=CHART_CONFIG)   # the cards above name the colours
    if references:
        st.caption(t("compare.paper_caption"))


def _number_format(metric: str) -> str:
    return "{:.1%}" if metric in PERCENT_METRICS else "{:.3f}"


def leaderboard(runs, points: dict, labels: dict, colors: dict, kind: str):
    """The table that fills in as runs finish; the winner first in its own column, marked with a trophy."""
    metric = KIND_METRIC[kind][0]
    tests = TEST_METRICS[kind][:2] if kind != "regression" else TEST_METRICS[kind]
    table = compare.leaderboard(runs, points, metric, tests)
    shown = pd.DataFrame({
        "winner": table["winner"].map({True: "★", False: ""}),
        "run": [labels[rid] for rid in table["run_id"]],
        "params": table["params"].astype(float), "best_val": table["best_val"], "final_val": table["final_val"],
        **{m: table[m] for m in tests},
        "paper": table["paper"],
        "seconds": table["seconds"], "samples_per_s": table["samples_per_s"].round(),
        "device": table["device"], "status": table["status"], "run_id": table["run_id"]})
    if shown["paper"].isna().all():
        shown = shown.drop(columns="paper")
    metric_title = t("metric." + metric)
    column = st.column_config.Column
    config = {
        "winner": column("", width=40, help=t("compare.col.winner_help")),
        "run": column(t("compare.col.run")),
        "params": column(t("results.col.params")),
        "best_val": column(t("compare.col.best", metric=metric_title)),
        "final_val": column(t("compare.col.final", metric=metric_title)),
        **{m: column(t("metric." + m)) for m in tests},
        "paper": column(t("compare.col.paper"), help=t("compare.col.paper_help")),
        "seconds": column(t("compare.col.seconds")),
        "samples_per_s": column(t("compare.col.samples_per_s")),
        "device": column(t("compare.col.device")),
        "status": column(t("compare.col.status")),
        "run_id": column(t("compare.col.run_id")),
    }
    # the Styler draws each run's name in its colour and formats the numbers (– until a value exists)
    formats = {"params": "{:,.0f}", "best_val": _number_format(metric), "final_val": _number_format(metric),
               **{m: _number_format(m) for m in tests}, "paper": "{:.0%}", "seconds": "{:.1f}",
               "samples_per_s": "{:,.0f}"}
    run_colors = [colors[rid] for rid in table["run_id"]]
    styled = (shown.style.format({k: v for k, v in formats.items() if k in shown}, na_rep="–")
              .apply(lambda col: [f"color: {c}; font-weight: 600" for c in run_colors], subset=["run"]))
    with st.container(key="compare_leaderboard"):
        st.dataframe(styled, hide_index=True, column_config=config, placeholder="–")
    win = table.loc[table["winner"], "run_id"]
    if len(win):
        row = table[table["winner"]].iloc[0]
        value = row[tests[0]] if tests else row["final_val"]
        text = f"{value:.1%}" if (tests[0] if tests else metric) in PERCENT_METRICS else f"{value:.3f}"
        st.container(key="compare_winner").success(t("compare.winner", run=labels[win.iloc[0]], metric=t("metric." + (tests[0] if tests else metric)),
                     value=text), icon=":material/trophy:")


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
                fig = plots.confusion_matrix_figure(details["confusion_matrix"], details.get("class_names", ()),
                                                    labels={"true": t("plot.true_class"),
                                                            "pred": t("plot.pred_class")}, height=320)
                st.plotly_chart(fig, config=CHART_CONFIG, key=f"compare_confusion_{run.id}")


def panel(store, run_ids):
    """The whole comparison of `run_ids`: status cards, controls, curves, leaderboard, confusion matrices."""
    runs, points = fetch(store, run_ids)
    if not runs:
        return []
    task = runs[0].task
    others = [r for r in runs if r.task != task]
    if others:
        st.warning(t("compare.other_tasks", task=t(f"task.{task}.title"), n=len(others)))
        runs = [r for r in runs if r.task == task]
    tl = bound()
    labels = compare.run_labels(runs, lambda a: tl(f"arch.{a}.title"))
    colors = compare.run_colors([r.id for r in runs])
    kind = tasks.load(RunConfig.from_dict(runs[0].config).task).spec.kind
    status_strip(store, runs, labels, colors)
    x, smoothing, log_y = chart_controls()
    charts(runs, points, labels, colors, kind, x, smoothing, log_y)
    st.markdown(f"#### {t('compare.leaderboard_title')}")
    leaderboard(runs, points, labels, colors, kind)
    if kind == "classification":
        confusion_matrices(runs, labels, colors)
    return runs
