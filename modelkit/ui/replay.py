"""Replay: scrub back through a finished run. A slider (and a play button) picks a step; the curves are drawn
up to it and, for 2-D tasks, the decision boundary as it was at that step's validation check (the
snapshots the worker kept, see store.snapshots). A section of the run panel (run_view.SECTIONS)."""
from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from modelkit.config import RunConfig
from modelkit.data.tasks import task_info
from modelkit.store import Run
from modelkit.ui import results
from modelkit.ui.i18n import t
from modelkit.ui.live import points_so_far
from modelkit.ui.resources import get_store

FRAME_SECONDS = 0.3   # the pause between two frames while it plays (drawing a frame takes longer)
FRAMES = 40           # steps offered on the slider when there are no snapshots to follow
SPEEDS = (1, 2, 4, 8)   # steps of the slider moved on per frame: drawing each frame is the slow part


def replay_steps(points: pd.DataFrame, snapshots: list[tuple[int, dict]]) -> list[int]:
    """The steps the slider offers: those of the kept boundaries, else the validation checks (thinned)."""
    if snapshots:
        return [step for step, _ in snapshots]
    steps = sorted(set(points.loc[points["name"] == "val_loss", "step"].astype(int)))
    if not steps:
        steps = sorted(set(points["step"].astype(int)))
    every = max(1, len(steps) // FRAMES)
    return sorted(set(steps[::every]) | {steps[-1]}) if steps else []


def replay_section(run: Run, config: RunConfig, prefix: str):
    """The replay of a finished run, folded away under its title."""
    store = get_store()
    points = points_so_far(store, run.id, f"{prefix}_points")
    if points is None or points.empty:
        return
    snapshots = store.snapshots(run.id)
    steps = replay_steps(points, snapshots)
    if len(steps) < 2:
        return
    with st.expander(t("replay.title"), icon=":material/replay:"):
        st.caption(t("replay.caption"))
        replay(run, config, points, dict(snapshots), steps, f"{prefix}_replay")


@st.fragment
def replay(run: Run, config: RunConfig, points: pd.DataFrame, snapshots: dict, steps: list[int], prefix: str):
    """Slider and play button, then the frame; while playing it moves one step per FRAME_SECONDS."""
    key, playing_key, next_key = f"{prefix}_step", f"{prefix}_playing", f"{prefix}_next"
    if next_key in st.session_state:   # set by the last frame while playing: the slider moves on
        st.session_state[key] = st.session_state.pop(next_key)
    if st.session_state.get(key) not in steps:
        st.session_state[key] = steps[-1]
    playing = st.session_state.get(playing_key, False)
    slider_col, speed_col, play_col, end_col = st.columns([5, 1.6, 1, 1], vertical_alignment="bottom")
    slider_col.select_slider(t("replay.step"), steps, key=key, format_func=lambda s: f"{s:,}")
    speed = speed_col.segmented_control(t("replay.speed"), SPEEDS, default=SPEEDS[1], key=f"{prefix}_speed",
                                        format_func=lambda s: f"{s}×", help=t("replay.speed_help")) or SPEEDS[0]
    play_col.button(t("replay.pause" if playing else "replay.play"), key=f"{prefix}_play", width="stretch",
                    icon=":material/pause:" if playing else ":material/play_arrow:",
                    on_click=toggle_play, args=(playing_key, key, steps))
    end_col.button(t("replay.end"), key=f"{prefix}_end", width="stretch", icon=":material/skip_next:",
                   on_click=jump_to_end, args=(playing_key, key, steps[-1]), disabled=st.session_state[key] == steps[-1])
    step = st.session_state[key]
    frame(run, config, points, snapshots.get(step), step, steps[-1], prefix)
    if playing:
        following = next_step(steps, step, speed)
        if following is not None:
            time.sleep(FRAME_SECONDS)
            st.session_state[next_key] = following
        else:
            st.session_state[playing_key] = False
        st.rerun(scope="fragment")


def next_step(steps: list[int], step: int, speed: int) -> int | None:
    """The step `speed` places after `step` (the last one at most), or None at the end."""
    later = [s for s in steps if s > step]
    return later[min(speed, len(later)) - 1] if later else None


def jump_to_end(playing_key: str, key: str, last: int):
    st.session_state[playing_key] = False
    st.session_state[key] = last


def toggle_play(playing_key: str, key: str, steps: list[int]):
    playing = not st.session_state.get(playing_key, False)
    st.session_state[playing_key] = playing
    if playing and st.session_state.get(key) == steps[-1]:   # at the end: play from the start
        st.session_state[key] = steps[0]


def frame(run: Run, config: RunConfig, points: pd.DataFrame, snapshot: dict | None, step: int, last: int,
          prefix: str):
    """The run as it was at `step`: its curves so far and, when kept, its decision boundary then."""
    shown = points[points["step"] <= step]
    kind = task_info(config.task.name).kind
    with st.container(key=f"{prefix}_at_{step}"):   # the step shown, a handle for scripts
        st.caption(t("replay.at", step=f"{step:,}", last=f"{last:,}"))
    if snapshot is not None:
        left, right = st.columns([1.15, 1], gap="large")
        with left.container(key=f"{prefix}_frame"):
            results.boundary(snapshot, config, key=f"{prefix}_boundary",
                             caption=t("replay.boundary_caption", step=f"{step:,}"))
        with right:
            results.curves(shown, kind, prefix, active=False, stacked=True, last_step=last)
    elif len(shown):
        results.curves(shown, kind, prefix, active=False, last_step=last)
