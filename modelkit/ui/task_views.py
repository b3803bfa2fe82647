"""Parameter counts, layer summaries and task previews for the pages (tasks.load caches the data)."""
from __future__ import annotations

import streamlit as st

from modelkit import models
from modelkit.config import ConfigError, RunConfig, TaskConfig
from modelkit.data import forecast, tasks
from modelkit.models import memory
from modelkit.plots import figures, forecast_charts, words
from modelkit.ui.access import chart_words, show_chart
from modelkit.ui.i18n import current, has, t
from modelkit.ui.labels import class_name, text_source

PREVIEW_CHARS = 400   # of a text task's text


@st.cache_data(show_spinner=False, max_entries=128)
def _param_count(config_json: str) -> int:
    config = RunConfig.from_json(config_json)
    return models.count_params(models.build_on_meta(config.model, tasks.load(config.task).spec))


def param_count(config: RunConfig) -> int:
    return _param_count(config.to_json())


@st.cache_data(show_spinner=False, max_entries=128)
def _memory_refusal(config_json: str) -> tuple | None:
    try:
        memory.check_memory(RunConfig.from_json(config_json))
    except ConfigError as err:
        return err.path, err.code, err.params
    return None


def check_memory(config: RunConfig):
    """Refuse (ConfigError) a model too big for a worker, measured on the meta device and cached per config."""
    refusal = _memory_refusal(config.to_json())
    if refusal:
        path, code, params = refusal
        raise ConfigError(path, code, **params)


@st.cache_data(show_spinner=False, max_entries=32)
def _summary(config_json: str) -> list[dict]:
    config = RunConfig.from_json(config_json)
    spec = tasks.load(config.task).spec
    return models.summary(models.build_on_meta(config.model, spec), spec)


def model_summary(config: RunConfig) -> list[dict]:
    return _summary(config.to_json())


def class_label(spec, c: int) -> str:
    return class_name(spec.class_names[c]) if spec.class_names else str(c)


def decode(spec, ids) -> str:
    return "".join(spec.vocab[i] for i in ids)


def feature_labels(data) -> list[str]:
    """A vector task's input columns as a reader sees them: an uploaded table's own column names, a built-in
    table's in the reader's language, else feature 1, feature 2..."""
    names = tasks.feature_names(data)
    if not names:
        return [t("plot.feature", n=i + 1) for i in range(data.spec.input_shape[0])]
    if data.spec.name in tasks.TASKS:   # scikit-learn's English names
        return [t(f"feature.{n}") if has(f"feature.{n}") else n for n in names]
    return names


def two_columns(data) -> list[int]:
    """The two columns a scatter of a table shows: the first two that take more than two values (a one-hot
    column is only 0 or 1, and two of them draw a handful of dots), else the first two."""
    x = data.x_train[:500]
    varied = [i for i in range(x.shape[1]) if len(x[:, i].unique()) > 2]
    return (varied + [i for i in range(x.shape[1]) if i not in varied] + [0])[:2]


def show_preview(task_cfg: TaskConfig):
    """A glimpse of the task's data: points, digits, signals, a series or a text snippet."""
    spec = tasks.load(task_cfg).spec
    if spec.kind == "lm":   # a text: its beginning, as written, and no chart
        st.caption(text_source(task_cfg))
        st.code(tasks.task_text(task_cfg)[:PREVIEW_CHARS], language=None, wrap_lines=True)
        return
    fig = _preview_figure(repr(task_cfg), task_cfg, st.session_state.get("lang"))
    show_chart(fig)
    chart_words(*_preview_words(repr(task_cfg), task_cfg, current(), fig))


@st.cache_data(show_spinner=False, max_entries=64)
def _preview_words(settings: str, _task_cfg: TaskConfig, lang: str, _fig) -> tuple:
    """The preview chart in words and as a table (sentence, table), once per task's settings and language."""
    data = tasks.load(_task_cfg)
    spec, y = data.spec, data.y_train
    if spec.input_kind == "vector" and spec.kind == "classification":
        names = [class_label(spec, c) for c in range(len(spec.class_names))]
        cols, labels = two_columns(data), feature_labels(data)
        x = tasks.in_own_units(data, data.x_train[:600])[:, cols].numpy()
        return (words.describe_counts(y[:600].numpy(), names, lang),
                words.points_table(x, y[:600].numpy(), names, [t("words.col.class"), t("words.col.count"),
                                                               labels[cols[0]], labels[cols[1]]]))
    if spec.input_kind == "image":
        titles = [class_label(spec, int(c)) for c in y[:16]]
        return words.describe_pictures(titles, lang), words.pictures_table(titles, (t("words.col.picture"),
                                                                                    t("words.col.caption")))
    x_title = t("plot.position") if spec.kind == "classification" else t("plot.time_step")
    return words.describe_lines(_fig, lang), words.lines_table(_fig, x_title)


@st.cache_resource(show_spinner=False, max_entries=64)
def _preview_figure(settings: str, _task_cfg: TaskConfig, lang: str | None):
    """The preview chart of one task's settings in one language, built once per server: every participant's
    rerun draws the same figure (st.plotly_chart only reads it)."""
    data = tasks.load(_task_cfg)
    spec, x, y = data.spec, data.x_train, data.y_train
    if spec.input_kind == "vector":
        names = [class_label(spec, c) for c in range(len(spec.class_names))]
        cols, labels = two_columns(data), feature_labels(data)
        own = tasks.feature_names(data) is not None   # a table: drawn in its own units, each axis its own scale
        return figures.points_preview_figure(tasks.in_own_units(data, x[:600])[:, cols], y[:600], names,
                                             labels={"x": labels[cols[0]], "y": labels[cols[1]]}, same_scale=not own)
    if spec.input_kind == "image":
        return figures.digits_figure(x[:16], [class_label(spec, int(c)) for c in y[:16]], columns=8)
    if spec.kind == "classification":
        return figures.signals_figure(x[:4], [t("plot.class", name=class_label(spec, int(c))) for c in y[:4]],
                                      labels={"x": t("plot.position"), "y": t("plot.value")})
    if "series" in data.extra:   # an uploaded series: all of it, validation and test shaded at the end
        arrays = data.extra["series"]
        val_start, test_start = arrays["cuts"]
        return forecast_charts.series_preview_figure(
            forecast.columns(arrays), val_start=val_start, test_start=test_start,
            labels={"x": t("plot.time_step"), "y": t("plot.value"), "val": t("plot.val"), "test": t("plot.test_part")})
    return figures.series_figure(x[0], true_future=y[0], labels=series_labels())


def series_labels() -> dict:
    return {"x": t("plot.time_step"), "y": t("plot.value"), "history": t("plot.history"),
            "true": t("plot.true_future"), "pred": t("plot.predicted")}
