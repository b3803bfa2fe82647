"""Seats: the first browser to take a name in the room holds it, by a secret only it was given.

    seat, secret = claim(store, "Ana")            # a new seat, or ConfigError "name_taken"
    seat, secret = claim(store, "ana ", secret)   # the same seat again: another tab, device, reload

Names compare after Unicode normalisation (NFKC) and case-folding, with runs of spaces as one,
so "Ana", "ana " and "ａｎａ" are one name. A seat's runs are stored with its name as their owner.
The host frees a seat (a participant who lost their link); the next to take the name holds it then.

A browser that takes no name is a guest: its runs are owned by "anonymous:" and a hash of a secret kept in
that browser (a cookie), so two nameless browsers never control each other's runs, and nobody can act as a
guest from what a page shows of it.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from modelkit.fields import ConfigError
from modelkit.store import seats as rows
from modelkit.store.seats import Seat

MAX_NAME = 60
RESERVED = ("anonymous", "web", "cli", "bench", "host")   # owners the engine writes itself
SUGGESTIONS = 50
GUEST_COOKIE = "modelkit_guest"   # where a guest's browser keeps its secret
GUEST = "anonymous:"        # the owner of a guest's runs: this, then a hash of the guest's secret
_GUEST_SECRET = re.compile(r"[0-9a-f]{32}")


def new_guest() -> str:
    """A guest's secret (128 bits), for its browser to keep."""
    return secrets.token_hex(16)


def guest_owner(secret: str | None) -> str | None:
    """The owner a guest's runs are stored with; None for a secret that is not one (it gets a new one)."""
    if not isinstance(secret, str) or not _GUEST_SECRET.fullmatch(secret):
        return None
    return GUEST + hashlib.sha256(secret.encode()).hexdigest()[:20]


def is_anonymous(owner: str) -> bool:
    """A run started without a name: by a guest, or stored as "anonymous" or "web" before guests."""
    return owner in ("anonymous", "web") or owner.startswith(GUEST)


def written(name: str) -> str:
    """The name as shown: NFKC, outer spaces off, inner runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFKC", name or "").split())


def seat_key(name: str) -> str:
    """The name as compared: `written`, case-folded."""
    return written(name).casefold()


def check_name(name: str) -> str:
    """The name as shown, or ConfigError: empty, too long, a control character, one the engine uses."""
    shown = written(name)
    if not shown:
        raise ConfigError("participant", "name_empty")
    if len(shown) > MAX_NAME:
        raise ConfigError("participant", "name_long", limit=MAX_NAME)
    if any(unicodedata.category(ch).startswith("C") for ch in shown):   # control, format (bidi), unassigned
        raise ConfigError("participant", "name_chars")
    if shown.casefold() in RESERVED or shown.casefold().startswith(GUEST):
        raise ConfigError("participant", "name_reserved", name=shown)
    return shown


def claim(store, name: str, secret: str | None = None) -> tuple[Seat, str]:
    """The seat `name` with its secret: the one `secret` opens, else a new one when the name is free.

    A taken name without its secret is refused (ConfigError "name_taken", with a free name to offer)."""
    shown = check_name(name)
    key = shown.casefold()
    held = rows.holder(store, key, secret)
    if held is not None:
        return held, secret
    fresh = rows.take(store, key, shown)
    if fresh is not None:
        return rows.get(store, key), fresh
    raise ConfigError("participant", "name_taken", name=shown, suggestion=free_name(store, shown))


def free_name(store, name: str) -> str:
    """A name like `name` that nobody holds: "ana 2", "ana 3", ..."""
    for n in range(2, SUGGESTIONS):
        candidate = f"{name[:MAX_NAME - 4]} {n}"
        if rows.get(store, seat_key(candidate)) is None:
            return candidate
    return ""


def taken_seats(store) -> list[Seat]:
    return rows.all_seats(store)


def free_seat(store, name: str) -> bool:
    """The host gives `name` back to the room; its runs stay, under the same owner."""
    return rows.free(store, seat_key(name))
