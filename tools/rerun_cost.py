"""The server CPU of one rerun of each page while a run trains: where a participant's click goes.

    python tools/rerun_cost.py [--steps 3000] [--reruns 5] [--profile train] [--json]

Pages: train (with ?run= of the live run), runs, compare (with the live run), and poll: one poll of
the Train page's live panel alone (the polling fragment's body: what a watching participant costs
the server LIVE_POLL_SECONDS after LIVE_POLL_SECONDS).

Runs each page script in this process (streamlit.testing's AppTest, a real script run without a
browser) against a store of its own that holds one live run with --steps recorded steps (their loss,
learning rate and samples/s, and a validation check every 100 steps), as a worker leaves them.
Reports the median CPU seconds of a rerun per page (this process's own time: nothing else runs in
it) after a first run that imports and caches: with 100 new steps recorded before each rerun (as a
live run's flush brings them, with a new decision boundary), and with nothing new. --profile PAGE prints where that page's rerun spends
its time (cProfile of the script thread, sorted by cumulative time).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGES = {"train": ("app_pages/train.py", "run"), "runs": ("app_pages/runs.py", None),
         "compare": ("app_pages/compare.py", "runs"), "poll": (None, None)}
# "poll": what one poll of the Train page's live panel runs (the fragment's body, without the rest of the page)
POLL_SCRIPT = """
import streamlit as st
from modelkit.ui import run_view
run_view.panel(st.query_params["run"], "train", polling=True, following="running")
"""


def step_points(first: int, last: int) -> list[tuple]:
    """What a worker records for steps first..last: loss, learning rate, samples/s; a check every 100 steps."""
    points = []
    for s in range(first, last + 1):
        t = s / 200
        points += [(s, s / 100, t, "loss", 1 / s ** 0.3), (s, s / 100, t, "lr", 0.003), (s, s / 100, t, "samples_per_s", 1e4)]
        if s % 100 == 0:
            points += [(s, s / 100, t, "val_loss", 1 / s ** 0.3), (s, s / 100, t, "val_accuracy", 1 - 1 / s ** 0.3)]
    return points


def plane(step: int) -> dict:
    """A 2-D task's decision boundary as the worker records it at a validation check (it moves with training)."""
    grid = [i / 20 - 1 for i in range(41)]
    return {"xs": grid, "ys": grid, "z": [[(x * y * step / (step + 100) + 1) / 2 for x in grid] for y in grid],
            "n_classes": 2}


def live_run(store, steps: int) -> str:
    """A moons MLP run that is training (in this process, so nothing marks it interrupted) with `steps` steps
    and a decision boundary."""
    from modelkit.config import make_config

    run_id = store.create_run(make_config("moons", "mlp"), owner="bench", queued=False)
    points = step_points(1, steps)
    store.record(run_id, points, progress={"step": steps, "max_steps": 10 * steps, "seconds": steps / 200},
                 boundary=plane(steps))
    return run_id


def page_test(page: str, run_id: str):
    from streamlit.testing.v1 import AppTest

    path, param = PAGES[page]
    at = AppTest.from_file(str(ROOT / path), default_timeout=300) if path else AppTest.from_string(POLL_SCRIPT)
    at.session_state["lang"], at.session_state["participant"] = "en", ""
    if param or not path:
        at.query_params[param or "run"] = run_id
    return at


def rerun_cpu(at, profile: cProfile.Profile | None = None) -> float:
    """CPU seconds of one rerun of `at` (profiled in its script thread when `profile` is given)."""
    if profile:
        threading.setprofile(lambda *a: profile.enable())
    start = time.process_time()
    at.run()
    cpu = time.process_time() - start
    threading.setprofile(None)
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception[0].value}")
    return cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps the live run has recorded (default 3000)")
    parser.add_argument("--reruns", type=int, default=5, help="reruns measured per page (default 5)")
    parser.add_argument("--profile", choices=sorted(PAGES), help="print where this page's rerun spends its time")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    os.environ["MODELKIT_HOME"] = tempfile.mkdtemp(prefix="modelkit-rerun-")
    from modelkit.store import Store

    store = Store()
    run_id, steps = live_run(store, args.steps), args.steps
    figures = {"steps": args.steps, "load_average": [round(v, 2) for v in os.getloadavg()]}
    for page in PAGES:
        at = page_test(page, run_id)
        first = rerun_cpu(at)
        same = [rerun_cpu(at) for _ in range(args.reruns)]
        new = []
        for _ in range(args.reruns):   # as while a run trains: a flush of 100 new steps before each rerun
            store.record(run_id, step_points(steps + 1, steps + 100), boundary=plane(steps + 100))
            steps += 100
            new.append(rerun_cpu(at))
        figures[page] = {"first_run_cpu_s": round(first, 3), "rerun_cpu_s_median": round(statistics.median(new), 4),
                         "rerun_cpu_s_max": round(max(new), 4),
                         "unchanged_rerun_cpu_s_median": round(statistics.median(same), 4)}
        if page == args.profile:
            profile = cProfile.Profile()
            store.record(run_id, step_points(steps + 1, steps + 100), boundary=plane(steps + 100))   # as measured
            steps += 100
            rerun_cpu(at, profile)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    print(json.dumps(figures) if args.json else "\n".join(f"{k:<14} {v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
