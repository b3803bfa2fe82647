"""Content-addressed blobs: every file a run reads or writes, kept once by its SHA-256 in the store's
database (SQLite blob, PostgreSQL bytea) and found by name, with a cache on each machine.

    blobs.put("dataset/3f2a9c0d1e4b/data.npz", raw)   # the bytes, once by content, under that name
    blobs.read("dataset/3f2a9c0d1e4b/data.npz")       # the bytes again (this machine's cache, else the database)
    blobs.path(name)                                   # the cached file, fetched on demand (np.load, safetensors)
    blobs.forget("dataset/3f2a9c0d1e4b/")              # the names under a prefix, and the blobs no name keeps
    ref = blobs.put_text(text); blobs.get_text(ref)    # a settings link's long text: "3f2a9c0d1e4b5a67"

The database is the one thing the machines of a room share: the dashboard, the CLI and every worker or Ray
node read the same names. Each machine keeps what it read under its own MODELKIT_HOME/cache/blobs/<sha256>;
that cache is filled on demand and safe to delete at any time.

Which database: the one this process's `Store` opened (it binds its shelf here with `keep_in`); a process
that opened none (a script that only uploads) uses MODELKIT_DB_URL, else the SQLite under MODELKIT_HOME.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from pathlib import Path

import sqlalchemy as sa

from modelkit import settings
from modelkit.fields import ConfigError

REF = re.compile(r"^[0-9a-f]{16}$")
TEXT = "text/"              # a settings link's text: text/<the first 16 hex digits of its SHA-256>
CACHE = Path("cache", "blobs")
POSTGRES_MOST = 2**30 - 1   # a bytea value holds at most 1 GB

tables = sa.MetaData()      # the store's schema takes these in (modelkit/store/schema.py, step 5 -> 6)
blobs_table = sa.Table(
    "blobs", tables,
    sa.Column("digest", sa.String(64), primary_key=True),       # SHA-256 of the bytes, hex
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)
names_table = sa.Table(
    "blob_names", tables,
    sa.Column("name", sa.String(300), primary_key=True),        # run/<id>/model.safetensors, dataset/<id>/...
    sa.Column("digest", sa.String(64), nullable=False, index=True),
)


def most_bytes(engine) -> int:
    """The largest value the database takes: SQLite's length limit (set when it was built), PostgreSQL's 1 GB."""
    if engine.dialect.name != "sqlite":
        return POSTGRES_MOST
    with engine.connect() as c:
        raw = c.connection.dbapi_connection
        return raw.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) if hasattr(raw, "getlimit") else 1_000_000_000


def too_big(name: str, size: int, most: int) -> ConfigError:
    return ConfigError("", "blob_too_big", file=name.rsplit("/", 1)[-1][:80], mb=f"{size / 1024**2:,.1f}",
                       most=f"{most / 1024**2:,.1f}")


def _insert_once(c, table, **values):
    """Insert the row unless its key is there already (two machines may store the same bytes at once)."""
    if c.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    c.execute(insert(table).values(**values).on_conflict_do_nothing())


def _name_it(c, name: str, digest: str):
    if c.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(names_table).values(name=name, digest=digest)
    c.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"digest": digest}))


class Shelf:
    """The blobs of one database, and this machine's cache of them under `home`."""

    def __init__(self, engine, home: Path):
        self.engine, self.cache = engine, Path(home) / CACHE
        self._most = None

    @property
    def most(self) -> int:
        if self._most is None:
            self._most = most_bytes(self.engine)
        return self._most

    def put(self, name: str, data: bytes) -> str:
        """Keep `data` under `name` (replacing what the name held); its digest. Refused (ConfigError
        blob_too_big) when the database cannot hold that many bytes in one value."""
        data = bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > self.most:
            raise too_big(name, len(data), self.most)
        try:
            with self.engine.begin() as c:
                known = c.execute(sa.select(blobs_table.c.digest).where(blobs_table.c.digest == digest)).first()
                if known is None:   # bytes a machine already sent are not sent again
                    _insert_once(c, blobs_table, digest=digest, size=len(data), data=data, created=time.time())
                _name_it(c, name, digest)
        except sa.exc.DataError as error:   # the database's own limit, lower than it said
            if "too big" in str(error).lower() or "too large" in str(error).lower():
                raise too_big(name, len(data), self.most) from None
            raise
        self._keep(digest, data)
        return digest

    def digest(self, name: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(names_table.c.digest).where(names_table.c.name == name)).scalar()

    def path(self, name: str) -> Path | None:
        """The cached file of what `name` holds, fetched from the database when this machine has none."""
        digest = self.digest(name)
        if digest is None:
            return None
        cached = self.cache / digest
        if cached.exists():
            return cached
        with self.engine.connect() as c:
            data = c.execute(sa.select(blobs_table.c.data).where(blobs_table.c.digest == digest)).scalar()
        if data is None:   # a name whose bytes were forgotten meanwhile
            return None
        if not self._keep(digest, bytes(data)):
            raise OSError(f"this machine's blob cache {self.cache} cannot be written (a full or read-only disk?)")
        return cached

    def read(self, name: str) -> bytes | None:
        path = self.path(name)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except FileNotFoundError:   # the cache was emptied between the two lines: fetch it again
            path = self.path(name)
            return None if path is None else path.read_bytes()

    def names(self, prefix: str) -> list[str]:
        with self.engine.connect() as c:
            return list(c.execute(sa.select(names_table.c.name).where(
                names_table.c.name.startswith(prefix, autoescape=True)).order_by(names_table.c.name)).scalars())

    def forget(self, prefix: str) -> int:
        """Drop the names under `prefix` and the blobs that no other name keeps; how many blobs went."""
        under = names_table.c.name.startswith(prefix, autoescape=True)
        with self.engine.begin() as c:
            digests = set(c.execute(sa.select(names_table.c.digest).where(under)).scalars())
            c.execute(names_table.delete().where(under))
            kept = set(c.execute(sa.select(names_table.c.digest).where(names_table.c.digest.in_(digests)))
                       .scalars()) if digests else set()
            gone = digests - kept
            if gone:
                c.execute(blobs_table.delete().where(blobs_table.c.digest.in_(gone)))
        for digest in gone:
            (self.cache / digest).unlink(missing_ok=True)
        return len(gone)

    def _keep(self, digest: str, data: bytes) -> bool:
        """Cache the bytes on this machine; False when its disk would not take them."""
        path = self.cache / digest
        if path.exists():
            return True
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{digest}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)   # atomic: a reader sees no file or the whole file
        except OSError:
            return False            # kept in the database all the same: read from there next time
        return True


_bound: Shelf | None = None
_fallback: tuple[tuple[str, Path], Shelf] | None = None   # the environment's, for a process with no Store


def keep_in(shelf: Shelf | None):
    """Make `shelf` this process's (a Store does so when it opens); None goes back to the environment's."""
    global _bound
    _bound = shelf


def shelf() -> Shelf:
    """The process's Store's shelf, else one on the database the environment names (opened once)."""
    global _fallback
    if _bound is not None:
        return _bound
    where = (settings.database_url(), settings.home())
    if _fallback is None or _fallback[0] != where:
        url, home = where
        if url.startswith("sqlite"):
            home.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        tables.create_all(engine)   # the Store takes them in as they are when it opens this database
        if _fallback is not None:
            _fallback[1].engine.dispose()
        _fallback = (where, Shelf(engine, home))
    return _fallback[1]


def put(name: str, data: bytes) -> str:
    return shelf().put(name, data)


def read(name: str) -> bytes | None:
    return shelf().read(name)


def path(name: str) -> Path | None:
    return shelf().path(name)


def names(prefix: str) -> list[str]:
    return shelf().names(prefix)


def forget(prefix: str) -> int:
    return shelf().forget(prefix)


# --- texts too long for a link ------------------------------------------------------------

def text_name(ref: str) -> str:
    return TEXT + ref


def put_text(text: str) -> str:
    """Keep a text for a settings link; its reference, the first 16 hex digits of its SHA-256."""
    data = text.encode("utf-8")
    ref = hashlib.sha256(data).hexdigest()[:16]
    put(text_name(ref), data)
    return ref


def get_text(ref: str) -> str | None:
    if not isinstance(ref, str) or not REF.match(ref):
        return None
    data = read(text_name(ref))
    try:
        return None if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        return None
