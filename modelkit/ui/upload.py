"""Bring your own data: upload a CSV, a text or a ZIP of image folders, see it, and add it as a task.

`upload_panel(prefix)` sits under the task picker of Train and Compare; an added dataset
is selected at once and stays in the picker for everyone (modelkit.data.uploads stores it once
by content). Every refusal names the file and the limit in the reader's language.
"""
from __future__ import annotations

import io
import zipfile

import pandas as pd
import streamlit as st

from modelkit.config import ConfigError
from modelkit.data import uploads
from modelkit.plots import figures
from modelkit.ui import forms
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import session_owner

KINDS = ("auto", "classification", "regression")


@st.cache_data(show_spinner=False, max_entries=8)
def _table(raw: bytes, name: str):
    return uploads.read_table(raw, name)


def upload_panel(prefix: str, on_added=None):
    """The upload expander: file, preview, target and kind for a table, and the button that adds it."""
    with st.expander(t("upload.title"), icon=":material/upload_file:"):
        st.caption(t("upload.caption", mb=uploads.limits()["mb"]))
        file = st.file_uploader(t("upload.file"), type=["csv", "tsv", *uploads.TEXT_SUFFIXES, "zip"], key=f"{prefix}_upload",
                                help=t("help.upload"))
        if file is None:
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
        except ConfigError as err:
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
    missing = int(frame.isna().sum().sum())
    if missing:
        st.caption(t("upload.missing", n=f"{missing:,}"))
    columns = [str(c) for c in frame.columns]
    guess, why = uploads.guess_target(frame)
    left, right = st.columns(2)
    target = left.selectbox(t("upload.target"), columns, index=columns.index(str(guess)),
                            key=f"{prefix}_upload_target", help=t("help.upload_target"))
    if target == str(guess):
        left.caption(t("upload.target_guessed", why=t(f"upload.why.{why}", column=target)))
    tl = bound()
    guessed = uploads.guess_kind(frame[target])
    kind = right.selectbox(t("upload.kind"), KINDS, key=f"{prefix}_upload_kind", help=t("help.upload_kind"),
                           format_func=lambda k: tl("upload.kind_auto", kind=tl(f"upload.kind.{guessed}"))
                           if k == "auto" else tl(f"upload.kind.{k}"))
    if (guessed if kind == "auto" else kind) == "classification":
        counts = frame[target].astype(str).value_counts()
        st.caption(t("upload.balance", n=len(counts)))
        st.bar_chart(counts.head(30), height=180, horizontal=True)
    return {"target": target, "kind": None if kind == "auto" else kind}


def _text_preview(raw: bytes, name: str) -> dict:
    text = uploads.read_text(raw, name)
    st.markdown(t("upload.text_size", n=f"{len(text):,}"))
    st.code(text[:600], language=None, wrap_lines=True)
    return {}


def _images_preview(raw: bytes, name: str) -> dict:
    members, archive = uploads._zip_members(raw, name)
    counts = pd.Series([c for c, _ in members]).value_counts().sort_index()
    st.markdown(t("upload.images_size", n=f"{len(members):,}", classes=len(counts)))
    st.bar_chart(counts.head(30), height=180, horizontal=True)
    sample = [uploads._image(archive, info, name, color=False) for _, info in members[:: max(1, len(members) // 16)][:16]]
    st.plotly_chart(figures.digits_figure(sample, [c for c, _ in members[:: max(1, len(members) // 16)][:16]]),
                    config={"displayModeBar": False})
    return {}


def _add(prefix: str, raw: bytes, name: str, suffix: str, choice: dict, on_added):
    """on_click: store the dataset and select it in the picker (before the picker is drawn again)."""
    try:
        owner = session_owner()
        if suffix == "zip":
            ds = uploads.add_images(raw, name, owner=owner)
        elif suffix in uploads.TEXT_SUFFIXES:
            ds = uploads.add_text(raw, name, owner=owner)
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
