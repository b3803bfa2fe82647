"""Texts too long for a link, kept once by their content under MODELKIT_HOME/blobs.

    ref = put(text)     # "3f2a9c0d1e4b5a67": the first 16 hex digits of its SHA-256
    get(ref)            # the text again, or None when no such text is kept

A settings link carries the reference instead of the text (task.text_ref=...), so
every link stays short; the same text is stored once however often it is shared.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from modelkit import settings

REF = re.compile(r"^[0-9a-f]{16}$")


def _folder() -> Path:
    return settings.home() / "blobs"


def put(text: str) -> str:
    data = text.encode("utf-8")
    ref = hashlib.sha256(data).hexdigest()[:16]
    path = _folder() / f"{ref}.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)   # atomic: a reader sees no text or the whole text
    return ref


def get(ref: str) -> str | None:
    if not isinstance(ref, str) or not REF.match(ref):
        return None
    try:
        return (_folder() / f"{ref}.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
