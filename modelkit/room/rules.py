"""The room's limits (seconds, parameters, queued runs per participant) and the wait they imply."""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

from modelkit import models, settings
from modelkit.config import make_config
from modelkit.data import tasks
from modelkit.fields import ConfigError
from modelkit.models import memory
from modelkit.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    seconds: float = 120.0      # per run: a longer time budget is refused, a run without one is capped here
    params: int = 2_000_000     # per model
    queued: int = 2             # runs of one participant queued or training at once

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))


def current_limits(store: Store) -> Limits:
    """The defaults, then the environment (MODELKIT_LIMIT_*), then what the host set on the Host page."""
    values = {}
    for name in Limits.fields():
        env = settings.limit(name)
        if env is not None:
            values[name] = env
        stored = store.setting(f"limit.{name}")
        if stored is not None:
            values[name] = settings.number(stored, f"limit.{name}", whole=name != "seconds")
    return Limits(**values)


def set_limits(store: Store, limits: Limits | None):
    """Keep the host's limits for every process of the room; None goes back to the environment's."""
    for name in Limits.fields():
        store.set_setting(f"limit.{name}", None if limits is None else getattr(limits, name))


def param_count(config) -> int:
    return models.count_params(models.build_on_meta(config.model, tasks.load(config.task).spec))


def within_limits(config, limits: Limits):
    """`config` with its time capped at the limit; refuses (ConfigError) a run over a per-run limit."""
    budget = config.train.time_budget
    if budget is not None and budget > limits.seconds:
        raise ConfigError("train.time_budget", "limit_seconds", limit=f"{limits.seconds:g}")
    if budget is None:   # an epochs-only run: it ends at the limit if its epochs take longer
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, time_budget=limits.seconds))
    params = param_count(config)
    if params > limits.params:
        raise ConfigError("model", "limit_params", params=f"{params:,}", limit=f"{limits.params:,}")
    memory.check_memory(config)   # the memory a run needs, from its shapes, against a worker's share
    return config


def warm_up():
    """Measure one small model once, so that the first participant's submit does not pay for the imports."""
    try:
        within_limits(make_config("moons", "mlp"), Limits())
    except Exception:   # only a warm-up: a real submit reports its own refusal
        log.exception("room warm-up failed")


def estimate_wait(store: Store, position: int, workers: int) -> float:
    """Seconds until the run at `position` in the queue starts, roughly: whole rounds of typical runs."""
    typical = store.typical_run_seconds() or current_limits(store).seconds
    return math.ceil(position / max(1, workers)) * typical
