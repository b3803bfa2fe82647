"""Seats: a name taken in the room and the hash of its secret, shared by every process of the store.

The rules (how names compare, who may take one) are modelkit.room.seats'; this keeps the rows.
Only a hash of a seat's secret is kept, so the database (or a backup of it) cannot act as anyone.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa

from modelkit.store.schema import seats_table


@dataclass(frozen=True)
class Seat:
    key: str          # the name as compared (NFKC, case-folded)
    name: str         # the name as its holder first wrote it: their runs' owner
    created: datetime


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def take(store, key: str, name: str) -> str | None:
    """A new seat for `key`, shown as `name`: its fresh secret (128 bits), or None when the key is taken."""
    secret = secrets.token_hex(16)
    try:
        with store.engine.begin() as c:
            c.execute(seats_table.insert().values(key=key, name=name, secret_hash=secret_hash(secret),
                                                  created=time.time()))
    except sa.exc.IntegrityError:   # taken (a moment ago, perhaps by another process)
        return None
    return secret


def holder(store, key: str, secret: str | None) -> Seat | None:
    """The seat `key` when `secret` is its secret, else None."""
    with store.engine.connect() as c:
        row = c.execute(sa.select(seats_table).where(seats_table.c.key == key)).mappings().first()
    if row is None or not secret or not secrets.compare_digest(row["secret_hash"], secret_hash(secret)):
        return None
    return _seat(row)


def get(store, key: str) -> Seat | None:
    with store.engine.connect() as c:
        row = c.execute(sa.select(seats_table).where(seats_table.c.key == key)).mappings().first()
    return None if row is None else _seat(row)


def all_seats(store) -> list[Seat]:
    """Every taken seat, oldest first."""
    with store.engine.connect() as c:
        rows = c.execute(sa.select(seats_table).order_by(seats_table.c.created)).mappings().all()
    return [_seat(r) for r in rows]


def free(store, key: str) -> bool:
    """Give the seat back to the room (its holder lost their link); their runs stay. False if none."""
    with store.engine.begin() as c:
        return bool(c.execute(seats_table.delete().where(seats_table.c.key == key)).rowcount)


def _seat(row) -> Seat:
    return Seat(key=row["key"], name=row["name"], created=datetime.fromtimestamp(row["created"], timezone.utc))
