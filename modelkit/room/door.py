"""The one door every run of the room passes: the limits and a challenge's rules at submit."""
from __future__ import annotations

from modelkit.fields import ConfigError
from modelkit.room.challenges import find_challenge, within_challenge
from modelkit.room.rules import current_limits, within_limits
from modelkit.store import Store


def admit(store: Store, config, owner: str, by: str | None = None, challenge: str | None = None):
    """The config a run may start with, or a ConfigError naming the limit (or challenge rule) it breaks.

    Every run meets the per-run limits (seconds, parameters, memory) and its challenge's rules;
    a participant (`by`) also the number of runs they may have queued or training at once."""
    limits = current_limits(store)
    if challenge is not None:
        config = within_challenge(find_challenge(store, challenge), config)
    config = within_limits(config, limits)
    if by is not None and store.count_active(owner) >= limits.queued:
        raise ConfigError("", "limit_queued", limit=limits.queued)
    return config
