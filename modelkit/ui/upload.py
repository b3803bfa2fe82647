"""Bring your own data: upload a CSV, a text or a ZIP of image folders, see it, and add it as a task.

`upload_panel(prefix)` sits under the task picker of Train and Compare; an added dataset
is selected at once and stays in the picker for everyone (modelkit.data.uploads stores it once
by content). Every refusal names the file and the limit in the reader's language.
"""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import streamlit as st

from modelkit.config import ConfigError
from modelkit.data import series, uploads
from modelkit.plots import figures, forecast_charts, words
from modelkit.ui import forms
from modelkit.ui.access import chart_words, show_chart
from modelkit.ui.i18n import bound, current, t
from modelkit.ui.labels import session_owner

KINDS = ("auto", "classification", "regression")
FORECAST = "forecast"                 # offered beside KINDS when the table reads as a series


@st.cache_data(show_spinner=False, max_entries=8)
def _table(raw: bytes, name: str):
    return uploads.read_table(raw, name, min_columns=1)   # one column of values in order is a series


@st.cache_data(show_spinner=False, max_entries=8)
def _reads_as_series(raw: bytes, name: str) -> tuple[bool, bool]:
    """Whether the table can be a series, and whether a forecast is the likelier wish (a date column)."""
    frame = _table(raw, name)
    return series.looks_like_series(frame), series.guess_series(frame)


@st.cache_data(show_spinner=False, max_entries=8)
def _series(raw: bytes, name: str, columns: tuple) -> series.Series:
    return series.read_series(_table(raw, name), name, list(columns))


def upload_panel(prefix: str, on_added=None):
    """The upload expander: file, preview, target and kind for a table, and the button that adds it."""
    with st.expander(t("upload.title"), icon=":material/upload_file:"):
        st.caption(t("upload.caption", mb=uploads.limits()["mb"]))
        file = st.file_uploader(t("upload.file"), type=["csv", "tsv", *uploads.TEXT_SUFFIXES, "zip"], key=f"{prefix}_upload",
                                help=t("help.upload"))
        if file is None:
            return
        refused_key, identity = f"{prefix}_upload_refused", (file.file_id, file.name, file.size)
        refused = st.session_state.get(refused_key)
        if refused is not None and refused[0] == identity:   # the same file again: not parsed again
            st.error(forms.error_text(refused[1]), icon=":material/error:")
            return
        raw, name = file.getvalue(), file.name
        suffix = name.rsplit(".", 1)[-1].lower()
        try:
            if suffix == "zip":
                choice = _images_preview(raw, name)
            elif suffix in uploads.TEXT_SUFFIXES:
                choice = _text_preview(raw, name)
            else:
                choice = _table_preview(raw, name, prefix)
                if choice.get("kind") == FORECAST:
                    choice = _series_preview(raw, name, prefix, choice["target"])
        except ConfigError as err:
            st.session_state[refused_key] = (identity, err)
            st.error(forms.error_text(err), icon=":material/error:")
            return
        st.button(t("upload.add"), key=f"{prefix}_upload_add", type="primary", icon=":material/add:",
                  on_click=_add, args=(prefix, raw, name, suffix, choice, on_added))
    refusal = st.session_state.pop(f"{prefix}_upload_error", None)
    if refusal is not None:
        st.error(forms.error_text(refusal), icon=":material/error:")


def delete_control(prefix: str, task: str, store):
    """Under an uploaded dataset: delete it, after saying how many runs were trained on it."""
    ds = uploads.from_task(task)
    if ds is None:
        return
    with st.popover(t("upload.delete"), icon=":material/delete:"):
        used = sum(1 for r in store.list_runs() if r.task == task)
        st.markdown(t("upload.delete_used", n=used) if used else t("upload.delete_unused"))
        st.button(t("upload.delete_confirm"), key=f"{prefix}_upload_delete", type="primary",
                  on_click=_delete, args=(prefix, ds.id))


def _delete(prefix: str, dataset_id: str):
    uploads.delete(dataset_id)
    st.session_state.pop(f"{prefix}_task", None)


def _table_preview(raw: bytes, name: str, prefix: str) -> dict:
    frame = _table(raw, name)
    st.markdown(t("upload.table_size", rows=f"{len(frame):,}", columns=frame.shape[1]))
    st.dataframe(frame.head(8), hide_index=True)
    columns = [str(c) for c in frame.columns]
    is_series, dated = _reads_as_series(raw, name)
    if len(columns) < 2 and not is_series:
        uploads.refuse("data_one_column", name)
    guess, why = uploads.guess_target(frame)
    left, right = st.columns(2)
    target = left.selectbox(t("upload.target"), columns, index=columns.index(str(guess)),
                            key=f"{prefix}_upload_target", help=t("help.upload_target"))
    if target == str(guess):
        left.caption(t("upload.target_guessed", why=t(f"upload.why.{why}", column=target)))
    tl = bound()
    guessed = FORECAST if dated or len(columns) < 2 else uploads.guess_kind(frame[target])
    kinds = KINDS + ((FORECAST,) if is_series else ())
    kind = right.selectbox(t("upload.kind"), kinds, key=f"{prefix}_upload_kind", help=t("help.upload_kind"),
                           format_func=lambda k: tl("upload.kind_auto", kind=tl(f"upload.kind.{guessed}"))
                           if k == "auto" else tl(f"upload.kind.{k}"))
    if (guessed if kind == "auto" else kind) == FORECAST:
        return {"target": target, "kind": FORECAST}   # a series fills its gaps by interpolation instead
    missing = int(frame.isna().sum().sum())
    if missing:
        st.caption(t("upload.missing", n=f"{missing:,}"))
    if (guessed if kind == "auto" else kind) == "classification":
        counts = frame[target].astype(str).value_counts()
        st.caption(t("upload.balance", n=len(counts)))
        class_counts_chart(counts, "rows")
    return {"target": target, "kind": None if kind == "auto" else kind}


def class_counts_chart(counts: pd.Series, of: str):
    """How many rows or images each class has: bars, a sentence and a table (`of`: rows or images)."""
    shown = counts.head(30)
    st.bar_chart(shown, height=180, horizontal=True)
    each = np.repeat(np.arange(len(shown)), shown.to_numpy())   # one class index per row or image
    chart_words(words.describe_counts(each, [str(c) for c in shown.index], current(), of=of),
                shown.rename_axis(t("words.col.class")).rename(t("words.col.count")).reset_index())


def _series_preview(raw: bytes, name: str, prefix: str, target: str) -> dict:
    """The columns to forecast and those the model sees besides, the series drawn, what reading it changed."""
    numbers = series.numeric_columns(_table(raw, name))
    if not numbers:
        uploads.refuse("data_series_no_numbers", name)
    left, right = st.columns(2)
    targets = left.multiselect(t("upload.series_targets"), numbers, default=[target if target in numbers else numbers[0]],
                               key=f"{prefix}_upload_targets", help=t("help.upload_series_targets"))
    if not targets:
        uploads.refuse("data_series_no_numbers", name)
    others = [c for c in numbers if c not in targets]
    inputs = right.multiselect(t("upload.series_inputs"), others, key=f"{prefix}_upload_inputs",
                               help=t("help.upload_series_inputs"))
    found = _series(raw, name, tuple(dict.fromkeys([*targets, *inputs])))
    st.markdown(t("upload.series_size", rows=f"{len(found.values):,}"))
    with st.container(key=f"{prefix}_upload_series"):
        fig = forecast_charts.series_preview_figure({c: found.values[c].to_numpy() for c in found.values.columns},
                                                    labels={"x": t("plot.time_step"), "y": t("plot.value")})
        show_chart(fig)
        chart_words(words.describe_lines(fig, current()), words.lines_table(fig, t("plot.time_step")))
    n, unit = series.step_parts(found.step_ns)
    step = t(f"upload.step.{unit}", n=n)
    notes = [t("upload.series_time", column=found.time_column, step=step) if found.time_column
             else t("upload.series_order")]
    if found.resampled:
        notes.append(t("upload.series_resampled", step=step))
    if found.filled:
        notes.append(t("upload.series_filled", n=f"{found.filled:,}"))
    if found.missing_steps:
        notes.append(t("upload.series_missing_steps", n=f"{found.missing_steps:,}"))
    st.caption(" ".join([*notes, t("upload.series_split")]))
    return {"kind": FORECAST, "targets": targets, "inputs": inputs}


def _text_preview(raw: bytes, name: str) -> dict:
    text = uploads.read_text(raw, name)
    st.markdown(t("upload.text_size", n=f"{len(text):,}"))
    st.code(text[:600], language=None, wrap_lines=True)
    return {}


@st.cache_data(show_spinner=False, max_entries=4)
def _image_sample(raw: bytes, name: str):
    """uploads.image_sample, decoded once per archive rather than on every rerun of the page."""
    return uploads.image_sample(raw, name)


def _images_preview(raw: bytes, name: str) -> dict:
    classes, sample, sample_classes = _image_sample(raw, name)
    counts = pd.Series(classes).value_counts().sort_index()
    st.markdown(t("upload.images_size", n=f"{len(classes):,}", classes=len(counts)))
    class_counts_chart(counts, "images")
    show_chart(figures.digits_figure(sample, sample_classes))
    chart_words(words.describe_pictures(sample_classes, current()),
                words.pictures_table(sample_classes, (t("words.col.picture"), t("words.col.caption"))))
    return {}


def _add(prefix: str, raw: bytes, name: str, suffix: str, choice: dict, on_added):
    """on_click: store the dataset and select it in the picker (before the picker is drawn again)."""
    try:
        owner = session_owner()
        if suffix == "zip":
            ds = uploads.add_images(raw, name, owner=owner)
        elif suffix in uploads.TEXT_SUFFIXES:
            ds = uploads.add_text(raw, name, owner=owner)
        elif choice.get("kind") == FORECAST:
            ds = series.add_series(raw, name, choice["targets"], choice["inputs"], owner=owner)
        else:
            ds = uploads.add_table(raw, name, choice["target"], choice["kind"], owner=owner)
    except (ConfigError, zipfile.BadZipFile, io.UnsupportedOperation) as err:
        if not isinstance(err, ConfigError):
            err = ConfigError("data", "data_not_zip", file=name)
        st.session_state[f"{prefix}_upload_error"] = err
        return
    st.session_state[f"{prefix}_task"] = ds.task
    if on_added is not None:
        on_added()
