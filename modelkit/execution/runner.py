"""Runs training jobs off the UI thread, in worker processes a crash cannot spread from.

    runner = Runner(store)            # one per server process; returns at once, the workers start behind it
    run_id = runner.submit(config)    # returns at once; the run is queued in the store
    runner.stop(run_id)               # or store.request_stop(run_id) from any process

The queue is the store itself: `submit` writes a queued run and wakes the
executor, which claims the next queued run (round-robin across participants)
whenever it has an idle worker.
An executor is anything with `wake()`, `workers()` and `shutdown()` that takes
runs from the store; `LocalExecutor` is a pool of local worker processes, and
`ray_executor.RayExecutor` (MODELKIT_EXECUTOR=ray) the actors of a Ray cluster.

LocalExecutor, one dispatcher thread in the server:
- starts MODELKIT_WORKERS (default: two per core) processes from a fork server
  (spawned where there is none), each with its share of the CPU threads, torch
  and the engine already imported;
- sends each idle worker the next run id; the worker trains and records it;
- a worker that dies (exception outside a run, segfault, OOM kill, kill -9)
  has its run marked failed with a message, and is replaced;
- a worker whose run was asked to stop and has not stopped after `stop_grace`
  seconds is killed (the run is marked stopped, its points kept) and replaced;
- when the runner is made, and every few seconds after, running runs whose
  owning process is gone are marked interrupted (a killed server or CLI run).
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import types
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Protocol

from modelkit import messages, room, settings
from modelkit.config import RunConfig
from modelkit.execution import worker
from modelkit.execution.dispatcher import STOP_GRACE_S, Dispatcher
from modelkit.store import INTERRUPTED_MESSAGE, Store
from modelkit.training.loop import check_device

log = logging.getLogger(__name__)



# Imported once by the fork server, so that a new or replacement worker starts in a fraction of a second.
# torch._dynamo is what a process's first torch.optim optimizer imports (3 s on a busy machine).
PRELOAD = ["torch", "torch._dynamo", "modelkit.execution.worker", "modelkit.training.loop", "modelkit.models",
           "modelkit.data.tasks", "sklearn.datasets", "mnist1d.data"]
_starting = threading.Lock()


def worker_context():
    """forkserver where the platform has it (a clean single-threaded parent, preloaded), else spawn.

    Never plain fork: forking a threaded server such as Streamlit can copy a held lock.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def without_main_script():
    """Starts processes that import only what their target needs, never the server's `__main__` script.

    multiprocessing re-imports `__main__` from its file in each new process (and in the fork server).
    Under Streamlit that is whichever script ran last: the app, which does nothing as `__mp_main__`, or
    a test's AppTest script, which fails outside its session and so killed every worker at its start.
    """
    with _starting:
        main = sys.modules.get("__main__")
        bare = sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if sys.modules.get("__main__") is bare:    # a script that ran meanwhile keeps its own
                sys.modules["__main__"] = main


def make_executor(store: Store, workers: int | None = None, kind: str | None = None) -> "Executor":
    """The executor named by `kind` or MODELKIT_EXECUTOR: local worker processes (default) or a Ray cluster."""
    kind = kind or settings.executor()
    if kind == "ray":
        from modelkit.execution.ray_executor import (
            RayExecutor,  # Ray is needed only by those who host on it
        )

        return RayExecutor(store, workers)
    if kind != "local":
        raise ValueError(f"MODELKIT_EXECUTOR must be local or ray, not {kind!r}")
    return LocalExecutor(store, workers)


class Executor(Protocol):
    """Trains the store's queued runs somewhere: claim with store.claim_next, record through the store."""

    def wake(self) -> None: ...                       # new runs or stop requests may be in the store
    def workers(self) -> list[dict]: ...              # [{pid, ready, run_id}] for status displays
    def warming_up(self) -> bool: ...                 # some worker is still starting (pages say so)
    def wait_ready(self, timeout: float) -> bool: ...
    def shutdown(self) -> None: ...                   # end all work; running runs are marked interrupted
    def check(self, config) -> None: ...              # refuse (ConfigError) what it cannot run, before it is stored


class Runner:
    """The one entry point pages use to start and stop runs."""

    def __init__(self, store: Store | None = None, workers: int | None = None,
                 executor: Executor | None = None):
        self.store = store or Store()
        self.store.recover_orphans()   # runs left running by a previous server; queued ones wait their turn
        self.executor = executor or make_executor(self.store, workers)
        threading.Thread(target=room.warm_up, name="modelkit-room-warm-up", daemon=True).start()
        atexit.register(self.shutdown)

    def submit(self, config, owner: str = "web", by: str | None = None, challenge: str | None = None) -> str:
        """Queue a run for `owner`; `by` is the participant submitting it (None: the host, the CLI).

        Refused (ConfigError) over one of the room's limits, or against its challenge's rules (modelkit.room)."""
        return self.submit_all([config], owner, by=by, challenge=challenge)[0]

    def submit_all(self, configs: list, owner: str = "web", by: str | None = None,
                   challenge: str | None = None) -> list[str]:
        """Queue a group of runs (a comparison, a sweep, a ladder) as one submit: all of them, or none
        with the ConfigError of the first refusal (modelkit.room.door says how a group counts)."""
        admitted = room.admit_all(self.store, configs, owner, by=by, challenge=challenge)
        for config, _ in admitted:
            self.executor.check(config)
        run_ids = [self.store.create_run(config, owner, challenge=challenge, behind=behind)
                   for config, behind in admitted]
        self.executor.wake()
        return run_ids

    def stop(self, run_id: str, by: str | None = None) -> bool:
        """Ask a run to stop; a participant `by` may stop only their own (None: the host)."""
        asked = room.actions.stop(self.store, run_id, by=by)
        self.executor.wake()
        return asked

    def rerun(self, run_id: str, by: str | None = None) -> str:
        """Queue a stored run's settings again, for its owner; a participant `by` may re-run only their own."""
        run = room.actions.check(self.store, run_id, "rerun", by)
        return self.submit(RunConfig.from_dict(run.config), owner=run.owner, by=by, challenge=run.challenge)

    def workers(self) -> list[dict]:
        return self.executor.workers()

    def warming_up(self) -> bool:
        """True while worker processes are still starting: a queued run waits for them, not for other runs."""
        return self.executor.warming_up()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every worker is warm (tests and benchmarks; pages never need to)."""
        return self.executor.wait_ready(timeout)

    def shutdown(self):
        atexit.unregister(self.shutdown)
        self.executor.shutdown()


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object                  # the server's end of the worker's pipe
    pid: int | None = None
    ready: bool = False
    run_id: str | None = None


class LocalExecutor(Dispatcher):
    """A pool of worker processes fed from the store's queue by one dispatcher thread."""

    STOPPED_MESSAGE = messages.STOP_KILLED

    def __init__(self, store: Store, workers: int | None = None, stop_grace: float = STOP_GRACE_S):
        super().__init__(store, workers or settings.workers(), stop_grace)
        self.threads = max(1, settings.cpu_cores() // self.size)   # never more threads than cores, all workers together
        self.context = worker_context()
        self._wake_reader, self._wake_writer = self.context.Pipe(duplex=False)
        self._wake_lock = threading.Lock()
        self._thread.start()

    def check(self, config):
        check_device(config.train.device)   # the workers train on this machine: it must have the device

    def _interrupt(self):
        with self._wake_lock:
            self._wake_writer.send_bytes(b".")

    def _wait_for_events(self) -> bool:
        """Wait up to 0.2 s for a message, a dead worker or a wake-up; handle the first two."""
        pool = list(self._pool)
        ready = wait([self._wake_reader] + [w.conn for w in pool] + [w.process.sentinel for w in pool],
                     timeout=0.2)
        woken = False
        while self._wake_reader.poll():
            self._wake_reader.recv_bytes()
            woken = True
        for w in pool:
            if w.conn in ready:
                self._receive(w)
            if w.process.sentinel in ready or not w.process.is_alive():
                self._lost(w)
        return woken

    def _start_worker(self):
        ours, theirs = self.context.Pipe()
        # Looked up at each start: a dev server's file watcher may have reloaded modelkit.execution.worker.
        process = self.context.Process(target=worker.worker_main, name="modelkit-worker", daemon=True,
                                       args=(theirs, self.store.url, str(self.store.home), self.threads))
        with without_main_script():
            process.start()
        theirs.close()
        self._added(_Worker(process, ours, pid=process.pid))

    def _receive(self, w: _Worker):
        try:
            while w.conn.poll():
                message = w.conn.recv()
                if message[0] == "ready":
                    self._mark_ready(w)
                elif message[0] == "done" and message[1] == w.run_id:
                    w.run_id = None
        except (EOFError, OSError):
            pass  # the worker is dying; its sentinel reports it

    def _lost(self, w: _Worker):
        """A worker process ended: fail its run (if any) in plain words, and replace it."""
        w.process.join(timeout=1)
        self._removed(w)
        w.conn.close()
        if w.run_id is not None:
            self.store.finish_run(w.run_id, "failed", death_message(w.process.exitcode))
            log.warning("worker %s died (exit code %s) while training run %s", w.pid, w.process.exitcode, w.run_id)
        # the dispatcher loop starts its replacement

    def _claim(self, w: _Worker) -> str | None:
        return self.store.claim_next(server_pid=os.getpid(), worker_pid=w.pid)

    def _give(self, w: _Worker, run_id: str):
        try:
            w.conn.send(("run", run_id))
            w.run_id = run_id
        except (OSError, ValueError):
            self.store.requeue(run_id)   # the worker just died; the run keeps its place in the queue

    def _kill(self, w: _Worker):
        w.run_id = None   # so its death is not reported as a failure
        w.process.kill()

    def _close_pool(self):
        for w in list(self._pool):
            if w.run_id is not None:
                self.store.finish_run(w.run_id, "interrupted", INTERRUPTED_MESSAGE)
                w.process.kill()
            else:
                try:
                    w.conn.send(("exit",))
                except (OSError, ValueError):
                    pass
        for w in list(self._pool):
            w.process.join(timeout=3)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=3)
            w.conn.close()
        with self._pool_lock:
            self._pool.clear()


def death_message(exitcode: int | None) -> str:
    """Why a worker process ended, in words a workshop participant can act on (modelkit.messages)."""
    name = None
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
    return messages.worker_died(exitcode, name)
