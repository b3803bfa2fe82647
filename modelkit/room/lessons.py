"""A lesson the host paces: ordered steps the whole room moves through together.

    lesson = find_lesson(store, "first_network")     # a ready lesson, or one the host saved
    start(store, "first_network")                    # the room is on its step 1
    move(store, 2)                                   # ... now on step 2: every page follows (ui.lesson_view)
    free(store)                                      # the room runs free again
    now = current(store)                             # Now(lesson, step, since, ...) or None
    progress(store, now, names)                      # per participant: done, stuck, working, waiting

A step is a Learn step, a challenge (made when the room first reaches it; with a hidden test when the step
says so), a comparison to run, a gallery round or a note from the host. Ready lessons take their words from
the translation files (lesson.<name>.<n>.title / .note); a host's own lesson carries the host's words.
The host (by None) is the only one who starts, moves or frees a lesson.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

import pandas as pd

from modelkit import models
from modelkit.data import tasks
from modelkit.fields import ConfigError
from modelkit.room.challenges import create_challenge
from modelkit.room.gallery import shared_since
from modelkit.room.hidden import HELD_BACK
from modelkit.store import Store

KINDS = ("note", "learn", "challenge", "compare", "gallery")
LEARN_STEPS = ("network", "loss", "backprop", "optimizers", "cnn", "rnn", "transformer", "metrics")   # app_pages/learn.py
STATE = "lesson.state"        # the room setting that holds where the lesson is (JSON)
STUCK_AFTER_S = 60.0          # nothing started this long after the room reached a step: stuck
MAX_STEPS, MAX_TEXT = 30, 500


@dataclass(frozen=True)
class Step:
    kind: str                      # one of KINDS
    title: str = ""                # the host's words; a ready lesson's are in the translation files (`words`)
    note: str = ""
    words: str = ""                # translation key prefix: <words>.title, <words>.note
    learn: str = ""                # learn: the Learn step's id
    task: str = ""                 # challenge, compare: the task
    archs: tuple = ()              # challenge: those allowed; compare: those raced
    budget: float = 20.0           # challenge: seconds a run may train
    hidden: bool = False           # challenge: ranked on a held-back hidden test too

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
                if v != getattr(Step, k, None) or k == "kind"}

    @classmethod
    def from_dict(cls, data: dict) -> "Step":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError("lesson.step", "unknown_setting", known=", ".join(sorted(known)))
        return check_step(cls(**{k: tuple(v) if k == "archs" else v for k, v in data.items()}))


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str = ""                # the host's; a ready lesson's is lesson.<name>.title
    steps: tuple = ()
    ready: bool = False


@dataclass(frozen=True)
class Now:
    """Where the room is: the lesson, its step (1-based), since when, the challenges its steps made."""
    lesson: Lesson
    step: int
    since: float
    free: bool = False
    challenges: dict = field(default_factory=dict)   # step number (str) -> challenge id
    spotlight: str | None = None                     # the run the host put on the projector

    @property
    def current(self) -> Step:
        return self.lesson.steps[self.step - 1]

    @property
    def challenge(self) -> str | None:
        return self.challenges.get(str(self.step))

    @property
    def mark(self) -> str:
        """What a page compares to know the room moved: the lesson, the step and when it got there."""
        return "" if self.free else f"{self.lesson.name}:{self.step}:{self.since:.3f}"


def _ready(name: str, *steps: Step) -> Lesson:
    numbered = tuple(dataclasses.replace(s, words=f"lesson.{name}.{i}") for i, s in enumerate(steps, start=1))
    return Lesson(name, steps=numbered, ready=True)


READY = {lesson.name: lesson for lesson in (
    _ready("first_network", Step("note"), Step("learn", learn="network"),
           Step("challenge", task="moons", archs=("mlp",), budget=15, hidden=True),
           Step("challenge", task="spiral", archs=("linear", "mlp"), budget=20, hidden=True),
           Step("compare", task="spiral", archs=("linear", "mlp")), Step("gallery")),
    _ready("convolutions", Step("note"), Step("learn", learn="cnn"),
           Step("compare", task="digits", archs=("mlp", "cnn")),
           Step("challenge", task="digits", archs=("mlp", "cnn"), budget=15, hidden=True), Step("gallery")),
    _ready("sequences", Step("note"), Step("learn", learn="rnn"), Step("learn", learn="transformer"),
           Step("compare", task="text", archs=("gru", "transformer")), Step("gallery")),
)}


def check_step(step: Step) -> Step:
    """The step as it may run, or ConfigError naming what is wrong with it."""
    if step.kind not in KINDS:
        raise ConfigError("lesson.kind", "choice", choices=", ".join(KINDS), value=repr(step.kind)[:40])
    if len(step.title) > MAX_TEXT or len(step.note) > MAX_TEXT:
        raise ConfigError("lesson.note", "too_long", n=MAX_TEXT)
    if step.kind == "learn" and step.learn not in LEARN_STEPS:
        raise ConfigError("lesson.learn", "choice", choices=", ".join(LEARN_STEPS), value=repr(step.learn)[:40])
    if step.kind in ("challenge", "compare"):
        if step.task not in tasks.TASKS:
            raise ConfigError("task.name", "unknown_task", choices=", ".join(tasks.TASKS), value=repr(step.task)[:40])
        fitting = models.archs_for(step.task)
        wrong = [a for a in step.archs if a not in fitting]
        if not step.archs or wrong:
            raise ConfigError("model.arch", "challenge_arch", choices=", ".join(fitting))
    return step


def lesson_from(name: str, title: str, steps: list[dict]) -> Lesson:
    """A host's lesson from its parts, checked: a name, a title and 1 to MAX_STEPS steps."""
    name = name.strip()
    if not name or len(name) > 80 or name in READY:
        raise ConfigError("lesson.name", "lesson_name", name=name[:80])
    if not 1 <= len(steps) <= MAX_STEPS:
        raise ConfigError("lesson.steps", "lesson_steps", limit=MAX_STEPS)
    return Lesson(name, title.strip() or name, tuple(Step.from_dict(s) for s in steps))


def save_lesson(store: Store, lesson: Lesson):
    store.save_lesson(lesson.name, lesson.title, [s.to_dict() for s in lesson.steps])


def find_lesson(store: Store, name: str) -> Lesson:
    """A ready lesson, else one the host saved; ConfigError when there is none of that name."""
    if name in READY:
        return READY[name]
    kept = store.stored_lesson(name)
    if kept is None:
        raise ConfigError("lesson", "no_lesson", name=repr(name)[:80], choices=", ".join(lesson_names(store)))
    title, steps = kept
    return Lesson(name, title, tuple(Step.from_dict(s) for s in steps))


def lesson_names(store: Store) -> list[str]:
    """The ready lessons, then the host's own."""
    return [*READY, *store.stored_lessons()]


# --- where the room is ---------------------------------------------------------------------

def current(store: Store) -> Now | None:
    """Where the room is in its lesson (also while it runs free), or None when no lesson was started."""
    text = store.setting(STATE)
    if not text:
        return None
    state = json.loads(text)
    try:
        lesson = find_lesson(store, state["lesson"])
    except ConfigError:   # a saved lesson replaced by a shorter one, or gone
        return None
    if not 1 <= state["step"] <= len(lesson.steps):
        return None
    return Now(lesson, state["step"], state["since"], state.get("free", False), state.get("challenges", {}),
               state.get("spotlight"))


def _keep(store: Store, now: Now):
    store.set_setting(STATE, json.dumps({"lesson": now.lesson.name, "step": now.step, "since": now.since,
                                         "free": now.free, "challenges": now.challenges,
                                         "spotlight": now.spotlight}))


def start(store: Store, name: str, by: str | None = None) -> Now:
    """The room starts `name` at its first step (a lesson started again starts over, with new challenges)."""
    _host_only(by)
    lesson = find_lesson(store, name)
    return _arrive(store, Now(lesson, 1, time.time()))


def move(store: Store, step: int, by: str | None = None) -> Now:
    """The room goes to `step` (1-based) of its lesson; its challenge is made when first reached."""
    _host_only(by)
    now = current(store)
    if now is None:
        raise ConfigError("lesson", "no_lesson_started")
    if not 1 <= step <= len(now.lesson.steps):
        raise ConfigError("lesson.step", "lesson_step", n=step, limit=len(now.lesson.steps))
    return _arrive(store, dataclasses.replace(now, step=step, since=time.time(), free=False, spotlight=None))


def free(store: Store, by: str | None = None) -> Now | None:
    """The room runs free: pages follow no step until the host moves to one again."""
    _host_only(by)
    now = current(store)
    if now is not None:
        now = dataclasses.replace(now, free=True)
        _keep(store, now)
    return now


def spotlight(store: Store, run_id: str | None, by: str | None = None):
    """The host puts one participant's run on the projector (None: takes it off)."""
    _host_only(by)
    now = current(store)
    if now is None:
        raise ConfigError("lesson", "no_lesson_started")
    _keep(store, dataclasses.replace(now, spotlight=run_id))


def _arrive(store: Store, now: Now) -> Now:
    step = now.current
    if step.kind == "challenge" and now.challenge is None:
        made = create_challenge(store, task=step.task, archs=list(step.archs), budget=step.budget, locked=[],
                                hidden=HELD_BACK if step.hidden else None,
                                title=step.title)
        now = dataclasses.replace(now, challenges={**now.challenges, str(now.step): made})
    _keep(store, now)
    return now


def _host_only(by: str | None):
    if by is not None:
        raise ConfigError("lesson", "host_only")


# --- who has done the step -------------------------------------------------------------------

PROGRESS = ("done", "stuck", "working", "waiting")


def learn_run_name(learn: str) -> str:
    """The name of a run a Learn step trains (app_pages/learn.py names them so)."""
    return f"learn: {learn}"


def step_runs(store: Store, now: Now) -> list:
    """The runs started for the current step since the room reached it: a challenge's, a comparison's task's,
    a Learn step's own model."""
    runs = store.list_runs(challenge=now.challenge) if now.challenge else store.list_runs()
    step = now.current
    return [r for r in runs if r.created.timestamp() >= now.since
            and (step.kind != "learn" or r.name == learn_run_name(step.learn))
            and (step.kind != "compare" or r.task == step.task)]


def progress(store: Store, now: Now, names: list[str], at: float | None = None) -> pd.DataFrame:
    """One row per participant (those in `names` and those with runs for the step): participant, state
    (done, stuck, working, waiting), run_id (their newest run of the step, or None).

    done: a run of the step finished (a gallery round: they shared a model); stuck: their newest run of
    the step diverged or failed, or they started nothing STUCK_AFTER_S after the room reached it."""
    at = time.time() if at is None else at
    step, newest, finished = now.current, {}, set()
    for run in sorted(step_runs(store, now), key=lambda r: r.created):
        newest[run.owner] = run
        if run.status in ("completed", "stopped"):
            finished.add(run.owner)
    if step.kind == "gallery":
        finished = shared_since(store, now.since)
    rows = []
    for name in sorted({*names, *newest}):
        run = newest.get(name)
        if step.kind == "note":
            state = "done"
        elif name in finished:
            state = "done"
        elif run is not None and run.status in ("diverged", "failed", "interrupted"):
            state = "stuck"
        elif run is not None and run.active:
            state = "working"
        else:
            state = "stuck" if at - now.since > STUCK_AFTER_S else "waiting"
        rows.append({"participant": name, "state": state, "run_id": run.id if run else None})
    return pd.DataFrame(rows, columns=["participant", "state", "run_id"])
