"""How a run ended, in words every reader gets in their own language.

A `Message` is the English text that old readers, the CLI and `run.message` show,
and it remembers what it says as stable parts: a translation key (`message.<code>`)
with its parameters, e.g. message.completed {steps, epochs, seconds}. The store
keeps the parts in the run's details (`MESSAGE_KEY`), so a page shows the same
ending in Chinese with `text(lang)`. A parameter may itself be a part (a refusal's
`error.<code>`, how a worker died), translated in turn. Nothing here imports Streamlit.

    Message.of("completed", steps=40, epochs=2.0, seconds=1.3)   # "Finished 40 steps (2.0 epochs) in 1.3 s."
    message + Message.of("weights_not_saved", error="disk full")   # one message, two sentences
"""
from __future__ import annotations

from modelkit.text import DEFAULT, has, translate

MESSAGE_KEY = "message_parts"   # where a run's details keep its message's parts
FULL_WIDTH_ENDS = ("。", "！", "？", "；")


def part(key: str, **params) -> dict:
    """One translatable piece: a full translation key and the values its text needs."""
    return {"key": key, "params": params}


def render(piece: dict, lang: str = DEFAULT) -> str:
    """A part's text in `lang`, parts among its parameters rendered first."""
    params = {name: render(value, lang) if _is_part(value) else value
              for name, value in (piece.get("params") or {}).items()}
    return translate(lang, piece["key"], **params)


def _sentences(texts) -> str:
    """Sentences one after another: a space after English ones, none after a Chinese full stop."""
    out = ""
    for text in texts:
        out += ("" if not out or out.endswith(FULL_WIDTH_ENDS) else " ") + text
    return out


def _is_part(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("key"), str)


class Message(str):
    """The English words of a run's ending (a plain str for every old reader), with their parts."""

    parts: tuple

    def __new__(cls, *parts: dict):
        message = super().__new__(cls, _sentences(render(p) for p in parts))
        message.parts = tuple(parts)
        return message

    @classmethod
    def of(cls, code: str, **params) -> "Message":
        """The message `message.<code>` with `params`."""
        return cls(part(f"message.{code}", **params))

    def __add__(self, other):
        if isinstance(other, Message):
            return Message(*self.parts, *other.parts)
        return str(self) + other

    def __reduce__(self):   # copies and pickles rebuild it from its parts, not from its English text
        return Message, self.parts

    def text(self, lang: str = DEFAULT) -> str:
        return _sentences(render(p, lang) for p in self.parts)

    def to_json(self) -> list[dict]:
        return [dict(p) for p in self.parts]

    @classmethod
    def from_json(cls, data) -> "Message | None":
        """The message stored by `to_json`, or None for anything else (a run of an older modelkit)."""
        if not isinstance(data, list) or not data or not all(_is_part(p) for p in data):
            return None
        return cls(*data)


def of_run(run) -> Message | None:
    """The message a run's details keep with its parts; None where it has none (older runs, active runs)."""
    return Message.from_json((run.details or {}).get(MESSAGE_KEY))


def run_text(run, lang: str = DEFAULT) -> str:
    """A run's message in `lang`: from its parts where this modelkit knows them all, else the English
    it was stored with (a run of an older modelkit, or of a newer one with codes unknown here)."""
    message = of_run(run)
    if message is None or not all(has(p["key"]) for p in message.parts):
        return run.message
    return message.text(lang)


# --- the endings, one function each where a caller would otherwise spell out a code ---------------

def config_refused(error) -> Message:
    """The settings were refused (a ConfigError), with the refusal's own words in each language."""
    return Message.of("settings_refused", where=f"{error.path}: " if error.path else "",
                      reason=part(f"error.{error.code}", **error.params))


def failed(error: BaseException) -> Message:
    """Any other exception raised while training, by its name and text (technical words, shown as they are)."""
    return Message.of("failed_error", error=f"{type(error).__name__}: {error}")


def worker_died(exitcode: int | None, signal_name: str | None) -> Message:
    """The process training a run ended unexpectedly: killed, crashed, another signal, or an exit code."""
    if signal_name == "SIGKILL":
        how = part("message.how.killed")
    elif signal_name == "SIGSEGV":
        how = part("message.how.crashed")
    elif signal_name:
        how = part("message.how.signal", name=signal_name)
    else:
        how = part("message.how.exit", code=exitcode)
    return Message.of("worker_died", how=how)


OUT_OF_MEMORY = Message.of("out_of_memory")
INTERRUPTED = Message.of("interrupted")
STOPPED_BEFORE_START = Message.of("stopped_before_start")
STOP_KILLED = Message.of("stop_killed")
KEYBOARD = Message.of("keyboard")
