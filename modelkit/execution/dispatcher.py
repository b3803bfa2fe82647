"""The lifecycle every executor shares: a pool kept at its size, fed from the store's queue by one thread.

A subclass says how one of its workers starts, hears back, is handed a run, is killed and is closed
(`LocalExecutor`: local processes; `RayExecutor`: actors of a Ray cluster). This base keeps the pool,
the dispatcher loop (start what is missing, wait for events, hand out runs, kill a worker whose run
ignores a stop past `stop_grace`, mark the runs of vanished processes interrupted), readiness and
shutdown.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from modelkit.store import Store

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0      # a stop request not obeyed within this long ends the worker
CLAIM_EVERY_S = 0.5     # how often idle workers look for runs queued by other processes
RECOVER_EVERY_S = 10.0  # how often runs of vanished processes are marked interrupted


class Dispatcher:
    """A pool of `size` workers (each with `pid`, `ready` and `run_id`) and the thread that feeds it."""

    KIND = "worker"                 # what a worker is called in the log
    THREAD_NAME = "modelkit-dispatcher"
    STOP_CHECK_S = 0.25             # how often stop requests are enforced, besides at each wake-up
    STOPPED_MESSAGE = ""            # the run's message when its worker was killed for ignoring a stop

    def __init__(self, store: Store, size: int, stop_grace: float = STOP_GRACE_S):
        self.store, self.size, self.stop_grace = store, max(1, size), stop_grace
        self._pool: list = []
        self._pool_lock = threading.Lock()
        self._all_ready = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._dispatch_forever, name=self.THREAD_NAME, daemon=True)

    # --- what a subclass provides ------------------------------------------------------

    def _start_worker(self): ...                       # start one worker and add it to the pool
    def _wait_for_events(self) -> bool: ...            # handle workers' news for up to 0.2 s; True if woken
    def _give(self, w, run_id: str): ...               # hand a claimed run to an idle worker
    def _kill(self, w): ...                            # end a worker whose run ignored its stop
    def _close_pool(self): ...                         # end every worker; their runs are interrupted
    def _interrupt(self): ...                          # make _wait_for_events return now

    def _claim(self, w) -> str | None:
        return self.store.claim_next(server_pid=os.getpid())

    # --- called from any thread ----------------------------------------------------

    def wake(self):
        if not self._closing.is_set():
            self._interrupt()

    def workers(self) -> list[dict]:
        with self._pool_lock:
            return [self._describe(w) for w in self._pool]

    def _describe(self, w) -> dict:
        return dict(pid=w.pid, ready=w.ready, run_id=w.run_id)

    def warming_up(self) -> bool:
        return not self._all_ready.is_set() and not self._closing.is_set()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        return self._all_ready.wait(timeout)

    def shutdown(self):
        if self._closing.is_set():
            return
        self._closing.set()
        self._interrupt()
        self._thread.join(timeout=30)

    # --- the dispatcher thread -----------------------------------------------------

    def _dispatch_forever(self):
        next_claim = next_stop_check = 0.0
        next_recover = time.monotonic() + RECOVER_EVERY_S
        while not self._closing.is_set():
            try:
                while len(self._pool) < self.size:
                    self._start_worker()
                woken = self._wait_for_events()
                now = time.monotonic()
                if woken or now >= next_claim:
                    self._assign_runs()
                    next_claim = now + CLAIM_EVERY_S
                if woken or now >= next_stop_check:
                    self._enforce_stops()
                    next_stop_check = now + self.STOP_CHECK_S
                if now >= next_recover:
                    self.store.recover_orphans()
                    next_recover = now + RECOVER_EVERY_S
            except Exception:  # a busy database, a failed start or a cluster hiccup must not end the dispatcher
                log.exception("%s dispatcher error; retrying", self.KIND)
                self._closing.wait(1.0)
        self._close_pool()

    def _added(self, w):
        with self._pool_lock:
            self._pool.append(w)
            self._all_ready.clear()

    def _removed(self, w):
        with self._pool_lock:
            self._pool.remove(w)
            self._all_ready.clear()

    def _mark_ready(self, w):
        w.ready = True
        if len(self._pool) == self.size and all(x.ready for x in self._pool):
            self._all_ready.set()

    def _assign_runs(self):
        for w in list(self._pool):
            if not w.ready or w.run_id is not None:
                continue
            run_id = self._claim(w)
            if run_id is None:
                return
            self._give(w, run_id)

    def _enforce_stops(self):
        busy = {w.run_id: w for w in self._pool if w.run_id is not None}
        for run_id, asked_at in self.store.stop_requests(busy).items():
            if time.time() - asked_at < self.stop_grace:
                continue
            w = busy[run_id]
            self._kill(w)
            self.store.finish_run(run_id, "stopped", self.STOPPED_MESSAGE)
            log.warning("%s %s ignored the stop of run %s for %.0f s; killed", self.KIND, w.pid, run_id,
                        self.stop_grace)
