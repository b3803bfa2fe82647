"""The host and their key: MODELKIT_HOST_KEY, else one made once under MODELKIT_HOME."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from modelkit import settings
from modelkit.settings import HOST_KEY_ENV  # noqa: F401  (the room's face names it)

log = logging.getLogger(__name__)


HOST_KEY_FILE = "host_key"


def host_key(home: Path | None = None) -> str:
    """The room's host key: MODELKIT_HOST_KEY, else the one kept under MODELKIT_HOME (made at first use)."""
    given = settings.host_key()
    if given:
        return given
    path = Path(home or settings.home()) / HOST_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{HOST_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # readable by its owner only
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(9) + "\n")
    try:
        os.link(draft, path)   # atomic: of two processes starting together, the first key wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def is_host_key(typed: str | None, home: Path | None = None) -> bool:
    return bool(typed) and secrets.compare_digest(typed.strip().encode(), host_key(home).encode())


def announce_host_key(home: Path | None = None) -> str:
    """Write the key to the server log (once per server: the caller caches it) and return it."""
    key = host_key(home)
    log.warning("modelkit host key: %s  (type it under 'Host' in the sidebar to open the Host page)", key)
    return key
