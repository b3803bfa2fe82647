"""The engine's own words on the pages, in the reader's language.

The engine names things in English (a status, a class, how a run ended) and keeps
a stable key beside them; these turn them into the session's language at display:
status badges, class names, a run's message, the text a language model learns, and
the form defaults that follow the page's language.
"""
from __future__ import annotations

from modelkit import messages, tasks
from modelkit.config import RunConfig, TaskConfig
from modelkit.ui.i18n import current, t
from modelkit.ui.labels import class_name

CORPUS_OF_LANGUAGE = {"zh": "zh"}                # a page in Chinese writes Chinese; every other one, English


def status_word(status: str) -> str:
    """The short word for a run's status, as a badge or a table cell shows it (English: the status itself)."""
    return t(f"badge.{status}")


def run_message(run) -> str:
    """How the run ended, in the session's language (older runs: the English they were stored with)."""
    return messages.run_text(run, current())


def class_names(names) -> list[str]:
    return [class_name(n) for n in names]


def text_source(task_cfg: TaskConfig) -> str:
    """What the text task learns from: the reader's own text, or which bundled one, and how long it is."""
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
