"""The room's gallery: finished runs their owners shared, for everyone to try on their own input.

    share(store, run_id, by="ana", name="Wiggly", line="two layers, guess the rest")   # her run only
    withdraw(store, run_id, by="ana")                                                  # hers only
    reveal(store, run_id, True, by=None)           # the host shows its settings ("guess the architecture")
    shared(store)                                   # [Shared, ...] newest first

Sharing is the owner's choice: no one else, not even the host, shares or withdraws a run for them.
A shared model's card (name, line, owner, task, score) is for everyone; its settings (architecture,
size, config) only once the host has revealed them.
"""
from __future__ import annotations

from dataclasses import dataclass

from modelkit.fields import ConfigError
from modelkit.room.seats import written
from modelkit.store import Store

MAX_NAME, MAX_LINE = 60, 200


@dataclass(frozen=True)
class Shared:
    run_id: str
    owner: str
    name: str
    line: str
    shared: float      # unix seconds
    revealed: bool     # its settings are shown


def share(store: Store, run_id: str, by: str | None, name: str, line: str = "") -> Shared:
    """Put `by`'s finished run in the gallery (again: with a new name and line). ConfigError for someone
    else's run, a run without a trained model, or an empty or over-long name."""
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError("run", "no_run", run=repr(run_id)[:60])
    if by is None or run.owner != by:
        raise ConfigError("run", "gallery_owner", owner=run.owner)
    if run.status not in ("completed", "stopped") or not store.has_weights(run_id):
        raise ConfigError("run", "gallery_unfinished")
    name, line = written(name), written(line)
    if not name:
        raise ConfigError("gallery.name", "name_empty")
    if len(name) > MAX_NAME or len(line) > MAX_LINE:
        raise ConfigError("gallery.name", "name_long", limit=MAX_NAME if len(name) > MAX_NAME else MAX_LINE)
    store.share(run_id, run.owner, name, line)
    return next(s for s in shared(store) if s.run_id == run_id)


def withdraw(store: Store, run_id: str, by: str | None) -> bool:
    """Take `by`'s run out of the gallery; False when it is not there. ConfigError for someone else's."""
    entry = next((s for s in shared(store) if s.run_id == run_id), None)
    if entry is None:
        return False
    if by is None or entry.owner != by:
        raise ConfigError("run", "gallery_owner", owner=entry.owner)
    return store.withdraw(run_id)


def reveal(store: Store, run_id: str, revealed: bool = True, by: str | None = None) -> bool:
    """The host shows (or hides again) a shared model's settings; ConfigError for a participant."""
    if by is not None:
        raise ConfigError("run", "host_only")
    return store.reveal(run_id, revealed)


def shared(store: Store) -> list[Shared]:
    return [Shared(**row) for row in store.gallery()]


def shared_since(store: Store, since: float) -> set[str]:
    """The owners who shared a model at or after `since` (unix seconds)."""
    return {s.owner for s in shared(store) if s.shared >= since}
