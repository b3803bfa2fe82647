"""The fair queue: which queued run starts next when a worker is free, and the claims that take it."""
from __future__ import annotations

import heapq
import os
import socket
import time

import sqlalchemy as sa

from modelkit.store.records import ACTIVE
from modelkit.store.schema import runs_table


def fair_order(queued, last_started: dict, running: dict | None = None) -> list[str]:
    """Queued run ids in the order they start: round-robin across owners, not first-come-first-served.

    `queued` is (id, owner, created) oldest first; `last_started` owner -> when their latest run
    started; `running` owner -> how many of their runs train now. The next run is the oldest queued
    run of the owner who has waited longest (since their last run started, or since their oldest
    queued run was made, whichever is later), among those with the fewest runs training.
    """
    runs: dict[str, list] = {}
    for run_id, owner, created in queued:
        runs.setdefault(owner, []).append((created, run_id))
    training = dict(running or {})
    # (runs training, 0, waiting since) for owners waiting now; (.., 1, turn) once served, in serving order
    heap = [((training.get(o, 0), 0, max(last_started.get(o) or 0.0, mine[0][0]), mine[0][1]), o)
            for o, mine in runs.items()]
    heapq.heapify(heap)
    order = []
    while heap:
        _, owner = heapq.heappop(heap)
        order.append(runs[owner].pop(0)[1])
        training[owner] = training.get(owner, 0) + 1
        if runs[owner]:
            heapq.heappush(heap, ((training[owner], 1, len(order), ""), owner))
    return order


class QueueRecords:
    """The part of `Store` that orders the queue and hands its runs out (needs `self.engine`)."""

    def queue(self) -> list[str]:
        """The queued run ids in the order they will start (see fair_order)."""
        with self.engine.connect() as c:
            return self._queue_order(c)

    @staticmethod
    def _queue_order(c) -> list[str]:
        queued = c.execute(sa.select(runs_table.c.id, runs_table.c.owner, runs_table.c.created)
                           .where(runs_table.c.status == "queued")
                           .order_by(runs_table.c.created, runs_table.c.id)).all()
        if not queued:
            return []
        owners = {owner for _, owner, _ in queued}
        last_started = dict(c.execute(sa.select(runs_table.c.owner, sa.func.max(runs_table.c.started))
                                      .where(runs_table.c.owner.in_(owners)).group_by(runs_table.c.owner)).all())
        running = dict(c.execute(sa.select(runs_table.c.owner, sa.func.count())
                                 .where(runs_table.c.owner.in_(owners), runs_table.c.status == "running")
                                 .group_by(runs_table.c.owner)).all())
        return fair_order(queued, last_started, running)

    def typical_run_seconds(self, last: int = 20) -> float | None:
        """The median training time of the latest `last` completed runs; None before the first."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(runs_table.c.finished - runs_table.c.started)
                             .where(runs_table.c.status == "completed", runs_table.c.started.is_not(None))
                             .order_by(runs_table.c.finished.desc()).limit(last)).scalars().all()
        rows = sorted(r for r in rows if r is not None)
        return rows[len(rows) // 2] if rows else None

    def count_active(self, owner: str) -> int:
        """Runs of `owner` queued or training now."""
        with self.engine.connect() as c:
            return c.execute(sa.select(sa.func.count()).select_from(runs_table).where(
                runs_table.c.owner == owner, runs_table.c.status.in_(ACTIVE))).scalar_one()

    def claim_next(self, server_pid: int | None = None, worker_pid: int | None = None) -> str | None:
        """Take the next queued run (round-robin across participants: see fair_order): queued -> running.

        None if the queue is empty."""
        while True:
            with self.engine.connect() as c:
                order = self._queue_order(c)
            if not order:
                return None
            run_id = order[0]
            now = time.time()
            with self.engine.begin() as c:
                taken = c.execute(runs_table.update().where(runs_table.c.id == run_id, runs_table.c.status == "queued")
                                  .values(status="running", started=now, heartbeat=now, host=socket.gethostname(),
                                          server_pid=server_pid or os.getpid(), worker_pid=worker_pid)).rowcount
            if taken:
                return run_id   # else another server took it between the two statements: try the next

    def requeue(self, run_id: str):
        """Put a claimed run back at its place in the queue (its worker never got it)."""
        with self.engine.begin() as c:
            c.execute(runs_table.update().where(runs_table.c.id == run_id, runs_table.c.status == "running")
                      .values(status="queued", started=None, heartbeat=None, worker_pid=None))
