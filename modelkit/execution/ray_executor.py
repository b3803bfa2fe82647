"""Runs trained on a Ray cluster: the store's queue, taken by long-lived Ray actors.

    runner = Runner(store, executor=RayExecutor(store))   # or MODELKIT_EXECUTOR=ray
    RAY_ADDRESS=head:6379                                 # the cluster; none: a local Ray started on demand

The same contract as `LocalExecutor`, one dispatcher thread in the server:
- keeps MODELKIT_WORKERS actors (default: the cluster's CPUs over each run's share), each asking Ray for
  its CPUs (and its share of the GPUs where the cluster has some), with torch and the engine imported, so a
  run on a warm actor starts at once;
- claims the oldest queued run for each idle actor; the actor records which node and process train it
  (`runs.node`, `runs.worker_pid`), then trains and records through the store like a local worker;
- stop works through the store's flag; an actor that has not stopped after `stop_grace` s is killed and
  replaced, its run marked stopped;
- an actor that dies (node lost, out of memory, kill -9) has its run marked failed in plain words and is
  replaced.

Every node needs modelkit importable and the store reachable: a server database (MODELKIT_DB_URL), which
holds the weights, uploaded datasets and texts as well. The actors are given the store's URL, never a path:
each node keeps its own cache under its own MODELKIT_HOME (the environment of its `ray start`), no disk is
shared. See README, "Hosting a bigger workshop".
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass

from modelkit import settings
from modelkit.execution.dispatcher import CLAIM_EVERY_S, STOP_GRACE_S, Dispatcher
from modelkit.fields import ConfigError
from modelkit.store import INTERRUPTED_MESSAGE, Store

log = logging.getLogger(__name__)

ACTOR_LOST_MESSAGE = ("The machine training this run lost its worker (the node left the cluster, ran out of "
                      "memory, or the process was ended). The curves so far are kept; start the run again, "
                      "perhaps with a smaller model or batch.")
STOP_KILLED_MESSAGE = ("Stopped on request. The training did not respond in time, so its process was ended; "
                       "its curves so far are kept.")


class RunActor:
    """One Ray actor: warm once, then train each run id it is given (made remote by `RayExecutor`)."""

    def __init__(self, store_url: str, threads: int):
        import ray

        from modelkit.execution import worker

        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
        worker.warm_worker(threads)
        self.threads, self.store = threads, Store(store_url)   # the home: this node's MODELKIT_HOME
        self.node = f"{socket.gethostname()} ({ray.get_runtime_context().get_node_id()[:8]})"

    def ready(self) -> tuple[int, str]:
        return os.getpid(), self.node

    def train(self, run_id: str) -> str:
        from modelkit.execution.worker import execute_run

        self.store.mark_node(run_id, self.node, os.getpid())
        try:
            execute_run(self.store, run_id, threads=self.threads)
        except Exception:
            pass   # recorded in the store as the run's failure; this actor goes on to the next run
        return run_id


def connect(address: str | None = None):
    """The Ray module, connected to `address`, RAY_ADDRESS, or a local Ray started now; without Ray
    installed (it is optional: requirements-dev.txt), a ConfigError that says how to get it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("MODELKIT_EXECUTOR", "ray_missing") from None

    if not ray.is_initialized():
        ray.init(address=address or settings.ray_address(), log_to_driver=False,
                 configure_logging=False)
    return ray


@dataclass
class _Actor:
    handle: object
    waiting: object               # the ObjectRef of what it is doing: warming up, or training run_id
    pid: int | None = None
    node: str | None = None
    ready: bool = False
    run_id: str | None = None


class RayExecutor(Dispatcher):
    """Actors on a Ray cluster fed from the store's queue by one dispatcher thread."""

    KIND = "ray actor"
    THREAD_NAME = "modelkit-ray-dispatcher"
    STOP_CHECK_S = CLAIM_EVERY_S
    STOPPED_MESSAGE = STOP_KILLED_MESSAGE

    def __init__(self, store: Store, workers: int | None = None, stop_grace: float = STOP_GRACE_S,
                 address: str | None = None, threads: int = 1):
        self.ray = connect(address)
        threads = max(1, threads)
        resources = self.ray.cluster_resources()
        super().__init__(store, workers or settings.workers_asked() or int(resources.get("CPU", 1)) // threads,
                         stop_grace)
        self.threads = threads
        self.gpus = min(1.0, resources.get("GPU", 0) / self.size)   # each run's share of the cluster's GPUs
        self.remote = self.ray.remote(RunActor)
        self._woken = threading.Event()
        self._thread.start()

    def _describe(self, actor: _Actor) -> dict:
        return dict(pid=actor.pid, ready=actor.ready, run_id=actor.run_id, node=actor.node)

    def _interrupt(self):
        self._woken.set()

    def check(self, config):
        """Nothing to refuse here: the cluster's nodes, not this machine, have the devices."""

    def _start_worker(self):
        handle = self.remote.options(num_cpus=self.threads, num_gpus=self.gpus, max_restarts=0,
                                     scheduling_strategy="SPREAD").remote(self.store.url, self.threads)
        self._added(_Actor(handle, handle.ready.remote()))

    def _wait_for_events(self) -> bool:
        """Wait up to 0.2 s for an actor to warm up or finish a run, or for a wake-up; handle the first two."""
        refs = {a.waiting: a for a in self._pool if a.waiting is not None}
        if refs:
            done, _ = self.ray.wait(list(refs), num_returns=1, timeout=0.1)
            if done:
                done, _ = self.ray.wait(list(refs), num_returns=len(refs), timeout=0)
            for ref in done:
                self._finished(refs[ref], ref)
        woken = self._woken.wait(0 if refs else 0.2)
        self._woken.clear()
        return woken

    def _finished(self, actor: _Actor, ref):
        actor.waiting = None
        try:
            value = self.ray.get(ref)
        except self.ray.exceptions.RayError as error:
            self._lost(actor, error)
            return
        if not actor.ready:
            actor.pid, actor.node = value
            self._mark_ready(actor)
        elif value == actor.run_id:
            actor.run_id = None

    def _lost(self, actor: _Actor, error):
        """An actor died: fail its run (if any) in plain words; the dispatcher loop starts its replacement."""
        self._removed(actor)
        if actor.run_id is not None:
            self.store.finish_run(actor.run_id, "failed", ACTOR_LOST_MESSAGE)
            log.warning("ray actor %s on %s died while training run %s: %s", actor.pid, actor.node,
                        actor.run_id, error)

    def _give(self, actor: _Actor, run_id: str):
        actor.run_id, actor.waiting = run_id, actor.handle.train.remote(run_id)

    def _kill(self, actor: _Actor):
        self._removed(actor)
        self.ray.kill(actor.handle, no_restart=True)

    def _close_pool(self):
        for actor in list(self._pool):
            if actor.run_id is not None:
                self.store.finish_run(actor.run_id, "interrupted", INTERRUPTED_MESSAGE)
            self.ray.kill(actor.handle, no_restart=True)
        with self._pool_lock:
            self._pool.clear()
