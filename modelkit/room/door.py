"""The one door every run passes, from every page and the CLI: owner, limits, challenge, memory, queue.

    admitted = admit_all(store, configs, owner="ana", by="ana", challenge=None)
    # [(config as it will run, behind), ...] or ConfigError (code error.<code>) for the first refusal

Every run meets the room's per-run limits (seconds, parameters), the memory a worker has for it and,
in a challenge, its rules. A participant (`by`) submits one group at a time: one Train click, re-run
or Learn step is a group of one; a comparison, a sweep or a scale ladder is one group of several
(at most MAX_GROUP). A group is refused when its owner already has `queued` runs queued or training
(the room's share per participant); else it is admitted whole, and its runs beyond the share are
`behind`: they wait in the fair queue behind every run that is within its owner's share, so a race
of six starts its first runs at once and a neighbour's single run still starts before its last.
The host (by None: the Host page, the CLI) is not held to the share.
"""
from __future__ import annotations

from modelkit.fields import ConfigError
from modelkit.room.challenges import find_challenge, within_challenge
from modelkit.room.rules import current_limits, within_limits
from modelkit.store import Store

MAX_GROUP = 16     # runs one submit may queue: the sweep's grid at most


def admit_all(store: Store, configs: list, owner: str, by: str | None = None,
              challenge: str | None = None) -> list[tuple[object, bool]]:
    """The configs as they may start, each with whether it waits behind the room; or a ConfigError."""
    if not configs:
        return []
    limits = current_limits(store)
    if len(configs) > MAX_GROUP:
        raise ConfigError("", "limit_group", n=len(configs), limit=MAX_GROUP)
    found = find_challenge(store, challenge) if challenge is not None else None
    admitted = []
    for config in configs:
        if found is not None:
            config = within_challenge(found, config)
        admitted.append(within_limits(config, limits))
    if by is None:
        return [(config, False) for config in admitted]
    active = store.count_active(owner)
    if active >= limits.queued:
        raise ConfigError("", "limit_queued", limit=limits.queued)
    share = limits.queued - active
    return [(config, i >= share) for i, config in enumerate(admitted)]


def admit(store: Store, config, owner: str, by: str | None = None, challenge: str | None = None):
    """One run through the door: the config it may start with, or a ConfigError."""
    return admit_all(store, [config], owner, by=by, challenge=challenge)[0][0]
