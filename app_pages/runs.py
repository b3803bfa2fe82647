"""Runs: every run of the store (web and CLI) in one table; open, compare, re-run, delete, export."""
from __future__ import annotations

import streamlit as st

from modelkit import compare
from modelkit.config import ConfigError, RunConfig
from modelkit.store import STATUSES, StoreError
from modelkit.ui import forms, results, room
from modelkit.ui.i18n import bound, t
from modelkit.ui.live import ACTIVE, POLL_SECONDS, points_so_far
from modelkit.ui.query import config_to_query
from modelkit.ui.resources import get_store

POINTS_KEY = "runs_points"
PERCENT = ("test_accuracy", "test_f1")


# --- the table ----------------------------------------------------------------

def filters(table):
    """Task, architecture and status filters (empty = all); returns the rows they keep."""
    tl = bound()
    cols = st.columns(3)
    task = cols[0].multiselect(t("runs.filter.task"), sorted(table["task"].unique()), key="runs_task",
                               format_func=lambda n: tl(f"task.{n}.title"), placeholder=t("runs.filter.all"))
    arch = cols[1].multiselect(t("runs.filter.arch"), sorted(table["arch"].unique()), key="runs_arch",
                               format_func=lambda a: tl(f"arch.{a}.title"), placeholder=t("runs.filter.all"))
    status = cols[2].multiselect(t("runs.filter.status"), [s for s in STATUSES if s in set(table["status"])],
                                 key="runs_status", format_func=lambda s: f"{s} · {tl('status.' + s)}",
                                 placeholder=t("runs.filter.all"))
    keep = table["task"].isin(task or table["task"]) & table["arch"].isin(arch or table["arch"]) \
        & table["status"].isin(status or table["status"])
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
        **{m: number(t("metric." + m), format="percent" if m in PERCENT else "%.3f")
           for m in compare.HISTORY_METRICS},
        "params": number(t("results.col.params"), format="localized"),
        "seconds": number(t("runs.col.seconds"), format="%.1f"),
        "created": st.column_config.DatetimeColumn(t("runs.col.created"), format="YYYY-MM-DD HH:mm"),
    }


def shown_table(table):
    """The table as the reader sees it: task and architecture by their titles, empty metric columns left out."""
    tl = bound()
    view = table.assign(task=table["task"].map(lambda n: tl(f"task.{n}.title")),
                        arch=table["arch"].map(lambda a: tl(f"arch.{a}.title")))
    empty = [m for m in compare.HISTORY_METRICS if view[m].isna().all()]
    return view.drop(columns=empty)


# --- actions ------------------------------------------------------------------

def open_in_compare(run_ids: list[str]):
    st.session_state["compare_runs"] = list(run_ids)
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
            store.delete_run(run_id, by=room.actor())
        except StoreError:
            kept.append(run_id)
        except ConfigError:   # someone else's run: only its owner or the host may delete it
            others.append(run_id)
    # The table keeps its ticks by row position (Streamlit cannot clear a keyed table's selection), so the
    # rows that move up into the ticked places stay selected, as the reader sees them ticked.
    st.session_state["runs_deleted"] = (len(run_ids) - len(kept) - len(others), len(kept), len(others))


@st.dialog(t("runs.delete_header"), width="medium")
def confirm_delete(runs):
    st.markdown(f"**{t('runs.delete_title', n=len(runs))}**")
    st.markdown("\n".join(f"- `{r.id}` · {t(f'arch.{r.arch}.title')} · {t(f'task.{r.task}.title')}" for r in runs))
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
                      disabled=n < 2 or not same_task or n > compare.MAX_RUNS * 2, width="stretch",
                      help=t("runs.compare_help")):
        open_in_compare([r.id for r in selected])
    if cols[1].button(t("runs.rerun"), key="runs_rerun", icon=":material/replay:", disabled=n != 1,
                      width="stretch", help=t("runs.rerun_help")):
        try:
            rerun_in_train(selected[0])
        except ConfigError as err:
            st.error(forms.error_text(err, selected[0].arch))
    if cols[2].button(t("runs.delete", n=n), key="runs_delete", icon=":material/delete:", disabled=n == 0,
                      width="stretch"):
        confirm_delete(selected)
    cols[3].download_button(t("runs.download"), table.to_csv(index=False).encode("utf-8"), file_name="modelkit-runs.csv",
                            mime="text/csv", key="runs_download", icon=":material/download:", width="stretch",
                            on_click="ignore")
    if n >= 2 and not same_task:
        cols[4].caption(t("runs.compare_one_task"))
    elif n == 0:
        cols[4].caption(t("runs.select_hint"))


# --- one run ------------------------------------------------------------------

def run_details(run_id: str, *, polling: bool = False):
    """One run as the Train page shows it: status, curves, results; then its message and settings."""
    store = get_store()
    run = store.get_run(run_id)
    if run is None:
        return
    if polling and not run.active:
        st.rerun(scope="app")
    config = RunConfig.from_dict(run.config)
    points = points_so_far(store, run_id, POINTS_KEY)
    st.markdown(f"### {t('train.run_title', task=t(f'task.{run.task}.title'), arch=t(f'arch.{run.arch}.title'))}"
                f" · `{run.id}`")
    st.caption(t("runs.owner_line", owner=run.owner, created=run.created.astimezone().strftime("%Y-%m-%d %H:%M")))
    results.live_view(store, run, config, points)
    if not run.active:
        results.results(run, config, points)
    if run.message:
        st.info(run.message, icon=":material/info:")
    with st.expander(t("runs.config_title")):
        st.json(run.config)


@st.fragment(run_every=POLL_SECONDS)
def live_run_details(run_id: str):
    run_details(run_id, polling=True)


# --- page ---------------------------------------------------------------------

st.title(t("runs.title"))
st.caption(t("runs.subtitle"))
store = get_store()
runs = store.list_runs()
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

table = filters(compare.history_table(runs))
view = shown_table(table)
event = st.dataframe(view, key="runs_table", on_select="rerun", selection_mode="multi-row", hide_index=True, placeholder="–",
                     column_config=column_config(), column_order=[c for c in view.columns if c != "id"] + ["id"])
by_id = {r.id: r for r in runs}
rows = [i for i in event.selection.rows if i < len(table)]
selected = [by_id[table.loc[i, "id"]] for i in rows]
st.caption(t("runs.count", shown=len(table), total=len(runs)))
actions(selected, table)
if len(selected) == 1:
    st.divider()
    if selected[0].status in ACTIVE:
        live_run_details(selected[0].id)
    else:
        run_details(selected[0].id)
