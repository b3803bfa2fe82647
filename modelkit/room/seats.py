"""Seats: the first browser to take a name in the room holds it, by a secret only it was given.

    seat, secret = claim(store, "Ana")            # a new seat, or ConfigError "name_taken"
    seat, secret = claim(store, "ana ", secret)   # the same seat again: another tab, device, reload

Names compare after Unicode normalisation (NFKC) and case-folding, with runs of spaces as one,
so "Ana", "ana " and "ａｎａ" are one name. A seat's runs are stored with its name as their owner.
The host frees a seat (a participant who lost their link); the next to take the name holds it then.
"""
from __future__ import annotations

import unicodedata

from modelkit.fields import ConfigError
from modelkit.store import seats as rows
from modelkit.store.seats import Seat

MAX_NAME = 60
RESERVED = ("anonymous", "web", "cli", "bench", "host")   # owners the engine writes itself
SUGGESTIONS = 50


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
    if shown.casefold() in RESERVED:
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
