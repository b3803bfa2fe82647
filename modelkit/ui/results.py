"""A run's curves, live status and results, drawn from the store (the run panel of modelkit.ui.run_view).

The live view is polled: it learns a task's kind from the task registry, and the only data it draws
(the training points under a decision boundary) is built once per task settings, then cached."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from modelkit.config import RunConfig, TaskConfig, parse
from modelkit.data import tasks
from modelkit.data.tasks import task_info
from modelkit.execution.worker import LR_SET
from modelkit.plots import figures, forecast_charts, play_charts, sound, words
from modelkit.training.diagnosis import diagnose
from modelkit.training.metrics import against_baseline
from modelkit.ui import task_views
from modelkit.ui.access import announce, chart_words, show_chart
from modelkit.ui.i18n import current, t
from modelkit.ui.labels import (
    PERCENT_METRICS,
    class_name,
    format_metric,
    layer_name,
    run_message,
    shown_status,
    significant,
    status_badge,
)
from modelkit.ui.live import duration, progress_text
from modelkit.ui.resources import workers_starting

# the validation metric each kind of task is judged by, and the y-range of its chart
KIND_METRIC = {"classification": ("val_accuracy", (0, 1.02)), "regression": ("val_r2", None),
               "lm": ("val_perplexity", None)}
TEST_METRICS = {"classification": ("test_accuracy", "test_f1", "test_precision", "test_recall"),
                "regression": ("test_r2", "test_mse", "test_mae", "baseline_mse"),
                "lm": ("test_perplexity", "test_baseline_perplexity")}


def built_once(key: str, version, build):
    """The figure `build()` makes, built again only when `version` differs from the one this session last
    drew under `key`: a poll that brings no new point sends the same chart without building it anew."""
    kept = st.session_state.get(f"{key}_built")
    if kept is None or kept[0] != version:
        kept = (version, build())
        st.session_state[f"{key}_built"] = kept
    return kept[1]


def points_version(points: pd.DataFrame) -> tuple:
    """What a chart of `points` depends on: how many there are, the last one, and the reader's language."""
    last = int(points["id"].iloc[-1]) if "id" in points and len(points) else None
    return len(points), last, st.session_state.get("lang")


def curve_labels() -> dict:
    return {"step": t("plot.step"), "loss": t("plot.loss"), "train": t("plot.train"),
            "smoothed": t("plot.smoothed"), "val": t("plot.val"), "value": t("plot.value")}


def curves(points: pd.DataFrame, kind: str, prefix: str, *, active: bool, stacked: bool = False,
           last_step: int | None = None):
    """Loss (raw faint, smoothed bold, validation dotted) beside (or above) the task's quality metric.

    Both charts share the step axis (0 to `last_step`, else the last point's), so a point on one lines up
    with the other."""
    left, right = (st.container(), st.container()) if stacked else st.columns(2)
    height = 260 if stacked else 320
    steps = [0, max(1, last_step or int(points["step"].max()))]
    version = (*points_version(points), height, tuple(steps))
    with left.container(key=f"{prefix}_loss_chart"):
        st.markdown(f"**{t('results.loss_title')}**")
        show_chart(built_once(f"{prefix}_loss_fig", version, lambda: loss_figure(points, height, steps)),
                   key=f"{prefix}_loss_fig")
        # A live chart has its sentence (what the run is doing now); its table of numbers comes once the run
        # has ended: redrawn twice a second, hundreds of rows would move under a reader and cost a poll most
        # of its time on the server and in the browser.
        chart_words(words.describe_curve(points, "loss", current(), what=t("plot.train_loss"), active=active),
                    None if active else words.curves_table(points, ["loss", "val_loss"], {
                        "step": t("words.col.step"), "loss": t("plot.train"), "val_loss": t("plot.val")}))
        if not active:
            hear_curve(points, prefix)
    lr = points.loc[points["name"] == "lr", "value"]
    if lr.nunique() > 1:   # a schedule, or a change while it trained: a constant rate needs no chart
        lr_chart(points, left, prefix, steps, version)
    metric, y_range = KIND_METRIC[kind]
    with right.container(key=f"{prefix}_metric_chart"):
        st.markdown(f"**{t('metric.' + metric)}**")
        if not (points["name"] == metric).any():  # no check on the validation data yet (or ever)
            st.caption(t("live.no_check" if active else "results.no_check"))
            return
        labels = {**curve_labels(), "value": t("metric." + metric)}
        fig = built_once(f"{prefix}_metric_fig", version, lambda: figures.metric_curve_figure(
            points, metric, labels=labels, y_range=y_range, height=height, x_range=steps))
        show_chart(fig, key=f"{prefix}_metric_fig")
        chart_words(words.describe_curve(points, metric, current(), what=t("metric." + metric), active=active,
                                         percent=metric in PERCENT_METRICS),
                    None if active else words.curves_table(points, [metric], {"step": t("words.col.step"),
                                                                              metric: t("metric." + metric)}))


def hear_curve(points: pd.DataFrame, prefix: str):
    """The loss curve as sound, made and played only after a click (never by itself)."""
    key = f"{prefix}_hear"
    if st.button(t("access.hear"), key=key, icon=":material/hearing:", help=t("access.hear_help")):
        st.audio(sound.loss_sound(points), format="audio/wav", autoplay=True)


def announce_run(run, points: pd.DataFrame, kind: str, prefix: str):
    """What a screen reader hears as a run goes: queued, started, its first point, and its end when this
    page followed it (a finished run opened later is not news)."""
    followed = f"{prefix}_followed"
    if run.active:
        st.session_state[followed] = run.id
    elif st.session_state.get(followed) != run.id:
        return
    if run.status == "queued":
        announce(prefix, f"{run.id}:queued", t("access.said.queued"))
    elif run.active:
        losses = points[points["name"] == "loss"] if points is not None and len(points) else None
        if losses is None or losses.empty:
            announce(prefix, f"{run.id}:started", t("access.said.started"))
        else:
            first = losses.iloc[0]
            announce(prefix, f"{run.id}:first", t("access.said.first_point", loss=f"{first['value']:.3g}",
                                                  step=int(first["step"])))
    elif run.status in ("failed", "interrupted", "diverged"):
        announce(prefix, f"{run.id}:end", t("access.said.failed", status=t(f"badge.{run.status}")), ended=False)
    else:
        metric = next((m for m in TEST_METRICS[kind] if m in run.metrics), None)
        result = t("access.said.metric", metric=t("metric." + metric), value=format_metric(metric, run.metrics[metric])) \
            if metric else ""
        announce(prefix, f"{run.id}:end", t("access.said.finished", status=t(f"badge.{run.status}"), result=result),
                 ended=True)


def loss_figure(points: pd.DataFrame, height: int, steps: list):
    """Training and validation loss, with a marker where the learning rate was changed."""
    fig = figures.loss_curve_figure(points, labels=curve_labels(), height=height, x_range=steps)
    changes = points[points["name"] == LR_SET]
    if len(changes):
        play_charts.add_lr_markers(fig, changes, lambda lr: t("play.lr_marker", lr=f"{lr:g}"))
    return fig


def lr_chart(points: pd.DataFrame, where, prefix: str, steps: list, version):
    """The learning rate each step used (the schedule, and any change made while it trained), small."""
    with where.container(key=f"{prefix}_lr_chart"):
        st.caption(t("play.lr_title"))
        fig = built_once(f"{prefix}_lr_fig", version, lambda: play_charts.lr_figure(
            points, labels={"step": t("plot.step"), "lr": t("play.lr")}).update_xaxes(range=steps))
        show_chart(fig, key=f"{prefix}_lr_fig")
        chart_words(words.describe_curve(points, "lr", current(), what=t("play.lr")),
                    words.curves_table(points, ["lr"], {"step": t("words.col.step"), "lr": t("play.lr")}))


@st.cache_data(show_spinner=False, max_entries=16)
def _plane_points(task_json: str) -> tuple:
    """The training points drawn under a decision boundary: built once per task settings, not on every poll."""
    data = tasks.load(parse(TaskConfig, json.loads(task_json), "task"))
    return data.x_train.numpy(), data.y_train.numpy(), tuple(data.spec.class_names), tuple(tasks.feature_names(data) or ())


def boundary(snapshot: dict, config: RunConfig, key: str | None = None, caption: str | None = None):
    """The decision boundary (2-D tasks), with the training points on top; `caption` replaces the usual one."""
    task_json = json.dumps(config.to_dict()["task"], sort_keys=True)

    def build():
        x, y, names, columns = _plane_points(task_json)
        return figures.decision_boundary_figure(
            snapshot, x, y, [class_name(n) for n in names], height=520,
            labels={"x": columns[0] if columns else t("plot.feature", n=1),
                    "y": columns[1] if columns else t("plot.feature", n=2), "value": t("plot.class1_prob")})
    version = (task_json, json.dumps(snapshot.get("z")), st.session_state.get("lang"))
    fig = built_once(f"{key or 'live'}_plane", version, build)
    st.markdown(f"**{t('results.boundary_title')}**")
    st.caption(caption or t("results.boundary_caption"))
    show_chart(fig, key=key)
    names = _plane_points(task_json)[2]   # cached: the same call build() made
    chart_words(words.describe_boundary(snapshot, [class_name(n) for n in names], current()))


def live_view(store, run, config: RunConfig, points: pd.DataFrame, prefix: str):
    """Status, progress bar, curves and boundary of a run (active or not); element keys start with `prefix`."""
    snapshot = store.live(run.id)
    with st.container(key=f"{prefix}_status"):
        # the reader sees the status in words; the English status is the element's key, a handle for scripts
        shown = shown_status(run, run.status == "running" and store.controls(run.id)["paused"])
        st.container(key=f"{prefix}_status_is_{run.status}").markdown(
            status_badge(shown, run.queue_position, explain=True,
                         starting=run.status == "queued" and workers_starting()))
        if shown == "time_limit":   # how far it got
            st.caption(run_message(run))
        if run.active:
            fraction, text = progress_text(snapshot.get("progress") or {}, config.train.time_budget)
            st.progress(fraction, text=text)
    kind = task_info(config.task.name).kind
    announce_run(run, points, kind, prefix)
    has_points = points is not None and len(points) > 0
    if not has_points and run.active:
        st.caption(t("live.waiting"))
    plane = snapshot.get("boundary") if run.active else run.details.get("boundary")
    if plane:  # a 2-D task: the plane beside the curves, as in TensorFlow Playground
        left, right = st.columns([1.15, 1], gap="large")
        with left:
            boundary(plane, config)
        if has_points:
            with right:
                curves(points, kind, prefix, active=run.active, stacked=True)
    elif has_points:
        curves(points, kind, prefix, active=run.active)


def test_metrics(run, kind: str):
    shown = [m for m in TEST_METRICS[kind] if m in run.metrics]
    cols = st.columns(len(shown) + 2)
    for col, name in zip(cols, shown):
        col.metric(t("metric." + name), format_metric(name, run.metrics[name]), help=t("metric_help." + name))
    if kind == "lm" and {"test_perplexity", "test_baseline_perplexity"} <= set(run.metrics):
        st.markdown(lm_verdict(run.metrics["test_perplexity"], run.metrics["test_baseline_perplexity"]))
    if run.params:
        cols[len(shown)].metric(t("results.params"), f"{run.params:,}")
    if run.started and run.finished:
        cols[len(shown) + 1].metric(t("results.time"), duration((run.finished - run.started).total_seconds()))


def lm_verdict(perplexity: float, baseline: float) -> str:
    """The text model's result in one plain sentence: better or worse than guessing by letter frequency."""
    verdict, times = against_baseline(perplexity, baseline)
    return t(f"results.lm_{verdict}", times=significant(times, 2), ppl=format_metric("test_perplexity", perplexity),
             base=format_metric("test_baseline_perplexity", baseline))


def diagnosis(findings: list[str]):
    for code in findings:
        st.warning(f"**{t(f'diagnosis.{code}.title')}** — {t(f'diagnosis.{code}.advice')}", icon=":material/lightbulb:")


def classification_details(run, config: RunConfig) -> bool:
    """Confusion matrix, per-class scores (with the model summary under them) and, for images, the
    mistakes and right answers. True when the model summary was shown."""
    details = run.details
    if "confusion_matrix" in details:
        left, right = st.columns([1.2, 1])
        with left:
            st.markdown(f"**{t('results.confusion_title')}**")
            st.caption(t("results.confusion_caption"))
            fig = figures.confusion_matrix_figure(details["confusion_matrix"],
                                                [class_name(n) for n in details.get("class_names", ())],
                                                labels={"true": t("plot.true_class"), "pred": t("plot.pred_class")})
            show_chart(fig)
            names = [class_name(n) for n in details.get("class_names", ())] or \
                [str(i) for i in range(len(details["confusion_matrix"]))]
            chart_words(words.describe_confusion(details["confusion_matrix"], names, current()),
                        words.confusion_table(details["confusion_matrix"], names, t("plot.true_class")))
        with right:
            st.markdown(f"**{t('results.per_class_title')}**")
            table = pd.DataFrame(details.get("per_class", []))
            if len(table):
                table["class"] = table["class"].map(class_name)
                table = table.rename(columns={c: t("results.col." + c) for c in table.columns})
                st.dataframe(table, hide_index=True, width="stretch", column_config={
                    t("results.col." + c): st.column_config.ProgressColumn(format="%.2f", min_value=0, max_value=1,
                                                                           width="small")
                    for c in ("precision", "recall", "f1")})
            model_summary(config)
    if task_info(config.task.name).input_kind == "image" and details.get("examples"):
        examples_grids(tasks.load(config.task), details["examples"])
    return "confusion_matrix" in details


def examples_grids(data, examples: list[dict]):
    """Test images the model got wrong (what it said, and the truth) beside ones it got right."""
    label = lambda c: task_views.class_label(data.spec, c)  # noqa: E731
    wrong = [e for e in examples if e["true"] != e["pred"]][:12]
    right = [e for e in examples if e["true"] == e["pred"]][:16]
    for col, name, group, color in zip(st.columns(2, gap="large"), ("wrong", "right"), (wrong, right),
                                       ("#C92A2A", "#2B8A3E")):
        if not group:
            continue
        with col:
            st.markdown(f"**{t(f'results.{name}_title')}**")
            st.caption(t(f"results.{name}_caption"))
            titles = [t("results.pred_true", pred=label(e["pred"]), true=label(e["true"])) if group is wrong
                      else label(e["pred"]) for e in group]
            images = data.x_test[[e["index"] for e in group]]
            fig = figures.digits_figure(images, titles, columns=6 if group is wrong else 8,  # wider captions
                                      title_colors=[color] * len(group))
            show_chart(fig)
            chart_words(words.describe_pictures(titles, current()),
                        words.pictures_table(titles, (t("words.col.picture"), t("words.col.caption"))))


def forecast_details(run):
    """An uploaded series: the test part with the forecast over it, and how it compares with the naive ones."""
    m = run.metrics
    if "baseline_mse" in m and "test_mse" in m:
        numbers = {"mse": f"{m['test_mse']:.4g}", "naive": f"{m['baseline_mse']:.4g}"}
        if m["test_mse"] < m["baseline_mse"]:
            st.success(t("results.naive_beaten", ratio=f"{m['test_mse'] / max(m['baseline_mse'], 1e-12):.0%}",
                         **numbers), icon=":material/trending_up:")
        else:
            st.warning(t("results.naive_not_beaten", **numbers), icon=":material/trending_flat:")
        if "seasonal_mse" in m:
            beaten = m["test_mse"] < m["seasonal_mse"]
            st.caption(t("results.seasonal_beaten" if beaten else "results.seasonal_not_beaten",
                         period=int(m.get("seasonal_period", 0)), seasonal=f"{m['seasonal_mse']:.4g}"))
    st.markdown(f"**{t('results.forecast_title')}**")
    st.caption(t("results.forecast_caption"))
    labels = {"x": t("plot.time_step"), "y": run.details["forecast"].get("name") or t("plot.value"),
              "true": t("plot.true_future"), "pred": t("plot.predicted"), "path": t("plot.forecast_path"),
              "test": t("plot.test_part")}
    with st.container(key=f"results_forecast_{run.id}"):
        fig = forecast_charts.forecast_figure(run.details["forecast"], labels=labels)
        show_chart(fig)
        chart_words(words.describe_lines(fig, current()), words.lines_table(fig, labels["x"]))


def regression_details(run):
    if "forecast" in run.details:
        forecast_details(run)
        return
    series = run.details.get("series") or []
    if not series:
        return
    labels = task_views.series_labels()
    st.markdown(f"**{t('results.series_title')}**")
    st.caption(f":blue[━ {labels['history']}] · :green[━ {labels['true']}] · :orange[┅ {labels['pred']}]")
    cols = st.columns(3)
    for col, s in zip(cols, series[:3]):
        fig = figures.series_figure(np.asarray(s["input"])[-24:], true_future=s["true"], predicted_future=s["pred"],
                                  labels=labels, height=240)
        with col:
            show_chart(fig.update_layout(showlegend=False))
            chart_words(words.describe_lines(fig, current()), words.lines_table(fig, labels["x"]))


def lm_details(run):
    text = run.details.get("sample_text")
    if not text:
        return
    prompt = run.details.get("prompt", "")
    st.markdown(f"**{t('results.text_title')}**")
    st.caption(t("results.text_caption"))
    st.code(text, language=None, wrap_lines=True)
    if prompt:
        st.caption(t("results.prompt", prompt=prompt))


def model_summary(config: RunConfig):
    rows = task_views.model_summary(config)
    table = pd.DataFrame([{**r, "layer": layer_name(r["layer"])} for r in rows]).rename(columns={c: t("results.col." + c) for c in ("layer", "type", "output_shape",
                                                                                   "params")})
    total = sum(r["params"] for r in rows)
    st.markdown(f"**{t('results.summary_title', n=f'{total:,}')}**")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={t("results.col.params"): st.column_config.NumberColumn(format="localized")})


def results(run, config: RunConfig, points: pd.DataFrame):
    """Everything a finished run has to show: test numbers, diagnosis, details per kind, model summary."""
    kind = task_info(config.task.name).kind
    if run.status in ("failed", "interrupted"):
        st.error(t(f"outcome.{run.status}"))
        if run.message:
            st.caption(run_message(run))
        return
    st.subheader(t("results.title"))
    findings = diagnose(points, run.status)
    if run.status != "completed" and run.status not in findings:  # a diverged run: the diagnosis says it better
        st.info(t(f"outcome.{run.status}"))
    diagnosis(findings)
    if run.metrics:
        test_metrics(run, kind)
    summary_shown = False
    if kind == "classification":
        summary_shown = classification_details(run, config)
    elif kind == "regression":
        regression_details(run)
    else:
        lm_details(run)
    if not summary_shown:
        model_summary(config)
