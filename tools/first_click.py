"""Click -> first point in a real browser, on a freshly started server.

    python tools/first_click.py [--think SECONDS] [--later N] [--json]

Starts `streamlit run app.py` on a free port with a fresh MODELKIT_HOME (default
workers: one per core), opens the Train page in headless Chromium (Debian's,
through Playwright), and clicks Train on the default settings: first as soon as
the first page of the day has loaded (after --think seconds of reading, if given),
then N more times on the warm server, each on a newly opened page. Each time it
measures from the click until the loss chart draws its first point. Prints the
figures (one JSON object with --json).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import ARGS, CHROMIUM, LOSS_POINTS_JS, Server  # noqa: E402

TIMEOUT_MS = 120_000


def open_train_page(pg, url: str) -> float:
    """Seconds from asking for the page until its Train button shows."""
    start = time.perf_counter()
    pg.goto(url)
    pg.locator(".st-key-train_start button").wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def click_to_first_point(pg) -> float:
    """Seconds from clicking Train until the loss chart draws its first point; then waits for the run to end."""
    start = time.perf_counter()
    pg.locator(".st-key-train_start button").click()
    pg.wait_for_function(f"() => ({LOSS_POINTS_JS})() > 0", polling=20, timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - start
    pg.wait_for_function("() => /completed|stopped|failed|diverged/.test("
                         "(document.querySelector('.st-key-train_status') || {}).innerText)", timeout=TIMEOUT_MS)
    return seconds


def measure(think: float, later: int, workers: int | None, log) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="modelkit-first-click-") as home, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        server = Server(Path(home), workers=workers)
        start = time.perf_counter()
        server.start()
        out = {"server_start_s": time.perf_counter() - start, "think_s": think}
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 1600})
            out["first_page_s"] = open_train_page(pg, server.url)
            log(f"fresh server: listening after {out['server_start_s']:.2f} s, first page in {out['first_page_s']:.2f} s")
            if think:
                pg.wait_for_timeout(think * 1000)   # a participant reading the page before the first click
            out["first_run_s"] = click_to_first_point(pg)
            log(f"  first run (click {think:g} s after the page showed): click -> first point "
                f"{out['first_run_s']:.2f} s")
            pages, runs = [], []
            for i in range(later):
                pg.close()
                pg = browser.new_page(viewport={"width": 1400, "height": 1600})
                pages.append(open_train_page(pg, server.url))
                runs.append(click_to_first_point(pg))
                log(f"  later run {i + 1}: page in {pages[-1]:.2f} s, click -> first point {runs[-1]:.2f} s")
            if later:
                out.update(later_page_s=statistics.median(pages), later_run_s=statistics.median(runs),
                           later_runs=later)
        finally:
            server.stop()
            browser.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds between the first page showing and the first click (default 0)")
    parser.add_argument("--later", type=int, default=3, help="runs on the warm server after the first (default 3)")
    parser.add_argument("--workers", type=int, help="MODELKIT_WORKERS for the server (default: one per core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures at the end")
    args = parser.parse_args(argv)
    log = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else print
    figures = measure(args.think, args.later, args.workers, log)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
