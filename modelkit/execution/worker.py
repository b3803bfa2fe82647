"""Training one stored run, and the worker process that does it for the runner.

`execute_run` is the whole life of a run once some process has taken it: load,
build, fit with a `Recorder` writing points to the store in batches (a
`BoundarySnapshot` adds 2-D decision boundaries to it, kept for replay) and a
`StopWatcher` turning the store's stop flag, learning-rate change and pause
into a cheap `should_stop` and a `train.Control`, then the artifacts and the
final status. The CLI calls it in its own process; the
runner's worker processes (`worker_main`) call it for each job they are sent.

This module imports torch only inside functions, so that a spawned worker can
fix its thread counts before torch starts.
"""
from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
import traceback
from collections import deque

from modelkit import messages
from modelkit.config import ConfigError, RunConfig
from modelkit.messages import Message
from modelkit.store import Store

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 0.5    # how often a run's buffered points are written (the pages poll each second)
POLL_STOP_S = 0.2      # how often a running run reads its stop flag
HEARTBEAT_S = 5.0      # how often a running run says it is alive, even inside a long step
MAX_SNAPSHOTS = 60     # decision boundaries a run keeps for replay (thinned evenly past this)
LR_SET = "lr_set"      # the point recorded where a learning-rate change took effect (its value: the new rate)
STEP_CURVES = ("loss", "lr", "samples_per_s")   # the points recorded every step: the ones a long run thins
KEEP_STEPS = 2000      # steps a run keeps at most before its latest RECENT_STEPS (an even sample, thinned by 2)
RECENT_STEPS = 500     # the latest steps, always kept in full (with every validation check, at any length)


def _finite(value):
    return value if value is None or math.isfinite(value) else None


class Recorder:
    """A training callback that buffers points; a writer thread stores them a few times a second.

    The training thread only appends one tuple per step to a deque (thread-safe
    without a lock): the database work (a few ms of CPU per transaction) happens
    beside it, so recording costs the loop almost nothing. The first step is
    written at once, the last ones before on_fit_end returns.

    Every step is written; a long run's store stays bounded all the same: once
    its steps before the latest RECENT_STEPS number more than KEEP_STEPS, those
    are thinned to every `stride`-th step (stride doubling as the run goes on),
    as TensorBoard and W&B keep a sample. A short run, the latest steps and every
    validation check stay complete.
    """

    def __init__(self, store: Store, run_id: str, flush_every: float = FLUSH_EVERY_S):
        self.store, self.run_id, self.flush_every = store, run_id, flush_every
        self.steps: deque = deque()    # (step, epoch, seconds, loss, lr, samples_per_s)
        self.evals: deque = deque()    # (step, epoch, seconds, name, value)
        self.snapshots: deque = deque()   # (step, boundary) kept for replay
        self.pending: list[tuple] = []   # points a failed write left for the next one
        self.last_step = None
        self.boundary = None
        self.max_steps = self.time_budget = None
        self.stride, self.thinned_through = 1, 0   # steps up to thinned_through keep every stride-th
        self.wake, self.done = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.writer = None

    def on_fit_begin(self, params=None, device=None, max_steps=None, config=None, **info):
        self.max_steps, self.time_budget = max_steps, getattr(config, "time_budget", None)
        self.store.mark_started(self.run_id, device, params)
        self.flush()
        self.writer = threading.Thread(target=self._write_forever, name=f"recorder-{self.run_id}", daemon=True)
        self.writer.start()

    def on_step(self, step, epoch, seconds, loss, lr, samples_per_s, **info):
        self.last_step = (step, epoch, seconds, loss, lr, samples_per_s)
        self.steps.append(self.last_step)
        if step == 1:
            self.wake.set()   # the first point goes out at once: the page shows life within a second

    def on_eval(self, step, epoch, seconds, metrics, **info):
        self.evals.extend((step, epoch, seconds, name, _finite(value)) for name, value in metrics.items()
                          if isinstance(value, (int, float)))

    def on_lr_change(self, step, epoch, seconds, lr, **info):
        self.evals.append((step, epoch, seconds, LR_SET, lr))

    def show_boundary(self, boundary: dict, step: int | None = None):
        """The latest 2-D decision boundary for the live snapshot, written with the next flush;
        with its `step` it is also kept for replay."""
        self.boundary = boundary
        if step is not None:
            self.snapshots.append((step, boundary))

    def on_fit_end(self, **info):
        self.close()

    def close(self):
        """Stop the writer and write what is left, in this thread."""
        self.done.set()
        self.wake.set()
        if self.writer is not None:
            self.writer.join()
            self.writer = None
        self.flush()

    def progress(self) -> dict:
        snapshot = {"step": 0, "max_steps": self.max_steps, "time_budget": self.time_budget, "seconds": 0.0}
        if self.last_step is not None:
            step, epoch, seconds, loss, _, samples_per_s = self.last_step
            snapshot.update(step=step, epoch=epoch, seconds=seconds, loss=_finite(loss),
                            samples_per_s=samples_per_s)
        return snapshot

    def flush(self):
        points, self.pending = self.pending, []
        for _ in range(len(self.steps)):
            step, epoch, seconds, loss, lr, samples_per_s = self.steps.popleft()
            points += [(step, epoch, seconds, "loss", _finite(loss)), (step, epoch, seconds, "lr", lr),
                       (step, epoch, seconds, "samples_per_s", samples_per_s)]
        for _ in range(len(self.evals)):
            points.append(self.evals.popleft())
        boundary, self.boundary = self.boundary, None
        try:
            self.store.record(self.run_id, points, progress=self.progress(), boundary=boundary)
        except Exception:
            self.pending = points + self.pending   # written with the next flush
            self.boundary = self.boundary or boundary
            raise
        self.thin()
        while self.snapshots:
            step, kept = self.snapshots[0]
            self.store.add_snapshot(self.run_id, step, kept, MAX_SNAPSHOTS)
            self.snapshots.popleft()   # only once written: a failed write is tried again next flush

    def thin(self):
        """Keep the store's share of this run bounded: a sample of the steps before the latest RECENT_STEPS,
        thinned once that window has moved on by half its length (not on every flush)."""
        if self.last_step is None:
            return
        settled = self.last_step[0] - RECENT_STEPS
        if settled <= KEEP_STEPS or settled < self.thinned_through + RECENT_STEPS // 2:
            return
        stride = self.stride
        while settled // stride > KEEP_STEPS:
            stride *= 2
        try:
            self.store.thin_points(self.run_id, STEP_CURVES, settled, stride)
        except Exception:   # a busy database: thinned at a later flush, the points are safe meanwhile
            return
        self.stride, self.thinned_through = stride, settled

    def _write_forever(self):
        while not self.done.is_set():
            self.wake.wait(self.flush_every)
            self.wake.clear()
            if self.done.is_set():
                return
            try:
                self.flush()
            except Exception as error:   # a busy database: the points stay for the next try
                self.error = error


class BoundarySnapshot:
    """A training callback: at each validation check of a 2-D classification task, the model's
    decision boundary goes to the recorder's live snapshot (other tasks have none). It runs inside
    on_eval, so its time is validation time, not training time."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    def on_eval(self, model, data, device, step=None, **info):
        from modelkit.training import evaluation

        boundary = evaluation.decision_boundary(model, data, device)
        if boundary is not None:
            self.recorder.show_boundary(boundary, step)


class StopWatcher:
    """Reads the run's stop flag, learning rate and pause in a background thread: `should_stop()` is a
    cheap flag check, and `control` (a train.Control) carries the rest to the training loop."""

    def __init__(self, store: Store, run_id: str, every: float = POLL_STOP_S):
        from modelkit.training.loop import Control

        self.store, self.run_id, self.every = store, run_id, every
        self.control = Control()
        self.stop, self.closed = threading.Event(), threading.Event()
        try:
            self._follow(store.controls(run_id))   # what was set while it queued applies from the first step
        except Exception:  # a busy database: the thread reads it again in a moment
            pass
        self.thread = threading.Thread(target=self._watch, name=f"stop-watch-{run_id}", daemon=True)
        self.thread.start()

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def _watch(self):
        last_beat = time.monotonic()
        while not self.closed.wait(self.every):
            try:
                self._follow(self.store.controls(self.run_id))
                if time.monotonic() - last_beat >= HEARTBEAT_S:
                    self.store.heartbeat(self.run_id)
                    last_beat = time.monotonic()
            except Exception:  # a busy or briefly unreachable database: try again next time
                pass

    def _follow(self, wanted: dict):
        if wanted["stop"]:
            self.stop.set()
        self.control.set_lr(wanted["lr"])
        if wanted["paused"] and not self.control.paused:
            self.control.pause()
        elif not wanted["paused"] and self.control.paused:
            self.control.resume()

    def close(self):
        self.closed.set()
        self.control.resume()   # a paused loop must not wait on a watcher that is gone
        self.thread.join(timeout=2)


def failure_message(error: BaseException) -> Message:
    """Plain words for an exception raised while training."""
    import torch

    if isinstance(error, ConfigError):
        return messages.config_refused(error)
    if isinstance(error, (MemoryError, torch.OutOfMemoryError)):
        return messages.OUT_OF_MEMORY
    return messages.failed(error)


def execute_run(store: Store, run_id: str, callbacks=(), threads: int | None = None, should_stop=None):
    """Train the stored run `run_id` (already marked running) to its end and record how it ended.

    Returns the FitResult. An exception is recorded (failed; Ctrl-C: interrupted) and raised again.
    `should_stop`, if given, can stop the run besides the store's stop flag (e.g. Ctrl-C in a terminal).
    """
    from modelkit.training import loop
    from modelkit.training.callbacks import GradientNorms

    run = store.get_run(run_id)
    config = RunConfig.from_dict(run.config)
    if threads and not 0 < config.train.threads <= threads:
        config.train.threads = threads   # a worker's share of the cores; the stored config is unchanged
    recorder, watcher = Recorder(store, run_id), StopWatcher(store, run_id)

    def stop_now() -> bool:
        return watcher.should_stop() or (should_stop is not None and should_stop())

    try:
        result, model = loop.run(config, [recorder, BoundarySnapshot(recorder), GradientNorms(recorder), *callbacks],
                                  should_stop=stop_now, control=watcher.control)
    except BaseException as error:
        _flush_quietly(recorder)
        if isinstance(error, KeyboardInterrupt):
            store.finish_run(run_id, "interrupted", messages.KEYBOARD)
        else:
            store.finish_run(run_id, "failed", failure_message(error),
                             details={"error": f"{type(error).__name__}: {error}",
                                      "traceback": traceback.format_exc()})
        raise
    finally:
        watcher.close()
    metrics = {**result.metrics, "seconds": result.seconds, "steps": result.steps, "epochs": result.epochs,
               "samples_per_s": result.samples_per_s}
    if result.status != "diverged":
        try:
            store.save_artifacts(run_id, model, RunConfig.from_dict(run.config))
        except OSError as error:
            result.message += Message.of("weights_not_saved", error=str(error))
        except ConfigError as error:   # more bytes than the database holds in one value (blob_too_big)
            result.message += Message.of("weights_too_big", reason=messages.part(f"error.{error.code}",
                                                                                  **error.params))
        keep_hidden_score(store, run, config, model)
    store.finish_run(run_id, result.status, result.message, metrics=metrics, details=result.details)
    return result


def keep_hidden_score(store: Store, run, config: RunConfig, model):
    """A challenge with a hidden test: the trained model's score on its hidden rows (held back from its data,
    or the host's file), kept before the run is marked finished so that the hidden board ranks it as soon
    as it ends (modelkit.room.hidden)."""
    challenge = store.get_challenge(run.challenge) if run.challenge else None
    if challenge is None or not challenge.hidden:
        return
    from modelkit.data import tasks
    from modelkit.room import hidden
    from modelkit.training.evaluation import report_on_rows

    try:
        x, y = hidden.hidden_rows(config, challenge)
        scores = report_on_rows(model, tasks.load(config.task).spec, x, y, config.train.loss,
                                next(model.parameters()).device)
        store.keep_hidden_score(run.id, challenge.id, scores[tasks.task_info(config.task.name).metric])
    except Exception:   # the run itself trained well: it only stays off the hidden board
        log.exception("hidden score of run %s", run.id)


def _flush_quietly(recorder: Recorder):
    try:
        recorder.close()
    except Exception:
        pass


# --- the worker process ---------------------------------------------------------------

def worker_main(conn, store_url: str, home: str, threads: int):
    """A runner's worker: warm up, say ready, then train each run id it is sent until told to exit."""
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C in the server's terminal is the server's to handle
    _exit_with_parent()
    warm_worker(threads)
    store = Store(store_url, home)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if message[0] != "run":
            os._exit(0)   # nothing to flush between runs; skips a slow interpreter teardown
        run_id = message[1]
        try:
            execute_run(store, run_id, threads=threads)
        except Exception:
            pass   # recorded in the store as the run's failure; this worker goes on to the next run
        conn.send(("done", run_id))


def warm_worker(threads: int):
    """Import torch, the engine and the models, and take one optimizer step, before the first job."""
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    import modelkit.data.tasks  # noqa: F401
    import modelkit.models  # noqa: F401  (the registry and every family)
    from modelkit.config import TrainConfig
    from modelkit.training import loop

    try:  # what the task generators import on first use
        import mnist1d.data  # noqa: F401
        import sklearn.datasets  # noqa: F401
    except ImportError:
        pass

    layer = torch.nn.Linear(4, 2)
    for name in ("adam", "sgd", "adamw", "rmsprop"):
        optimizer = loop.make_optimizer(TrainConfig(optimizer=name), layer.parameters())
        layer(torch.randn(8, 4)).square().mean().backward()
        optimizer.step()


def _exit_with_parent():
    """End this worker when the server that started it dies (even by kill -9)."""
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
