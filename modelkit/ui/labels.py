"""How the engine's facts read on a page: a run's status badge, numbers, class names, owner, name and
ending message, a task's title, the text a language model learns, and form defaults in the page's language.

One place for each, so that every page words them alike, in either language. The engine keeps stable
words (status "completed", owner "anonymous", class "class 0", message keys); these turn them into the reader's.
"""
from __future__ import annotations

import json
import math
import re

import streamlit as st

from modelkit import messages, room
from modelkit.config import ConfigError, RunConfig, TaskConfig
from modelkit.data import tasks, uploads
from modelkit.ui.i18n import current, has, t
from modelkit.ui.query import TEXT_REF, config_to_query

SEAT_STATE = "seat"         # session state: the session's seat {"name", "secret"} (modelkit.ui.seat), or None
GUEST_STATE = "guest"       # session state: the secret of this browser's guest (it took no name), from its cookie
STATUS_COLORS = {"queued": "gray", "running": "blue", "paused": "orange", "completed": "green",
                 "time_limit": "green", "stopped": "orange", "diverged": "red", "failed": "red", "interrupted": "orange"}
PERCENT_METRICS = frozenset({"val_accuracy", "test_accuracy", "test_f1", "test_precision", "test_recall"})
NAME_SETTINGS = 3           # at most this many differences from the defaults in a run's name
_ENGINE_CLASS = re.compile(r"class[ _](\d+)")   # the toy sets' "class 0", scikit-learn's wine "class_0"


# --- status and numbers -------------------------------------------------------

def shown_status(run, paused: bool = False) -> str:
    """The status a reader is shown: a running run that is paused is `paused`; a run that ended at its
    time limit before its epochs is `time_limit` (its message says how far it got); else the run's status."""
    if run.status == "running" and paused:
        return "paused"
    message = messages.of_run(run)
    if run.status == "completed" and message and message.parts[0]["key"] == "message.time_limit":
        return "time_limit"
    return run.status


def status_badge(status: str, queue_position: int | None = None, *, explain: bool = False,
                 starting: bool = False) -> str:
    """Markdown: the status as a coloured badge in the reader's language; `explain` adds what it means,
    a queued run its place in the queue, and that the workers are still starting when `starting`."""
    word = t(f"badge.{status}")
    text = f":{STATUS_COLORS.get(status, 'gray')}-badge[{word}]"
    meaning = t(f"status.{status}")
    if explain and meaning != word:
        text += f" {meaning}"
    if status == "queued" and queue_position:
        text += (" · " if explain else " ") + t("live.queue", n=queue_position)
    if status == "queued" and starting:
        text += " · " + t("live.workers_starting")
    return text


def format_metric(name: str, value: float) -> str:
    """A metric's value as the reader sees it: 93.1% for accuracies and F1; otherwise three significant
    figures at least, with thousands separated (0.123, 33.1, 2,666), so numbers side by side read alike."""
    if name in PERCENT_METRICS:
        return f"{value:.1%}"
    return significant(value)


def significant(value: float, figures: int = 3) -> str:
    """`value` with `figures` significant figures (more before the point where it is large), never "-0"."""
    if not math.isfinite(value) or value == 0:
        return f"{value + 0.0:g}"
    decimals = max(0, figures - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


# --- classes and owners -------------------------------------------------------

def layer_name(name: str) -> str:
    """A model's layer in words: `hidden.0.linear` -> "hidden layer 1 · weights", `out` -> "output layer".
    A numbered part (blocks.1) is counted from one; a part without words here keeps its own name."""
    parts, words = str(name).split("."), []
    while parts:
        part = parts.pop(0)
        if parts and parts[0].isdigit() and has(f"layer.{part}_n"):
            words.append(t(f"layer.{part}_n", n=int(parts.pop(0)) + 1))
        else:
            words.append(t(f"layer.{part}") if has(f"layer.{part}") else part)
    return " · ".join(words)


def class_name(name) -> str:
    """A class as the reader calls it: the toy sets' "class 0" -> "类别 0", "setosa" -> "山鸢尾"; others as they are."""
    text = str(name)
    found = _ENGINE_CLASS.fullmatch(text)
    if found:
        return t("class.numbered", n=found[1])
    return t(f"class.{text}") if has(f"class.{text}") else text


def owner_name(owner: str) -> str:
    """Who started a run: the participant's name, or "anonymous" in the reader's language."""
    return t("owner.anonymous") if room.is_anonymous(owner) else owner


def session_owner() -> str:
    """The owner a run started from this session is stored with: its seat's name (modelkit.ui.seat),
    else its browser's guest (modelkit.room.seats.guest_owner; a new one when it has none yet)."""
    seat = st.session_state.get(SEAT_STATE)
    if seat:
        return seat["name"]
    if room.guest_owner(st.session_state.get(GUEST_STATE)) is None:
        st.session_state[GUEST_STATE] = room.new_guest()
    return room.guest_owner(st.session_state[GUEST_STATE])


# --- settings and run names ---------------------------------------------------

def setting_value(path: str, value) -> str:
    """One setting's value in words: a choice by its title (Adam), lists as 32×16, numbers as 0.01."""
    field = path.rsplit(".", 1)[-1]
    if isinstance(value, str) and has(f"choice.{field}.{value}", "en"):
        return t(f"choice.{field}.{value}")
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value) or "–"
    if isinstance(value, float):
        return f"{value:g}"
    return "–" if value is None else str(value)


def setting_text(path: str, value) -> str:
    """One setting as a run's label shows it: a choice alone (Adam), anything else after its field's title."""
    field = path.rsplit(".", 1)[-1]
    if isinstance(value, str) and has(f"choice.{field}.{value}", "en"):
        return setting_value(path, value)
    if isinstance(value, str) and len(value) > 16:   # a whole text: its field's title says enough
        return t(f"field.{path}")
    return f"{t(f'field.{path}')} {setting_value(path, value)}"


def run_name(config: RunConfig, previous: RunConfig | None = None) -> str:
    """A run's readable name: task · architecture · what differs from `previous` (the same participant's
    last run of that pair), else from the pair's defaults (the first few; a setting left empty, such as no
    epoch limit under a time limit, goes without saying)."""
    query = config_to_query(config)
    changed = {path: json.loads(value) for path, value in query.items() if "." in path and path != TEXT_REF}
    if previous is not None:
        before = config_to_query(previous)
        changed = {path: value for path, value in changed.items() if query[path] != before.get(path)} \
            | {path: getattr(getattr(config, path.split(".")[0]), path.split(".")[1])
               for path in before if "." in path and path not in query and path != TEXT_REF}   # back to a default
    words = [setting_text(path, value) for path, value in changed.items() if value is not None]
    if TEXT_REF in query and (previous is None or TEXT_REF not in config_to_query(previous)):
        words.insert(0, t("field.task.text"))
    return " · ".join([task_title(config.task.name), t(f"arch.{config.arch}.title"), *words[:NAME_SETTINGS]])


def run_titles(runs) -> dict[str, str]:
    """Each run's name, made now in the reader's language: a name given when it was started (Compare and
    sweeps give one) as it is; else task · architecture · what differs from its participant's previous run
    of that pair, and a repeat of the same settings numbered (#2, #3...)."""
    titles, before = {}, {}   # (owner, task, arch) -> configs of earlier runs, oldest first
    for run in sorted(runs, key=lambda r: (r.created is None, r.created)):
        if run.name:
            titles[run.id] = run.name
            continue
        try:
            config = RunConfig.from_dict(run.config)
        except ConfigError:   # its uploaded data was deleted since
            titles[run.id] = " · ".join([task_title(run.task), t(f"arch.{run.arch}.title")])
            continue
        earlier = before.setdefault((run.owner, run.task, run.arch), [])
        same = sum(1 for c in earlier if c.to_dict() == config.to_dict())
        name = run_name(config, earlier[-1] if earlier and not same else None)
        titles[run.id] = t("runs.repeat", name=name, n=same + 1) if same else name
        earlier.append(config)
    return titles


def task_title(name: str, tl=None) -> str:
    """A task's title: a built-in task's translation, an uploaded dataset's file name."""
    tl = tl or t
    ds = uploads.from_task(name)
    if ds is not None:
        return tl("data.title", name=ds.name)
    if name.startswith(uploads.PREFIX):   # deleted since
        return tl("data.title", name=name)
    return tl(f"task.{name}.title")


def task_description(name: str) -> str:
    ds = uploads.from_task(name)
    if ds is None:
        return t(f"task.{name}.desc")
    if ds.kind == "text":
        return t("data.desc.text", n=f"{ds.rows:,}")
    if ds.kind == "images":
        return t("data.desc.images", n=f"{ds.rows:,}", classes=len(ds.class_names))
    if ds.kind == "series":
        return t("data.desc.series", n=f"{ds.rows:,}", targets=ds.target.replace(",", ", "),
                 inputs=", ".join(ds.series.get("inputs", ())))
    what = t("data.kind.regression") if ds.task_kind == "regression" else \
        t("data.kind.classification", classes=len(ds.class_names))
    return t("data.desc.table", n=f"{ds.rows:,}", columns=ds.columns, target=ds.target, what=what)


# --- the engine's other words: how a run ended, the text it learns, form defaults -----------

CORPUS_OF_LANGUAGE = {"zh": "zh"}                # a page in Chinese writes Chinese; every other one, English


def run_message(run) -> str:
    """How the run ended, in the session's language (older runs: the English they were stored with)."""
    return messages.run_text(run, current())


def class_names(names) -> list[str]:
    return [class_name(n) for n in names]


def text_source(task_cfg: TaskConfig) -> str:
    """What the text task learns from: an uploaded file, the reader's own text, or which bundled one, and
    how long it is."""
    ds = uploads.from_task(task_cfg.name)
    if ds is not None:
        return t("task.text.file", file=ds.name, n=f"{ds.rows:,}")
    if task_cfg.text:
        return t("task.text.own", n=f"{len(task_cfg.text):,}")
    text = tasks.corpus_text(task_cfg.corpus)
    poems = f"{len(tasks.tang_poems()):,}" if task_cfg.corpus == "zh" else ""
    return t(f"task.text.corpus.{task_cfg.corpus}", n=f"{len(text):,}", poems=poems)


def localized(config: RunConfig, lang: str | None = None) -> RunConfig:
    """Fresh form defaults in the page's language: on a Chinese page the text task learns Chinese.

    Only for defaults and presets; a config from a link or a stored run keeps the corpus it names."""
    corpus = CORPUS_OF_LANGUAGE.get(lang or current(), "en")
    if config.task.name == "text" and not config.task.text:
        config.task.corpus = corpus
    return config
