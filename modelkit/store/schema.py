"""The store's tables, and the one way an older database's schema is brought up to date: numbered steps.

    prepare(engine, url)   # a new database gets every table; an older one each step from its version on

The version is read before anything is altered, so a database that a newer modelkit wrote is refused
untouched. A change to the tables is one more function in STEPS and SCHEMA_VERSION one higher.
"""
from __future__ import annotations

import sqlalchemy as sa

from modelkit.data import blobs
from modelkit.store.records import StoreError

SCHEMA_VERSION = 9       # 2: runs.challenge and the challenges table; 3: controls and snapshots;
                         # 4: the columns added before steps were numbered (points.seq, runs.node, ...); 5: seats;
                         # 6: runs.stopped_by; 7: blobs (weights, datasets, texts: what a run reads or writes);
                         # 8: lessons, the gallery, hidden tests; 9: a hidden test's file (challenges.hidden_file)
metadata = sa.MetaData()
meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
runs_table = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("task", sa.String(64), nullable=False),
    sa.Column("arch", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=False),              # RunConfig JSON
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Float, nullable=False),            # unix seconds; the order within one owner's queue
    sa.Column("started", sa.Float),
    sa.Column("finished", sa.Float),
    sa.Column("device", sa.String(32)),
    sa.Column("params", sa.Integer),
    sa.Column("metrics", sa.Text),                             # final metrics JSON
    sa.Column("details", sa.Text),                             # FitResult.details JSON
    sa.Column("stop_requested", sa.Float),                     # when a stop was asked for
    sa.Column("stopped_by", sa.String(200)),                   # who asked: a participant's name, or HOST
    sa.Column("host", sa.String(255)),                         # machine of the responsible process
    sa.Column("server_pid", sa.Integer),                       # the server (or CLI) responsible for it
    sa.Column("worker_pid", sa.Integer),                       # the process that trains it
    sa.Column("heartbeat", sa.Float),                          # last sign of life while running
    sa.Column("challenge", sa.String(40)),                     # the challenge it was trained for, if any
    sa.Column("node", sa.String(255)),                         # the cluster node that trained it (Ray)
    sa.Column("behind", sa.Boolean),                           # beyond its owner's share: waits behind the rest
)
challenges_table = sa.Table(
    "challenges", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("task", sa.String(64), nullable=False),
    sa.Column("archs", sa.Text, nullable=False),               # JSON list of allowed architectures
    sa.Column("budget", sa.Float, nullable=False),             # seconds one run may train, at most
    sa.Column("locked", sa.Text, nullable=False),              # JSON {"train.lr": 0.01, ...}: fixed settings
    sa.Column("deadline", sa.Float),                           # unix seconds; None: open until closed
    sa.Column("instruction", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("hidden", sa.String(16)),                        # its hidden test: held_back, upload; None: none
    sa.Column("hidden_file", sa.String(40)),                   # upload: the host's file (data.hidden_file's id)
)
# a lesson the host paces: its ordered steps (modelkit.room.lessons), kept to run again
lessons_table = sa.Table(
    "lessons", metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("steps", sa.Text, nullable=False),               # JSON list of steps
    sa.Column("created", sa.Float, nullable=False),
)
# a finished run its owner shared with the room, with a name and a line about it
gallery_table = sa.Table(
    "gallery", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("line", sa.Text, nullable=False, default=""),
    sa.Column("shared", sa.Float, nullable=False),
    sa.Column("revealed", sa.Boolean, nullable=False, default=False),   # the host showed its settings
)
# a challenge run's score on its hidden test, worked out once after it finished
hidden_scores_table = sa.Table(
    "hidden_scores", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("challenge", sa.String(40), nullable=False),
    sa.Column("score", sa.Float),                              # None: the run has no model to score
)
# a name taken in the room: the first browser to take it holds its secret (kept hashed, never in a log)
seats_table = sa.Table(
    "seats", metadata,
    sa.Column("key", sa.String(200), primary_key=True),        # the name compared: NFKC, case-folded
    sa.Column("name", sa.String(200), nullable=False),         # the name as first written: runs' owner
    sa.Column("secret_hash", sa.String(64), nullable=False),   # sha256 of the seat's 128-bit secret
    sa.Column("created", sa.Float, nullable=False),
)
points_table = sa.Table(
    "points", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(40), nullable=False),
    sa.Column("seq", sa.Integer),                              # 1, 2, ... within the run: readers' cursor
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("epoch", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),            # wall seconds since the run started
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("value", sa.Float),
    sa.Index("points_by_run", "run_id", "id"),
    sa.Index("points_by_seq", "run_id", "seq", unique=True),
)
live_table = sa.Table(
    "live", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("progress", sa.Text),                            # JSON: step, max_steps, seconds, ...
    sa.Column("boundary", sa.Text),                            # JSON: latest 2-D decision boundary
)
# what a person changes on a running run: a new base learning rate, a pause (read by the worker's watcher)
controls_table = sa.Table(
    "controls", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("lr", sa.Float),                                 # None: the config's learning rate
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("changed", sa.Float, nullable=False),            # unix seconds of the last change
)
# decision boundaries taken at validation checks, kept for replaying a finished run (thinned to a cap)
snapshots_table = sa.Table(
    "snapshots", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(40), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("boundary", sa.Text, nullable=False),            # JSON, as the live table's
    sa.Index("snapshots_by_run", "run_id", "step"),
)
# content-addressed bytes and the names that keep them (defined beside their reader, modelkit/data/blobs.py)
blobs_table = blobs.blobs_table.to_metadata(metadata)
blob_names_table = blobs.names_table.to_metadata(metadata)
POINT_COLUMNS = ["id", "step", "epoch", "seconds", "name", "value"]   # "id": the point's seq in its run
SCHEMA_LOCK = 4_127_031   # PostgreSQL advisory lock held while a process creates or upgrades the tables


def stored_version(c) -> int | None:
    """The schema version the database records; None for a database without one (new, or very old)."""
    if not sa.inspect(c).has_table(meta_table.name):
        return None
    row = c.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
    return None if row is None else int(row[0])


def prepare(engine, url: str):
    """Make a new database's tables, or bring an older one up one numbered step at a time; refuse, before
    altering anything, a database that a newer modelkit wrote."""
    with engine.begin() as c:
        if c.dialect.name == "postgresql":   # one process at a time creates or upgrades the tables
            c.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        version = stored_version(c)
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(f"the run database {url} was written by a newer modelkit "
                             f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade modelkit")
        if version is None:
            new = not sa.inspect(c).has_table(runs_table.name)
            if new:
                metadata.create_all(c)
            meta_table.create(c, checkfirst=True)
            try:   # a database from before versions were recorded starts at 1 and takes every step
                c.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION if new else 1)))
            except sa.exc.IntegrityError:
                pass  # another process created it first (SQLite; PostgreSQL holds the lock)
            version = stored_version(c)
    for step in range(version, SCHEMA_VERSION):
        _migrate(engine, step)


def _migrate(engine, version: int):
    """Take the step from `version` to the next, and record it, in one transaction."""
    try:
        with engine.begin() as c:
            STEPS[version](c)
            c.execute(meta_table.update().where(meta_table.c.key == "schema_version",
                                                meta_table.c.value == str(version))
                      .values(value=str(version + 1)))
    except sa.exc.DBAPIError:
        with engine.connect() as c:
            if stored_version(c) <= version:   # not another process that migrated it meanwhile
                raise


def _add_challenges(c):
    """1 -> 2: runs remember the challenge they were trained for."""
    challenges_table.create(c, checkfirst=True)
    columns = {col["name"] for col in sa.inspect(c).get_columns("runs")}
    if "challenge" not in columns:
        c.execute(sa.text("ALTER TABLE runs ADD COLUMN challenge VARCHAR(40)"))


def _add_play_tables(c):
    """2 -> 3: what a person changes while a run trains, and boundaries kept for replay."""
    controls_table.create(c, checkfirst=True)
    snapshots_table.create(c, checkfirst=True)


def add_missing_columns(c):
    """3 -> 4: the columns older modelkits added without a step of their own (all nullable), and every
    table the database lacks.

    A store from before points had a per-run number gets one, in the order of their old global ids.
    """
    metadata.create_all(c)
    inspector = sa.inspect(c)
    existing = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:   # a table a later migration step makes
            continue
        present = {col["name"] for col in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=c.dialect)
                c.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
                if table is points_table and column.name == "seq":
                    number_old_points(c)
    for index in points_table.indexes:
        index.create(c, checkfirst=True)


def _add_seats(c):
    """4 -> 5: names become seats, and a run beyond its owner's share waits behind the rest."""
    seats_table.create(c, checkfirst=True)
    if "behind" not in {col["name"] for col in sa.inspect(c).get_columns("runs")}:
        c.execute(sa.text("ALTER TABLE runs ADD COLUMN behind BOOLEAN"))


def _add_stopped_by(c):
    """5 -> 6: a stopped run remembers who asked (its owner, or the host), so that its status can say so."""
    if "stopped_by" not in {col["name"] for col in sa.inspect(c).get_columns("runs")}:
        c.execute(sa.text("ALTER TABLE runs ADD COLUMN stopped_by VARCHAR(200)"))


def _add_blobs(c):
    """6 -> 7: the bytes a run reads or writes live in the database, so machines share nothing else.
    (The files an older home holds move in when a Store opens it: modelkit/store/old_home.py.)"""
    blobs_table.create(c, checkfirst=True)
    blob_names_table.create(c, checkfirst=True)


def _add_lessons_gallery_hidden(c):
    """7 -> 8: lessons the host paces, the room's gallery, and a challenge's hidden test with its scores."""
    for table in (lessons_table, gallery_table, hidden_scores_table):
        table.create(c, checkfirst=True)
    if "hidden" not in {col["name"] for col in sa.inspect(c).get_columns("challenges")}:
        c.execute(sa.text("ALTER TABLE challenges ADD COLUMN hidden VARCHAR(16)"))


def _add_hidden_file(c):
    """8 -> 9: a challenge's hidden test may be a file only the host sees; the challenge names it."""
    if "hidden_file" not in {col["name"] for col in sa.inspect(c).get_columns("challenges")}:
        c.execute(sa.text("ALTER TABLE challenges ADD COLUMN hidden_file VARCHAR(40)"))


STEPS = {1: _add_challenges, 2: _add_play_tables, 3: add_missing_columns, 4: _add_seats,
         5: _add_stopped_by, 6: _add_blobs, 7: _add_lessons_gallery_hidden, 8: _add_hidden_file}   # version -> next


def number_old_points(c):
    older = sa.alias(points_table, "older")
    rank = (sa.select(sa.func.count()).select_from(older)
            .where(older.c.run_id == points_table.c.run_id, older.c.id <= points_table.c.id).scalar_subquery())
    c.execute(points_table.update().values(seq=rank))


def sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")   # durable at each checkpoint; safe with WAL
    cur.execute("PRAGMA busy_timeout=30000")   # concurrent writers wait instead of failing
    cur.close()
