"""The durable run store: runs, metric points, live snapshots and artifacts.

One truth for every process: the web server, its worker processes and the CLI
all read and write the same database, so a page reload, a second tab or
`python -m modelkit runs` see the same runs. SQLite in WAL mode under
MODELKIT_HOME (default ./.modelkit) unless MODELKIT_DB_URL names another
database SQLAlchemy accepts. Artifacts (weights as safetensors, config as JSON),
uploaded datasets and long texts are blobs in the same database
(modelkit/data/blobs.py), so a server database is all that machines share; the
home keeps only this machine's cache of them (safe to delete at any time).

Writers keep their transactions short (a worker flushes a batch of points a few
times a second) and SQLite waits on a busy database instead of failing.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import time
from pathlib import Path

import sqlalchemy as sa

from modelkit import messages, settings
from modelkit.data import blobs
from modelkit.fields import ConfigError
from modelkit.store.artifacts import ArtifactRecords
from modelkit.store.challenges import ChallengeRecords
from modelkit.store.lessons import LessonRecords
from modelkit.store.old_home import move_old_files
from modelkit.store.play import PlayRecords, delete_play
from modelkit.store.queue import QueueRecords
from modelkit.store.records import (
    HOST,
    STATUSES,
    Run,
    StoreError,
    from_json,
    moment,
    to_json,
)
from modelkit.store.schema import (
    POINT_COLUMNS,
    gallery_table,
    hidden_scores_table,
    live_table,
    points_table,
    prepare,
    runs_table,
    sqlite_pragmas,
    stored_version,
)

HEARTBEAT_STALE_S = 60.0   # a running run not heard from for this long has lost its process
ID_TRIES = 5              # fresh ids create_run tries before a clash is an error
INTERRUPTED_MESSAGE = messages.INTERRUPTED   # English text, and its key for the pages' languages


def default_home() -> Path:
    return settings.home()


def default_url(home: Path) -> str:
    return settings.database_url(home)


def new_run_id() -> str:
    """Short, sortable and readable in a URL: 20261128-153012-a3f9c2d7.

    32 random bits per second: a room of 30 pressing Train in the same second
    clashes about once in ten million such seconds, and create_run retries then.
    """
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(4)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _message_values(message: str, details: dict | None) -> dict:
    """The message column (English) and the details, which keep a `messages.Message`'s parts for the pages.

    A run's details are written only when it finishes, so a message with parts and no details replaces nothing."""
    values = {"message": str(message)}
    if isinstance(message, messages.Message):
        details = {**(details or {}), messages.MESSAGE_KEY: message.to_json()}
    if details is not None:
        values["details"] = to_json(details)
    return values


class Store(QueueRecords, ChallengeRecords, PlayRecords, ArtifactRecords, LessonRecords):
    """Runs and their points in a database, and their artifacts as blobs in it. The queue and its claims,
    the room's settings and challenges, a run's controls and snapshots, its trained model, lessons and the
    gallery are
    each a part of their own (modelkit/store/*.py); this file holds the runs and their lifecycle."""

    def __init__(self, url: str | None = None, home: str | Path | None = None):
        self.home = Path(home).resolve() if home is not None else default_home()
        self.url = url or default_url(self.home)
        if self.url.startswith("sqlite"):
            self.home.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(self.url, connect_args={"timeout": 30})
            sa.event.listen(self.engine, "connect", sqlite_pragmas)
        else:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        self._create_schema()
        self.blobs = blobs.Shelf(self.engine, self.home)
        blobs.keep_in(self.blobs)   # what this process uploads or reads by name goes through this database
        move_old_files(self.blobs, self.home)

    def __repr__(self):
        return f"Store({self.url!r})"

    def _create_schema(self):
        prepare(self.engine, self.url)

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as c:
            return stored_version(c)

    # --- creating and reading runs ---------------------------------------------------

    def create_run(self, config, owner: str = "cli", *, queued: bool = True, challenge: str | None = None,
                   behind: bool = False) -> str:
        """Record a new run; queued for a runner, or (queued=False) already running in this process.

        A run `behind` (beyond its owner's share, modelkit.room.door) waits behind every other queued run."""
        now = time.time()
        row = dict(name=config.name or "", owner=owner, task=config.task.name, arch=config.arch,
                   config=config.to_json(), status="queued", message="", created=now, challenge=challenge,
                   behind=bool(behind))
        if not queued:
            row.update(status="running", started=now, heartbeat=now, host=socket.gethostname(),
                       server_pid=os.getpid(), worker_pid=os.getpid())
        for tries_left in reversed(range(ID_TRIES)):
            run_id = new_run_id()
            try:
                with self.engine.begin() as c:
                    c.execute(runs_table.insert().values(id=run_id, **row))
                    c.execute(live_table.insert().values(run_id=run_id))
                return run_id
            except sa.exc.IntegrityError:   # the id was taken a moment ago: draw another
                if not tries_left:
                    raise

    def get_run(self, run_id: str) -> Run | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(runs_table).where(runs_table.c.id == run_id)).mappings().first()
            if row is None:
                return None
            position = None
            if row["status"] == "queued":
                order = self._queue_order(c)
                position = order.index(row["id"]) + 1 if row["id"] in order else None
        return self._run(row, position, with_details=True)

    def list_runs(self, *, status: str | None = None, owner: str | None = None,
                  limit: int | None = None, challenge: str | None = None) -> list[Run]:
        """Newest first. `details` is left empty here (it can be large); get_run() has it."""
        cols = [c for c in runs_table.c if c.name != "details"]
        query = sa.select(*cols).order_by(runs_table.c.created.desc(), runs_table.c.id.desc())
        if challenge:
            query = query.where(runs_table.c.challenge == challenge)
        if status:
            query = query.where(runs_table.c.status == status)
        if owner:
            query = query.where(runs_table.c.owner == owner)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as c:
            rows = c.execute(query).mappings().all()
            queued = self._queue_order(c)
        positions = {run_id: i + 1 for i, run_id in enumerate(queued)}
        return [self._run(r, positions.get(r["id"])) for r in rows]

    @staticmethod
    def _run(row, position, with_details=False) -> Run:
        return Run(id=row["id"], name=row["name"], owner=row["owner"], task=row["task"], arch=row["arch"],
                   config=json.loads(row["config"]), status=row["status"], message=row["message"] or "",
                   created=moment(row["created"]), started=moment(row["started"]), finished=moment(row["finished"]),
                   device=row["device"], params=row["params"], metrics=from_json(row["metrics"]),
                   details=from_json(row["details"]) if with_details else {}, queue_position=position,
                   stop_requested=row["stop_requested"] is not None, stopped_by=row["stopped_by"],
                   worker_pid=row["worker_pid"],
                   challenge=row["challenge"], node=row["node"])

    def points(self, run_id: str, after_id: int = 0, names=None) -> "pd.DataFrame":
        """Metric points of a run numbered after `after_id`, oldest first; pass the last id seen to poll.

        A point's id is its number within its run (1, 2, ...), given in the order its one writer commits
        them, so a poll never skips a point that a slower transaction commits late (a global counter could).
        """
        import pandas as pd

        columns = [points_table.c.seq.label("id")] + [points_table.c[n] for n in POINT_COLUMNS[1:]]
        query = (sa.select(*columns).where(points_table.c.run_id == run_id, points_table.c.seq > after_id)
                 .order_by(points_table.c.seq))
        if names:
            query = query.where(points_table.c.name.in_(list(names)))
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        frame = pd.DataFrame(rows, columns=POINT_COLUMNS)
        return frame.astype({"id": "int64", "step": "int64", "epoch": "float64",
                             "seconds": "float64", "value": "float64"})

    def live(self, run_id: str) -> dict:
        """The latest snapshot while training: {"progress": {...}, "boundary": {...} or None}."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(live_table).where(live_table.c.run_id == run_id)).mappings().first()
        if row is None:
            return {"progress": {}, "boundary": None}
        return {"progress": from_json(row["progress"]), "boundary": from_json(row["boundary"]) or None}

    # --- stopping and deleting -------------------------------------------------------
    # `by` is the participant asking; None is the host (the Host page, the CLI), who may change any run.

    def check_owner(self, run_id: str, by: str | None):
        """Refuse (ConfigError "not_owner") a participant's change to someone else's run."""
        if by is None:
            return
        with self.engine.connect() as c:
            owner = c.execute(sa.select(runs_table.c.owner).where(runs_table.c.id == run_id)).scalar()
        if owner is not None and owner != by:
            raise ConfigError("run", "not_owner", owner=owner)

    def request_stop(self, run_id: str, by: str | None = None) -> bool:
        """Ask a run to stop, from any process. A queued run is stopped at once. False if not active.
        The run remembers who asked first: `by`, or HOST."""
        self.check_owner(run_id, by)
        now, asker = time.time(), by if by is not None else HOST
        with self.engine.begin() as c:
            queued = c.execute(runs_table.update().where(runs_table.c.id == run_id, runs_table.c.status == "queued")
                               .values(status="stopped", stop_requested=now, finished=now, stopped_by=asker,
                                       **_message_values(messages.STOPPED_BEFORE_START, None))).rowcount
            running = c.execute(runs_table.update().where(runs_table.c.id == run_id, runs_table.c.status == "running",
                                                          runs_table.c.stop_requested.is_(None))
                                .values(stop_requested=now, stopped_by=asker)).rowcount
        return bool(queued or running) or self._status(run_id) == "running"  # already asked

    def stop_requested(self, run_id: str) -> bool:
        with self.engine.connect() as c:
            return c.execute(sa.select(runs_table.c.stop_requested).where(runs_table.c.id == run_id)).scalar() is not None

    def stop_requests(self, run_ids) -> dict[str, float]:
        """run id -> when its stop was requested, for those of `run_ids` asked to stop."""
        if not run_ids:
            return {}
        with self.engine.connect() as c:
            rows = c.execute(sa.select(runs_table.c.id, runs_table.c.stop_requested).where(
                runs_table.c.id.in_(list(run_ids)), runs_table.c.stop_requested.is_not(None))).all()
        return dict(rows)

    def delete_run(self, run_id: str, by: str | None = None) -> bool:
        """Remove a run with its points and artifacts. Refuses a run that is training (stop it first)."""
        self.check_owner(run_id, by)
        with self.engine.begin() as c:
            status = c.execute(sa.select(runs_table.c.status).where(runs_table.c.id == run_id)).scalar()
            if status is None:
                return False
            if status == "running":
                raise StoreError(f"run {run_id} is still training; stop it first")
            c.execute(points_table.delete().where(points_table.c.run_id == run_id))
            c.execute(live_table.delete().where(live_table.c.run_id == run_id))
            delete_play(c, run_id)
            c.execute(gallery_table.delete().where(gallery_table.c.run_id == run_id))
            c.execute(hidden_scores_table.delete().where(hidden_scores_table.c.run_id == run_id))
            c.execute(runs_table.delete().where(runs_table.c.id == run_id))
        self.forget_artifacts(run_id)   # and the blobs no other run or dataset refers to
        return True

    def _status(self, run_id: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(runs_table.c.status).where(runs_table.c.id == run_id)).scalar()

    # --- used by whoever trains a run (runner, worker, CLI) --------------------------

    def mark_started(self, run_id: str, device: str | None, params: int | None):
        now = time.time()
        with self.engine.begin() as c:
            c.execute(runs_table.update().where(runs_table.c.id == run_id)
                      .values(device=device, params=params, heartbeat=now))

    def mark_node(self, run_id: str, node: str, worker_pid: int):
        """Which cluster node, and which process there, trains the run (a cluster executor's workers say so)."""
        with self.engine.begin() as c:
            c.execute(runs_table.update().where(runs_table.c.id == run_id)
                      .values(node=node, worker_pid=worker_pid, heartbeat=time.time()))

    def record(self, run_id: str, points: list[tuple], progress: dict | None = None,
               boundary: dict | None = None):
        """One short transaction: points (step, epoch, seconds, name, value), live snapshot, heartbeat."""
        with self.engine.begin() as c:
            if points:   # a run has one writer at a time, so its numbers follow its commits
                last = c.execute(sa.select(sa.func.coalesce(sa.func.max(points_table.c.seq), 0))
                                 .where(points_table.c.run_id == run_id)).scalar_one()
                c.execute(points_table.insert(), [dict(run_id=run_id, seq=last + i, step=s, epoch=e, seconds=t,
                                                       name=n, value=v)
                                                  for i, (s, e, t, n, v) in enumerate(points, start=1)])
            snapshot = {}
            if progress is not None:
                snapshot["progress"] = to_json(progress)
            if boundary is not None:
                snapshot["boundary"] = to_json(boundary)
            if snapshot:
                c.execute(live_table.update().where(live_table.c.run_id == run_id).values(**snapshot))
            c.execute(runs_table.update().where(runs_table.c.id == run_id).values(heartbeat=time.time()))

    def thin_points(self, run_id: str, names, through_step: int, stride: int) -> int:
        """Delete the points named `names` of steps 2..`through_step` that are not a multiple of `stride`:
        a long run keeps an even sample of its early steps (see worker.Recorder). How many went."""
        table = points_table.c
        with self.engine.begin() as c:
            return c.execute(points_table.delete().where(
                table.run_id == run_id, table.name.in_(list(names)), table.step > 1, table.step <= through_step,
                table.step % stride != 0)).rowcount

    def heartbeat(self, run_id: str):
        with self.engine.begin() as c:
            c.execute(runs_table.update().where(runs_table.c.id == run_id, runs_table.c.status == "running")
                      .values(heartbeat=time.time()))

    def finish_run(self, run_id: str, status: str, message: str, metrics: dict | None = None,
                   details: dict | None = None, only_if=("running",)) -> bool:
        """Set a final status unless the run already left `only_if` (e.g. marked interrupted meanwhile)."""
        assert status in STATUSES, status
        values = dict(status=status, finished=time.time(), **_message_values(message, details))
        if metrics is not None:
            values["metrics"] = to_json(metrics)
        with self.engine.begin() as c:
            return bool(c.execute(runs_table.update().where(runs_table.c.id == run_id,
                                                            runs_table.c.status.in_(only_if))
                                  .values(**values)).rowcount)

    def recover_orphans(self, stale_after: float = HEARTBEAT_STALE_S) -> list[str]:
        """Mark `interrupted` the running runs whose responsible process is gone.

        Gone: on this machine its process no longer exists; anywhere, no heartbeat for `stale_after` s.
        Queued runs need nothing: they stay queued and the next runner takes them in order.
        """
        host, now = socket.gethostname(), time.time()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(runs_table.c.id, runs_table.c.host, runs_table.c.server_pid,
                                       runs_table.c.heartbeat).where(runs_table.c.status == "running")).all()
        lost = [run_id for run_id, run_host, pid, beat in rows
                if (run_host == host and not pid_alive(pid)) or now - (beat or 0) > stale_after]
        return [run_id for run_id in lost if self.finish_run(run_id, "interrupted", INTERRUPTED_MESSAGE)]
