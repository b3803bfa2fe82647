"""What the browser tests and tools/first_click.py share: a real `streamlit run app.py` and Chromium's set-up."""
from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.polling import free_port

CHROMIUM = "/usr/bin/chromium"   # Debian's; nothing downloads a browser
ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# Training-loss points drawn in the Train page's loss chart now (0 before it exists).
LOSS_POINTS_JS = """() => { const g = document.querySelector('.st-key-train_loss_chart .js-plotly-plot');
    return g && g._fullData && g._fullData.length ? g._fullData[0]._length || 0 : 0; }"""


NEEDS_CHROMIUM = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")


class Server:
    """`streamlit run app.py` on a free port with a run store of its own; it can be stopped, killed and
    started again on the same store."""

    def __init__(self, home: Path, workers: int | None = 1, env: dict | None = None):   # workers None: two per core
        self.home, self.workers, self.port, self.proc = Path(home), workers, free_port(), None
        self.env = env or {}   # more settings for the server (MODELKIT_LIMIT_SECONDS, ...)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.output: collections.deque[str] = collections.deque(maxlen=40)   # its last lines, for errors

    def start(self, timeout: float = 90):
        """Start the server and return once it answers: it prints its URL when its socket is bound, and takes
        requests once its warm-up (modelkit.ui.resources.warm_start) is done; its health check says when."""
        env = {**os.environ, "MODELKIT_HOME": str(self.home), "PYTHONUNBUFFERED": "1", **self.env}
        if self.workers:
            env["MODELKIT_WORKERS"] = str(self.workers)
        self.proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                                      "--server.headless", "true", "--browser.gatherUsageStats", "false",
                                      "--server.fileWatcherType", "none"],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        listening = threading.Event()
        threading.Thread(target=self._read_output, args=(self.proc, listening), daemon=True).start()
        deadline = time.monotonic() + timeout
        if not listening.wait(timeout) or not self._answers(deadline):
            self.kill()
            raise RuntimeError("streamlit did not start:\n" + "".join(self.output))

    def _answers(self, deadline: float) -> bool:
        """Wait until the server's health check answers (False at the deadline or when the server ended)."""
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "_stcore/health", timeout=max(0.1, deadline - time.monotonic())) as answer:
                    if answer.status == 200:
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def _read_output(self, proc, listening: threading.Event):
        for line in proc.stdout:   # read to the end, so that the server never blocks on a full pipe
            self.output.append(line)
            if "URL:" in line:
                listening.set()

    def stop(self):
        """End the server as Ctrl-C does (its runner marks running runs interrupted)."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """SIGKILL: no clean-up of any kind, as when the machine runs out of memory."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(15)


@contextlib.contextmanager
def running_server(home: Path, workers: int | None = 1):
    """A started Server with its own store and runner, stopped at the end."""
    srv = Server(home, workers=workers)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def server_fixture(workers: int):
    """A pytest fixture: a running_server of each test's own."""
    @pytest.fixture
    def server(tmp_path):
        with running_server(tmp_path / "home", workers) as srv:
            yield srv
    return server


def loss_points(pg) -> int:
    return pg.evaluate(LOSS_POINTS_JS)


def wait_for_more_loss_points(pg, than: int, timeout_ms: float = 150_000) -> int:
    """Wait until the loss chart draws more than `than` points; how many it draws then."""
    pg.wait_for_function(f"n => ({LOSS_POINTS_JS})() > n", arg=than, timeout=timeout_ms)
    return loss_points(pg)


def wait_for_url_param(pg, name: str, value: str):
    """The page has rerun with a widget's new value: the URL carries it."""
    pg.wait_for_function("([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[name, value])


def set_setting(pg, key: str, value: str, param: str, tries: int = 3):
    """Type `value` into the input of widget `key` and wait until the page has rerun with it (the URL
    carries `param`). A rerun still drawing the form can replace the input under the typing; then type again."""
    for attempt in range(tries):
        box = pg.locator(f".st-key-{key} input")
        box.fill(value)
        box.press("Enter")
        try:
            pg.wait_for_function("([k, v]) => new URLSearchParams(location.search).get(k) === v",
                                 arg=[param, value], timeout=20_000)
            return
        except Exception:
            if attempt == tries - 1:
                raise


SCRIPT_STATE_JS = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"


def wait_for_rerun(pg, timeout_ms: float = 60_000):
    """After an input that makes Streamlit rerun (a blur, a key press): wait until that rerun has ended.

    The rerun may already be over when this starts looking, so its start is awaited only briefly."""
    try:
        pg.wait_for_function(f"() => ({SCRIPT_STATE_JS})() === 'running'", timeout=3_000)
    except Exception:
        pass   # it started and ended before we looked
    pg.wait_for_function(f"() => ({SCRIPT_STATE_JS})() !== 'running'", timeout=timeout_ms)


def wait_for_run_in_url(pg) -> str:
    """The run the Train page shows, once the page has put it in the URL (after drawing it)."""
    return pg.wait_for_function("() => new URLSearchParams(location.search).get('run')").json_value()


def wait_for_status(pg, word: str, timeout_ms: float = 60_000):
    """The Train page's status line shows `word` (queued, running, stopped, interrupted...)."""
    pg.wait_for_function("w => (document.querySelector('.st-key-train_status') || {}).innerText?.includes(w)",
                         arg=word, timeout=timeout_ms)
