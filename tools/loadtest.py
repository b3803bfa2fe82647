"""A room under load: N participants in real headless Chromium against a real server, pressing Train together.

    python tools/loadtest.py --sessions 20 [--epochs 30] [--workers 2] [--warm] [--json]

Starts `streamlit run app.py` on a free local port with a fresh MODELKIT_HOME, opens one
browser context per participant (each its own Streamlit session, named p01, p02, ...),
waits until every page has rendered, then presses Train in each, one after the other
(all within a few seconds). Reports the first-render times (median, max), each run's
wait from its submit to its first recorded point (from the store: when the worker wrote
it), the seconds from the first submit to the last run's end (the room's throughput),
the runs completed, lost (no run, or never finished) and failed, and the peak memory
of the server with its worker processes. With --warm, one more participant (p00) trains a
run first, so that the worker pool is started before the room presses Train (its run is
not counted). Traffic goes to 127.0.0.1 only; every wait is bounded.
Linux only (memory is read from /proc).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def start_server(home: Path, port: int, workers: int | None) -> subprocess.Popen:
    """The app as a workshop runs it; its log goes to MODELKIT_HOME/server.log."""
    env = {**os.environ, "MODELKIT_HOME": str(home)}
    if workers:
        env["MODELKIT_WORKERS"] = str(workers)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start within 90 s")


def open_sessions(browser, url: str, n: int, query: str, timeout_s: float) -> tuple[list, list[float]]:
    """Open n participants' pages at once; each page's first-render seconds (None where it never rendered)."""
    pages, started = [], []
    for i in range(n):
        page = browser.new_context(viewport={"width": 1280, "height": 1600}).new_page()
        started.append(time.monotonic())
        page.goto(f"{url}?who=p{i + 1:02d}&{query}", wait_until="commit")
        pages.append(page)
    renders: list[float | None] = [None] * n
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and None in renders:
        for i, page in enumerate(pages):
            if renders[i] is None and page.locator(".st-key-train_start button:not([disabled])").count():
                renders[i] = time.monotonic() - started[i]
        time.sleep(0.1)
    return pages, renders


def first_point_waits(store, runs) -> list[float]:
    """Per run that wrote a point: seconds from its submit to its first point being recorded."""
    waits = []
    for run in runs:
        points = store.points(run.id)
        if run.started is not None and len(points):
            waits.append(run.started.timestamp() + float(points["seconds"].min()) - run.created.timestamp())
    return waits


WARM = "p00"


def crowd_runs(store) -> list:
    return [r for r in store.list_runs() if r.owner != WARM]


def warm_up(browser, url: str, store, timeout_s: float):
    """One participant trains a short run to the end, so the worker pool is up before the crowd arrives."""
    page = browser.new_context().new_page()
    page.goto(f"{url}?who={WARM}&task=moons&arch=mlp&train.epochs=2")
    page.locator(".st-key-train_start button:not([disabled])").click(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not any(r.status == "completed" for r in store.list_runs(owner=WARM)):
        time.sleep(0.5)
    page.context.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="participants (browser contexts), default 20")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each participant's moons MLP run")
    parser.add_argument("--workers", type=int, help="MODELKIT_WORKERS for the server (default: one per core)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for all runs, at most")
    parser.add_argument("--warm", action="store_true", help="train one run first, so the workers are started")
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from modelkit.store import Store

    home = Path(tempfile.mkdtemp(prefix="modelkit-load-"))
    port = free_port()
    server = start_server(home, port, args.workers)
    memory = PeakMemory(server.pid)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            store = Store(home=home)
            if args.warm:
                warm_up(browser, url, store, args.timeout)
            pages, renders = open_sessions(browser, url, args.sessions,
                                           f"task=moons&arch=mlp&train.epochs={args.epochs}", args.timeout / 2)
            pressed_at = time.monotonic()
            for page in pages:
                if page.locator(".st-key-train_start button:not([disabled])").count():
                    page.locator(".st-key-train_start button").click()
            press_spread = time.monotonic() - pressed_at
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                runs = crowd_runs(store)
                if len(runs) >= args.sessions and not any(r.active for r in runs):
                    break
                time.sleep(1)
            browser.close()
    finally:
        peak = memory.stop()
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()

    runs = crowd_runs(store)
    statuses = [r.status for r in runs]
    rendered = [r for r in renders if r is not None]
    waits = first_point_waits(store, runs)
    report = {
        "sessions": args.sessions, "workers": args.workers or "one per core", "epochs": args.epochs,
        "warm": args.warm,
        "rendered": len(rendered), "render_median_s": round(statistics.median(rendered), 2) if rendered else None,
        "render_max_s": round(max(rendered), 2) if rendered else None, "press_spread_s": round(press_spread, 2),
        "runs": len(runs), "completed": statuses.count("completed"), "failed": statuses.count("failed"),
        "lost": args.sessions - statuses.count("completed") - statuses.count("failed"),
        "first_point_median_s": round(statistics.median(waits), 2) if waits else None,
        "first_point_max_s": round(max(waits), 2) if waits else None,
        "all_done_s": round(max(r.finished for r in runs if r.finished).timestamp()
                            - min(r.created for r in runs).timestamp(), 1) if any(r.finished for r in runs) else None,
        "server_peak_mb": round(peak / 1024**2), "server_log": str(home / "server.log"),
    }
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:<22} {value}")
    return 0 if report["completed"] == args.sessions else 1


if __name__ == "__main__":
    sys.exit(main())
