"""The words a person reads, from assets/i18n/<lang>.json: one source for the pages and the CLI.

The tables are flat: dotted keys ("train.start", "help.train.lr", "error.range") to
text with str.format fields. The engine names what it means by key (a refusal
carries `error.<code>` and its parameters); the pages translate through
`modelkit.ui.i18n.t`, the command line reads English through `translate("en", ...)`.
Nothing here imports Streamlit.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
I18N_DIR = Path(__file__).resolve().parents[1] / "assets" / "i18n"


@lru_cache(maxsize=None)
def table(lang: str) -> dict[str, str]:
    return json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def has(key: str, lang: str = DEFAULT) -> bool:
    return key in table(lang)


def translate(lang: str, key: str, **fmt) -> str:
    """The text for `key` in `lang` (English, then the key itself, if missing)."""
    text = table(lang).get(key)
    if text is None:
        text = table(DEFAULT).get(key, key)
    try:
        return text.format(**fmt) if fmt else text
    except (KeyError, IndexError, ValueError):   # a table whose fields drifted from the caller's
        return text
