"""The task picker of the Train and Compare forms: the task, what it is, its settings and a glimpse of its data."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from modelkit import models
from modelkit.config import ConfigError, TaskConfig, parse
from modelkit.data import uploads
from modelkit.data.tasks import TASKS, task_info
from modelkit.ui import forms, task_views
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import task_description, task_title
from modelkit.ui.resources import get_store
from modelkit.ui.upload import delete_control, upload_panel


def task_settings(prefix: str, task: str) -> dict:
    """The task settings the form under `prefix` holds now (its architecture's, else the task's first fitting)."""
    arch = st.session_state.get(f"{prefix}_arch") or models.archs_for(task)[0]
    return forms.read(prefix, task, arch)["task"]


def task_picker(prefix: str, on_change: Callable) -> tuple[str, dict]:
    """The task select (`<prefix>_task`), its description and settings, and a preview of its data beside them.

    Returns the task and {config path: st.empty()} under each setting, where a page shows a refused value."""
    slots = {}
    tl = bound()
    left, right = st.columns([1, 1.25], gap="large")
    with left:
        options = list(TASKS) + [d.task for d in uploads.list_datasets()]
        if st.session_state.get(f"{prefix}_task") not in options:   # a dataset deleted meanwhile
            st.session_state[f"{prefix}_task"] = options[0]
        st.selectbox(t("field.task.name"), options, key=f"{prefix}_task", help=t("help.task.name"),
                     disabled=forms.is_locked(f"{prefix}_task"),   # a challenge fixes the task
                     format_func=lambda n: task_title(n, tl), on_change=on_change)
        task = st.session_state[f"{prefix}_task"]
        st.caption(task_description(task))
        delete_control(prefix, task, get_store())
        upload_panel(prefix, on_added=on_change)
        fields = forms.section_fields("task")
        params = task_info(task).params
        short = [p for p in params if p != "text"]
        for col, field in zip(st.columns(max(1, len(short))), short):
            with col:
                forms.widget("task", field, fields, prefix)
                slots[f"task.{field}"] = st.empty()
        if "text" in params:
            forms.widget("task", "text", fields, prefix)
            slots["task.text"] = st.empty()
    with right:
        try:
            task_views.show_preview(parse(TaskConfig, task_settings(prefix, task), "task"))
        except ConfigError:
            pass   # the refusal is shown under its field
    return task, slots
