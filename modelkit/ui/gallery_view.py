"""The room's gallery on a page: share one of your finished runs, open a neighbour's and try it.

    gallery_view.share_form()     # the participant's finished runs, a name and a line, Share
    gallery_view.shelf()          # every shared model: its card, Try it, and its settings once revealed

Opening a shared model is Try it itself (modelkit.ui.use.try_it: the task registry's view for that
run's task), so every kind of run the Train page can try is tried here the same way. Who may share,
withdraw or reveal is decided by modelkit.room.gallery; the buttons only say it first.
"""
from __future__ import annotations

import json

import streamlit as st

from modelkit import room
from modelkit.config import ConfigError, RunConfig
from modelkit.data import tasks
from modelkit.room import gallery
from modelkit.ui.forms import error_text
from modelkit.ui.i18n import bound, t
from modelkit.ui.labels import format_metric, owner_name
from modelkit.ui.resources import get_store
from modelkit.ui.seat import actor, is_host, participant
from modelkit.ui.use import try_it
from modelkit.written import literal

REFUSED = "gallery_refused"   # session state: the last refusal, shown in place


def _act(call, *args, **kwargs) -> bool:
    """Do a gallery action for this session; a refusal waits to be shown in place (False)."""
    try:
        call(get_store(), *args, **kwargs)
    except ConfigError as err:
        st.session_state[REFUSED] = err
        return False
    return True


def share_form():
    """Share one of this participant's finished runs with a name and a line about it."""
    me = participant()
    if is_host() or room.is_anonymous(me):
        st.caption(t("gallery.name_first"))
        return
    mine = [r for r in get_store().list_runs(owner=me) if r.status in ("completed", "stopped")]
    if not mine:
        st.caption(t("gallery.nothing_to_share"))
        return
    tl = bound()
    by_id = {r.id: r for r in mine}
    st.selectbox(t("gallery.run"), list(by_id), key="gallery_run", format_func=lambda r: " · ".join(
        [tl(f"task.{by_id[r].task}.title"), tl(f"arch.{by_id[r].arch}.title"), r]))
    left, right = st.columns([1, 2])
    left.text_input(t("gallery.name"), key="gallery_name", max_chars=gallery.MAX_NAME)
    right.text_input(t("gallery.line"), key="gallery_line", max_chars=gallery.MAX_LINE)
    st.button(t("gallery.share"), key="gallery_share", type="primary", icon=":material/share:",
              on_click=_share, args=(me,))


def _share(me: str):
    """Share the picked run with the words typed now (read at the click: typing and clicking come together)."""
    state = st.session_state
    if _act(gallery.share, state["gallery_run"], me, state.get("gallery_name", ""), state.get("gallery_line", "")):
        state["gallery_pick"] = state["gallery_run"]   # open it: what the others now see


def card(entry: gallery.Shared, run):
    """What everyone sees of a shared model: its name, its line, whose it is, its task and score; its
    architecture, size and settings only once the host has revealed them."""
    tl = bound()
    metric = tasks.task_info(run.task).metric
    st.markdown(f"### {literal(entry.name)}")
    if entry.line:
        st.markdown(literal(entry.line))
    facts = [t("gallery.by", owner=literal(owner_name(entry.owner))), tl(f"task.{run.task}.title")]
    if metric in run.metrics:
        facts.append(f"{t(f'metric.{metric}')} {format_metric(metric, run.metrics[metric])}")
    st.caption(" · ".join(facts))
    if entry.revealed:
        st.markdown(f"**{tl(f'arch.{run.arch}.title')}** · {t('results.params')} {run.params or 0:,}")
        st.code(json.dumps(run.config["model"] | {"train": run.config["train"]}, indent=1, ensure_ascii=False),
                language="json")
    else:
        st.caption(f":material/visibility_off: {t('gallery.hidden_settings')}")


def shelf():
    """Every shared model to pick; the picked one's card and Try it, and its owner's or the host's controls."""
    if REFUSED in st.session_state:
        st.error(error_text(st.session_state.pop(REFUSED)), icon=":material/block:")
    store = get_store()
    entries = {e.run_id: e for e in gallery.shared(store)}
    if not entries:
        st.info(t("gallery.empty"), icon=":material/collections:")
        return
    picked = st.radio(t("gallery.pick"), list(entries), key="gallery_pick", horizontal=True,
                      format_func=lambda r: f"{entries[r].name} · {owner_name(entries[r].owner)}")
    entry, run = entries[picked], store.get_run(picked)
    if run is None:
        return
    with st.container(key="gallery_card"):
        card(entry, run)
    controls(entry)
    with st.container(key="gallery_try"):
        try_it(run, RunConfig.from_dict(run.config), f"gallery_{run.id}")


def controls(entry: gallery.Shared):
    """The owner withdraws their model; the host reveals (or hides) its settings."""
    if is_host():
        label = "gallery.hide" if entry.revealed else "gallery.reveal"
        st.button(t(label), key="gallery_reveal", icon=":material/visibility:", on_click=_act,
                  args=(gallery.reveal, entry.run_id, not entry.revealed), kwargs={"by": actor()})
    elif entry.owner == participant():
        st.button(t("gallery.withdraw"), key="gallery_withdraw", icon=":material/undo:", on_click=_act,
                  args=(gallery.withdraw, entry.run_id, actor()))
