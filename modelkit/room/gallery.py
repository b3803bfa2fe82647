"""The room's gallery: finished runs their owners shared, for everyone to try on their own input.

    share(store, run_id, by="ana", name="Wiggly", line="two layers, guess the rest")   # her run only
    withdraw(store, run_id, by="ana")                                                  # hers only
    reveal(store, run_id, True, by=None)           # the host shows its settings ("guess the architecture")
    shared(store)                                   # [Shared, ...] newest first
    visible(store, run, by="ben")                   # the run as ben may see it, on every page and the CLI
    seen = Seen(store, by="ben"); seen.list_runs()  # the store as ben reads runs: each one through visible

Sharing is the owner's choice: no one else, not even the host, shares or withdraws a run for them.
A shared model's card (name, line, owner, task, score) is for everyone; its settings (architecture,
size, config) only once the host has revealed them. That holds wherever a run is shown (the Runs page,
Compare, Look inside, a run's own page, a leaderboard, the CLI): until then another participant reads a
masked copy (`visible`), whose architecture is MASKED ("hidden until the host reveals it") and which has
no settings, size or model details. Its owner and the host (by None) always see the whole run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from modelkit.fields import ConfigError
from modelkit.room.seats import written
from modelkit.store import Run, Store

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


# --- what a participant sees of a shared model, everywhere ----------------------------------

MASKED = "masked"   # a masked run's architecture (arch.masked.title: "hidden until the host reveals it")


def unrevealed(store: Store) -> set[str]:
    """The runs in the gallery whose settings the host has not revealed."""
    return {s.run_id for s in shared(store) if not s.revealed}


def visible(store: Store, run: Run | None, by: str | None, hidden: set[str] | None = None) -> Run | None:
    """`run` as `by` may see it: whole for the host (None), for its owner and for any run that is not
    shared-unrevealed; else a masked copy (is_masked) with its task, status and scores only. `hidden`:
    unrevealed(store), when the caller already has it (a list of runs asks once)."""
    if run is None or by is None or run.owner == by:
        return run
    if run.id not in (unrevealed(store) if hidden is None else hidden):
        return run
    return dataclasses.replace(run, arch=MASKED, config={"task": {"name": run.task}, "model": {"arch": MASKED}},
                               params=None, details={})


def is_masked(run: Run | None) -> bool:
    return run is not None and run.arch == MASKED


class Seen:
    """The store as `by` reads runs: get_run and list_runs give each run through `visible`; everything else
    is the store's own (a page writes through it as through the store)."""

    def __init__(self, store: Store, by: str | None):
        self.store, self.by = store, by

    def get_run(self, run_id: str) -> Run | None:
        return visible(self.store, self.store.get_run(run_id), self.by)

    def list_runs(self, *args, **kwargs) -> list[Run]:
        runs = self.store.list_runs(*args, **kwargs)
        hidden = unrevealed(self.store) if self.by is not None else set()
        return [visible(self.store, r, self.by, hidden) for r in runs]

    def __getattr__(self, name):
        return getattr(self.store, name)
