"""Following runs from the store: the polling fragment, incremental point fetching and progress text.

`polled` is the one place a page polls: it redraws a view every POLL_SECONDS; a single run's panel
polls faster while it trains (`polled_live`: a point shows within half a second of being recorded).
`points_so_far` keeps a cursor (the last point id seen) and the accumulated
frame in Session State, so each poll asks the store only for newer points.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from modelkit.ui.guard import page_boundary
from modelkit.ui.i18n import t

POLL_SECONDS = 1.0        # views of several runs (Compare, a sweep) and a queued run
LIVE_POLL_SECONDS = 0.5   # one training run's panel: its charts are built again only when points came


@st.fragment(run_every=POLL_SECONDS)
def polled(draw: Callable, *args, **kwargs):
    """`draw(*args, polling=True, **kwargs)`, redrawn every POLL_SECONDS while the rest of the page stays put.

    `draw` ends the polling itself: once what it follows has ended it calls st.rerun(scope="app"), and the
    page then draws it once more, without this fragment. A fragment reruns outside the page's own
    boundary, so it has its own: an error in a poll is a translated note, never a traceback."""
    _poll(draw, args, kwargs)


@st.fragment(run_every=LIVE_POLL_SECONDS)
def polled_live(draw: Callable, *args, **kwargs):
    """As `polled`, every LIVE_POLL_SECONDS: for one run while it trains."""
    _poll(draw, args, kwargs)


def _poll(draw: Callable, args: tuple, kwargs: dict):
    with page_boundary(getattr(draw, "__name__", "poll")):
        draw(*args, polling=True, **kwargs)


def points_so_far(store, run_id: str, state_key: str) -> pd.DataFrame:
    """All points of `run_id`, fetching only those newer than the last poll."""
    cache = st.session_state.get(state_key)
    if not cache or cache["run_id"] != run_id:
        cache = {"run_id": run_id, "cursor": 0, "frame": None, "polls": 0}
    new = store.points(run_id, after_id=cache["cursor"])
    if len(new):
        cache["frame"] = new if cache["frame"] is None else pd.concat([cache["frame"], new], ignore_index=True)
        cache["cursor"] = int(new["id"].max())
    cache["polls"] += 1
    st.session_state[state_key] = cache
    return cache["frame"] if cache["frame"] is not None else new


def eta_seconds(step: int, max_steps: int | None, seconds: float, time_budget: float | None = None) -> float | None:
    """Seconds left: from the step rate when the run length is known, and from the time budget."""
    left = []
    if max_steps and step > 0:
        left.append(seconds * (max_steps - step) / step)
    if time_budget:
        left.append(time_budget - seconds)
    left = [v for v in left if math.isfinite(v)]
    return max(0.0, min(left)) if left else None


def progress_fraction(step: int, max_steps: int | None, seconds: float, time_budget: float | None = None) -> float:
    """How far along a run is (0..1), by steps or by time, whichever is further."""
    parts = [0.0]
    if max_steps:
        parts.append(step / max_steps)
    if time_budget:
        parts.append(seconds / time_budget)
    return float(min(1.0, max(parts)))


def duration(seconds: float | None) -> str:
    """12 s, 3 min 05 s, in the reader's language."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return t("time.seconds", s=seconds)
    return t("time.minutes", m=seconds // 60, s=f"{seconds % 60:02d}")


def progress_text(progress: dict, time_budget: float | None) -> tuple[float, str]:
    """The progress bar's fraction and its line: step, elapsed, ETA, samples/s."""
    step, max_steps = int(progress.get("step") or 0), progress.get("max_steps")
    seconds = float(progress.get("seconds") or 0.0)
    rate = float(progress.get("samples_per_s") or 0.0)
    parts = [t("live.step", step=f"{step:,}", total=f"{max_steps:,}") if max_steps else t("live.step_open", step=f"{step:,}"),
             t("live.elapsed", time=duration(seconds))]
    eta = eta_seconds(step, max_steps, seconds, time_budget)
    if eta is not None and step > 0:
        parts.append(t("live.eta", time=duration(eta)))
    if rate:
        parts.append(t("live.rate", rate=f"{rate:,.0f}"))
    return progress_fraction(step, max_steps, seconds, time_budget), " · ".join(parts)
