"""Runs: every run of the store (web and CLI) in one table; open, compare, re-run, delete, export."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from modelkit import room
from modelkit.compare import race
from modelkit.config import ConfigError, RunConfig
from modelkit.store import StoreError
from modelkit.ui import forms, room_view, run_view, seat
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import (
    PERCENT_METRICS,
    STATUS_COLORS,
    owner_name,
    run_titles,
    shown_status,
    task_title,
)
from modelkit.ui.query import config_to_query
from modelkit.ui.resources import get_store
from modelkit.written import csv_bytes, literal

RUN_PREFIX = "runs_run"              # key prefix of the opened run's elements (runs_run_stop, ...)
VERSION_KEY = "runs_table_version"   # part of the table's key: a new key starts the table afresh
TICKED_KEY = "runs_ticked"           # the ticks as last seen: {"rows": [...], "ids": [...]}


# --- the table ----------------------------------------------------------------

def filters(table):
    """Owner, task, architecture and status filters (empty = all); returns the rows they keep."""
    tl = bound()
    choices = {"owner": (sorted(table["owner"].unique()), owner_name),
               "task": (sorted(table["task"].unique()), lambda n: task_title(n, tl)),
               "arch": (sorted(table["arch"].unique()), lambda a: tl(f"arch.{a}.title")),
               "status": ([s for s in STATUS_COLORS if s in set(table["status"])], lambda s: tl(f"badge.{s}"))}
    keep = pd.Series(True, index=table.index)
    for col, (column, (options, name)) in zip(st.columns(len(choices)), choices.items()):
        picked = col.multiselect(t(f"runs.filter.{column}"), options, key=f"runs_{column}", format_func=name,
                                 placeholder=t("runs.filter.all"), on_change=renew_table)
        if picked:
            keep &= table[column].isin(picked)
    return table[keep].reset_index(drop=True)


def column_config() -> dict:
    number = st.column_config.NumberColumn
    return {
        "id": st.column_config.TextColumn(t("runs.col.id")),
        "name": st.column_config.TextColumn(t("runs.col.name")),
        "owner": st.column_config.TextColumn(t("runs.col.owner")),
        "task": st.column_config.TextColumn(t("runs.col.task")),
        "arch": st.column_config.TextColumn(t("runs.col.arch")),
        "status": st.column_config.TextColumn(t("runs.col.status")),
        **{m: number(t("metric." + m), format="percent" if m in PERCENT_METRICS else "%.3f")
           for m in race.HISTORY_METRICS},
        "params": number(t("results.col.params"), format="localized"),
        "seconds": number(t("runs.col.seconds"), format="%.1f"),
        "node": st.column_config.TextColumn(t("runs.col.node")),
        "created": st.column_config.DatetimeColumn(t("runs.col.created"), format="YYYY-MM-DD HH:mm"),
    }


def shown_table(table):
    """The table as the reader sees it: owner, task, architecture and status in words (a run without a name
    called by its task and architecture), empty metric columns (and the node column where no run was trained
    on a cluster) left out."""
    tl = bound()
    task, arch = table["task"].map(lambda n: task_title(n, tl)), table["arch"].map(lambda a: tl(f"arch.{a}.title"))
    view = table.assign(owner=table["owner"].map(owner_name), task=task, arch=arch,
                        name=table["name"].where(table["name"] != "", task + " · " + arch),
                        status=table["status"].map(lambda s: tl(f"badge.{s}")))
    empty = [m for m in (*race.HISTORY_METRICS, "node") if view[m].isna().all()]
    return view.drop(columns=empty)


def table_key() -> str:
    return f"runs_table_{st.session_state.setdefault(VERSION_KEY, 0)}"


def renew_table():
    """Give the table a new key. Streamlit keeps a keyed table's ticks on row positions and cannot clear them;
    a new table starts with the ticks `ticked_table` gives it: the same runs, wherever they are now."""
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1


def ticked_table(view, table) -> list[str]:
    """Draw the table; return the ids of the ticked runs. Ticks follow runs, not rows: when other runs
    move under them (a filter, a new run on top) the table is drawn again with the same runs ticked."""
    last = st.session_state.get(TICKED_KEY, {"rows": [], "ids": []})
    ids = table["id"].tolist()
    default = {"selection": {"rows": [ids.index(i) for i in last["ids"] if i in ids], "columns": []}}
    with st.container(key="runs_table"):   # a stable handle for scripts, whatever the table's own key
        event = st.dataframe(view, key=table_key(), on_select="rerun", selection_mode="multi-row", hide_index=True,
                             placeholder="–", column_config=column_config(), selection_default=default,
                             column_order=[c for c in view.columns if c != "id"] + ["id"])
    rows = [i for i in event.selection.rows if i < len(ids)]
    now = [ids[i] for i in rows]
    if rows and rows == last["rows"] and now != last["ids"]:   # same places, other runs: not the reader's ticks
        renew_table()
        st.rerun()
    st.session_state[TICKED_KEY] = {"rows": rows, "ids": now}
    return now


# --- actions ------------------------------------------------------------------

def open_in_compare(run_ids: list[str]):
    st.session_state["compare_runs"] = list(run_ids)
    st.session_state["compare_opened"] = True   # not the Compare form's: its page says so
    st.switch_page("app_pages/compare.py", query_params={"runs": ",".join(run_ids)})


def rerun_in_train(run):
    """The Train page with this run's settings in its form (and in its URL)."""
    config = RunConfig.from_dict(run.config)
    forms.fill(config, "train")
    st.session_state.pop("train_run", None)
    st.switch_page("app_pages/train.py", query_params=config_to_query(config))


def delete_runs(run_ids: list[str]):
    store, kept, others = get_store(), [], []
    for run_id in run_ids:
        try:
            room.actions.delete(store, run_id, by=room_view.actor())
        except StoreError:
            kept.append(run_id)
        except ConfigError:   # someone else's run: only its owner or the host may delete it
            others.append(run_id)
    st.session_state[TICKED_KEY] = {"rows": [], "ids": []}   # after a delete nothing is ticked
    renew_table()
    st.session_state["runs_deleted"] = (len(run_ids) - len(kept) - len(others), len(kept), len(others))


@st.dialog(t("runs.delete_header"), width="medium")
def confirm_delete(runs):
    st.markdown(f"**{t('runs.delete_title', n=len(runs))}**")
    st.markdown("\n".join(f"- `{r.id}` · {literal(run_view.run_title(r))} · "
                          f"{literal(owner_name(r.owner))}" for r in runs))
    st.caption(t("runs.delete_warning"))
    left, right = st.columns(2)
    left.button(t("runs.delete_confirm", n=len(runs)), key="runs_delete_confirm", type="primary",
                icon=":material/delete:", width="stretch", on_click=delete_runs, args=([r.id for r in runs],))
    if right.button(t("runs.cancel"), key="runs_delete_cancel", width="stretch") or "runs_deleted" in st.session_state:
        st.rerun()   # a click inside a dialog reruns only the dialog: redraw the page, which closes it


def actions(selected: list, table):
    n = len(selected)
    same_task = len({r.task for r in selected}) == 1
    cols = st.columns([1, 1, 1, 1, 2], vertical_alignment="center")
    if cols[0].button(t("runs.compare", n=n), key="runs_compare", icon=":material/compare_arrows:",
                      disabled=n < 2 or not same_task or n > race.MAX_RUNS * 2, width="stretch",
                      help=t("runs.compare_help")):
        open_in_compare([r.id for r in selected])
    rerun_refused = seat.refusal(selected[0], "rerun") if n == 1 else None
    delete_refused = next(filter(None, (seat.refusal(r, "delete") for r in selected)), None)
    if cols[1].button(t("runs.rerun"), key="runs_rerun", icon=":material/replay:", disabled=n != 1 or bool(rerun_refused),
                      width="stretch", help=rerun_refused or t("runs.rerun_help")):
        try:
            rerun_in_train(selected[0])
        except ConfigError as err:
            st.error(forms.error_text(err, selected[0].arch))
    if cols[2].button(t("runs.delete", n=n), key="runs_delete", icon=":material/delete:",
                      disabled=n == 0 or bool(delete_refused), help=delete_refused, width="stretch"):
        confirm_delete(selected)
    cols[3].download_button(t("runs.download"), csv_bytes(table), file_name="modelkit-runs.csv",
                            mime="text/csv", key="runs_download", icon=":material/download:", width="stretch",
                            on_click="ignore")
    if n >= 2 and not same_task:
        cols[4].caption(t("runs.compare_one_task"))
    elif n == 0:
        cols[4].caption(t("runs.select_hint"))
    elif rerun_refused or delete_refused:   # the greyed-out controls, said in words
        cols[4].caption(f":material/lock: {rerun_refused or delete_refused}")


# --- page ---------------------------------------------------------------------

st.title(t("runs.title"))
st.caption(t("runs.subtitle"))
store = get_store()
runs = seat.seen_store().list_runs()   # another's shared model without its settings until the host reveals them
deleted = st.session_state.pop("runs_deleted", None)
if deleted:
    done, refused, others = deleted
    if done:
        st.success(t("runs.deleted", n=done), icon=":material/check:")
    if refused:
        st.warning(t("runs.delete_refused", n=refused))
    if others:
        st.warning(t("runs.delete_not_yours", n=others))
if not runs:
    st.info(t("runs.empty"), icon=":material/history:")
    st.stop()

table = race.history_table(runs)
table["name"] = table["id"].map(run_titles(runs))   # named now, in the reader's language
table["status"] = table["id"].map({r.id: shown_status(r) for r in runs})   # "time limit reached", "stopped by the host"
table = filters(table)
view = shown_table(table)
by_id = {r.id: r for r in runs}
selected = [by_id[i] for i in ticked_table(view, table)]
st.caption(t("runs.count", shown=len(table), total=len(runs)))
actions(selected, table)
if len(selected) == 1:
    st.divider()
    run_view.show(selected[0].id, RUN_PREFIX, about=True)
