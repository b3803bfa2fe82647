"""A room under load: N participants in real headless Chromium against a real server.

    python tools/loadtest.py --sessions 20 [--epochs 30] [--workers 2] [--warm] [--window 30] [--json]

Starts `streamlit run app.py` on a free local port with a fresh MODELKIT_HOME, then lowers its own
priority to the lowest (`nice 19`, inherited by Playwright and every Chromium), so the browsers take
only what the server and its workers leave. It opens one browser context per participant (each its
own Streamlit session, named p01, p02, ...) and measures the server's cost per participant in three
states, each for --window seconds: the CPU seconds of the server process alone (its own user +
system time from /proc/PID/stat: not its worker processes, not the browsers) divided by
participant-minutes, reported as `server_cpu_s_per_participant_minute` (0.6 = 1% of a core):

- idle: every page open on Train, nothing running;
- watching: every page follows one live run (p00's, with a time budget longer than the window);
- browsing: every participant opens, one after another, that finished run's page (results and
  Look inside), Compare with it, and Runs, pausing --think seconds on each.

Then every participant presses Train (one after the other, within a few seconds) and the tool
waits for the runs: first-render times (median, max), each run's wait from its submit to its first
recorded point, the seconds from the first submit to the last run's end, the runs completed, lost
(no run, or never finished) and failed, and the peak memory of the server with its workers. With
--warm, p00 trains a short run first, so the worker pool is up before the room arrives. Traffic
goes to 127.0.0.1 only; every wait is bounded. Linux only (CPU and memory are read from /proc).
The machine's load average is reported at the start and the end: on a shared machine every figure
is an upper bound.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser import ARGS, CHROMIUM, Server  # noqa: E402


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the process `pid` itself (its threads, not its children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log(text: str):
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


class PeakMemory:
    """Samples a process tree's memory twice a second in a thread; `.peak` is the highest seen."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._done.wait(0.5):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def start_server(home: Path, workers: int | None) -> Server:
    """The app as a workshop runs it, started once it takes requests (warm)."""
    server = Server(home, workers=workers, env={"MODELKIT_LIMIT_SECONDS": str(WATCHED_S)})
    server.start(timeout=180)
    return server


def open_sessions(browser, url: str, n: int, query: str, timeout_s: float) -> tuple[list, list[float]]:
    """Open n participants' pages at once; each page's first-render seconds (None where it never rendered)."""
    pages, started = [], []
    for i in range(n):
        page = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        page.set_default_navigation_timeout(timeout_s * 1000)
        started.append(time.monotonic())
        page.goto(f"{url}?who=p{i + 1:02d}&{query}", wait_until="commit")
        pages.append(page)
    return pages, wait_for_all(pages, START, started, timeout_s)


START = ".st-key-train_start button:not([disabled])"


def wait_for_all(pages, selector: str, started: list[float], timeout_s: float) -> list[float | None]:
    """Seconds from each page's `started` until `selector` shows on it (None where it never did)."""
    shown: list[float | None] = [None] * len(pages)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and None in shown:
        for i, page in enumerate(pages):
            if shown[i] is None and page.locator(selector).count():
                shown[i] = time.monotonic() - started[i]
        time.sleep(0.1)
    return shown


def first_point_waits(store, runs) -> list[float]:
    """Per run that wrote a point: seconds from its submit to its first point being recorded."""
    waits = []
    for run in runs:
        points = store.points(run.id)
        if run.started is not None and len(points):
            waits.append(run.started.timestamp() + float(points["seconds"].min()) - run.created.timestamp())
    return waits


WARM = "p00"
WATCHED_S = 3600   # the watched run's time budget (the server's limit is raised to it): stopped once measured


def crowd_runs(store) -> list:
    return [r for r in store.list_runs() if r.owner != WARM]


def starter_page(browser, url: str, timeout_s: float):
    """p00's page, kept for the tool's own runs: a name is a seat (room.claim), so a second browser that asks
    for p00 without the seat's secret is refused; this one keeps the secret in its URL."""
    page = browser.new_context().new_page()
    page.goto(f"{url}?who={WARM}", timeout=timeout_s * 1000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('seat')", timeout=timeout_s * 1000)
    return page


def as_starter(page, url: str, query: str) -> str:
    """`url` with `query`, opened as p00 (its seat's secret from the page's own address)."""
    seat = page.evaluate("() => new URLSearchParams(location.search).get('seat')")
    return f"{url}?who={WARM}&seat={seat}&{query}"


def warm_up(page, url: str, store, timeout_s: float):
    """One participant trains a short run to the end, so the worker pool is up before the crowd arrives."""
    page.goto(as_starter(page, url, "task=moons&arch=mlp&train.epochs=2"), timeout=timeout_s * 1000)
    page.locator(START).click(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not any(r.status == "completed" for r in store.list_runs(owner=WARM)):
        time.sleep(0.5)


def server_cost(pid: int, sessions: int, window_s: float, during=None) -> dict:
    """The server's own CPU over `window_s` seconds (while `during(deadline)` drives the pages, if given),
    per participant-minute and as a share of one core per participant."""
    time.sleep(3)   # let the reruns of whatever just happened settle
    before, start = cpu_seconds(pid), time.monotonic()
    if during:
        during(start + window_s)
    time.sleep(max(0.0, start + window_s - time.monotonic()))
    cpu, seconds = cpu_seconds(pid) - before, time.monotonic() - start
    per_minute = cpu / (sessions * seconds / 60)
    return {"server_cpu_s": round(cpu, 2), "window_s": round(seconds, 1),
            "server_cpu_s_per_participant_minute": round(per_minute, 3),
            "core_share_per_participant": round(per_minute / 60, 4), "load_average": load_average()}


def start_watched_run(page, url: str, store, seconds: float, timeout_s: float) -> str:
    """p00 starts a moons MLP run with a time budget of `seconds`; its id, once it trains."""
    page.goto(as_starter(page, url, f"task=moons&arch=mlp&train.epochs=100000&train.time_budget={seconds:g}"),
              timeout=timeout_s * 1000)
    page.locator(START).click(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        live = [r for r in store.list_runs(owner=WARM) if r.status == "running"]
        if live:
            page.goto(as_starter(page, url, ""), timeout=timeout_s * 1000)   # p00 no longer watches it
            return live[0].id
        time.sleep(0.3)
    raise SystemExit("the watched run did not start")


def watch(pages, url: str, run_id: str, timeout_s: float) -> int:
    """Every page follows `run_id` live (each page a new session, as a shared link opens); how many do."""
    started = []
    for i, page in enumerate(pages):
        started.append(time.monotonic())
        page.goto(f"{url}?who=p{i + 1:02d}&run={run_id}", wait_until="commit")
    shown = wait_for_all(pages, ".st-key-train_status_is_running", started, timeout_s)
    return sum(s is not None for s in shown)


def browse(pages, url: str, run_id: str, think_s: float) -> tuple:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    """A function that, until its deadline, has each participant open its next page every `think_s`
    seconds (staggered): the finished run (results, Look inside), Compare with it, Runs. `views` counts."""
    tour = [f"?run={run_id}", f"compare?runs={run_id}", "runs"]
    views = [0, 0]   # page views asked for, and those the server did not answer within a minute

    def during(deadline: float):
        step = 0
        while time.monotonic() < deadline:
            for i, page in enumerate(pages):
                try:
                    page.goto(f"{url}{tour[(step + i) % len(tour)]}&who=p{i + 1:02d}".replace("runs&", "runs?"),
                              wait_until="commit", timeout=60_000)
                except PlaywrightTimeout:
                    views[1] += 1
                views[0] += 1
                time.sleep(think_s / len(pages))
                if time.monotonic() >= deadline:
                    return
            step += 1
    return during, views


def room_states(server, pages, starter, url: str, store, args) -> dict:
    """The three states' server costs, in order: idle on Train, watching a live run, browsing."""
    states = {"idle": server_cost(server.proc.pid, len(pages), args.window)}
    log(f"idle: {states['idle']}")
    run_id = start_watched_run(starter, url, store, WATCHED_S, args.timeout)
    watching = watch(pages, url, run_id, args.timeout / 4)
    states["watching"] = {**server_cost(server.proc.pid, len(pages), args.window), "following": watching}
    log(f"watching: {states['watching']}")
    store.request_stop(run_id)
    deadline = time.monotonic() + args.timeout / 4
    while time.monotonic() < deadline and store.get_run(run_id).active:
        time.sleep(0.5)
    during, views = browse(pages, url, run_id, args.think)
    states["browsing"] = {**server_cost(server.proc.pid, len(pages), args.window, during), "page_views": views[0],
                          "page_views_unanswered": views[1], "think_s": args.think}
    log(f"browsing: {states['browsing']}")
    return states


def crowd_presses(pages, store, sessions: int, timeout_s: float, url: str, query: str) -> float:
    """Every participant opens Train afresh and presses it; the seconds the presses took. Waits for the runs."""
    for i, page in enumerate(pages):
        page.goto(f"{url}?who=p{i + 1:02d}&{query}", wait_until="commit")
    wait_for_all(pages, START, [time.monotonic()] * len(pages), timeout_s / 2)
    pressed_at = time.monotonic()
    for page in pages:
        if page.locator(START).count():
            page.locator(".st-key-train_start button").click()
    spread = time.monotonic() - pressed_at
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = crowd_runs(store)
        if len(runs) >= sessions and not any(r.active for r in runs):
            break
        time.sleep(1)
    return spread


def report(args, renders, press_spread, states, store, peak, home, loads) -> dict:
    runs = crowd_runs(store)
    statuses = [r.status for r in runs]
    rendered = [r for r in renders if r is not None]
    waits = first_point_waits(store, runs)
    return {
        "sessions": args.sessions, "workers": args.workers or "two per core", "epochs": args.epochs,
        "warm": args.warm, "load_average_start": loads[0], "load_average_end": loads[1],
        "rendered": len(rendered), "render_median_s": round(statistics.median(rendered), 2) if rendered else None,
        "render_max_s": round(max(rendered), 2) if rendered else None,
        "states": states, "press_spread_s": round(press_spread, 2),
        "runs": len(runs), "completed": statuses.count("completed"), "failed": statuses.count("failed"),
        "lost": args.sessions - statuses.count("completed") - statuses.count("failed"),
        "first_point_median_s": round(statistics.median(waits), 2) if waits else None,
        "first_point_max_s": round(max(waits), 2) if waits else None,
        "all_done_s": round(max(r.finished for r in runs if r.finished).timestamp()
                            - min(r.created for r in runs).timestamp(), 1) if any(r.finished for r in runs) else None,
        "server_peak_mb": round(peak / 1024**2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="participants (browser contexts), default 20")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each participant's moons MLP run")
    parser.add_argument("--workers", type=int, help="MODELKIT_WORKERS for the server (default: two per core)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all runs, at most")
    parser.add_argument("--warm", action="store_true", help="train one run first, so the workers are started")
    parser.add_argument("--window", type=float, default=30, help="seconds each state's server CPU is measured")
    parser.add_argument("--think", type=float, default=10, help="seconds a browsing participant stays on a page")
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from modelkit.store import Store

    home = Path(tempfile.mkdtemp(prefix="modelkit-load-"))
    loads = [load_average()]
    started = time.perf_counter()
    server = start_server(home, args.workers)
    start_s = time.perf_counter() - started
    os.nice(19)   # from here on (Playwright, every Chromium) at the lowest priority; the server keeps its own
    memory = PeakMemory(server.proc.pid)
    url, query = server.url, f"task=moons&arch=mlp&train.epochs={args.epochs}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            store = Store(home=home)
            starter = starter_page(browser, url, args.timeout)
            if args.warm:
                warm_up(starter, url, store, args.timeout)
                log("warm-up run completed")
            pages, renders = open_sessions(browser, url, args.sessions, query, args.timeout / 2)
            log(f"{sum(r is not None for r in renders)} of {args.sessions} pages rendered: {renders}")
            states = room_states(server, pages, starter, url, store, args)
            press_spread = crowd_presses(pages, store, args.sessions, args.timeout, url, query)
            log("the crowd's runs ended")
            browser.close()
    finally:
        peak = memory.stop()
        loads.append(load_average())
        server.stop()
    figures = {"server_start_s": round(start_s, 2), **report(args, renders, press_spread, states, store, peak, home, loads)}
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:<22} {value}")
    return 0 if figures["completed"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
