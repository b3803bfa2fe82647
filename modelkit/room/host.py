"""The host and their key (MODELKIT_HOST_KEY, else one made once under MODELKIT_HOME), the token that keeps
a browser the host, the wait after wrong keys, and the room's address as participants reach it."""
from __future__ import annotations

import collections
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

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


# --- staying the host through a reload: a session token in the host's browser, never the key ---------

HOST_COOKIE = "modelkit_host"     # the cookie that keeps a browser the host until it leaves host mode
FREE_TRIES = 3                    # wrong keys a session may type before it must wait
MAX_WAIT_S = 300.0


def _token_key(token: str, home: Path | None = None) -> str:
    """Where a host token is kept (a hash of it and the key: a new key ends every host session)."""
    digest = hashlib.sha256(f"{host_key(home)}\n{token}".encode()).hexdigest()[:32]
    return f"host_session.{digest}"


def open_host_session(store) -> str:
    """A new token for a browser that typed the key; the store keeps only its hash."""
    token = secrets.token_urlsafe(24)
    store.set_setting(_token_key(token, store.home), f"{time.time():.0f}")
    return token


def is_host_session(store, token: str | None) -> bool:
    return bool(token) and store.setting(_token_key(token, store.home)) is not None


def close_host_session(store, token: str | None):
    if token:
        store.set_setting(_token_key(token, store.home), None)


def key_wait(wrong: int) -> float:
    """Seconds a session waits before its next try after `wrong` wrong keys: none for the first few,
    then 5 s, doubling each time up to five minutes."""
    return 0.0 if wrong < FREE_TRIES else min(MAX_WAIT_S, 5.0 * 2 ** (wrong - FREE_TRIES))


class RoomKeyGuard:
    """Wrong keys of the whole server: past `tries` within `window` seconds every session waits, so that
    opening new sessions (a reload is one) does not buy more guesses. One per server process."""

    def __init__(self, tries: int = 20, window: float = 60.0):
        self.tries, self.window = tries, window
        self._wrong: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def wrong(self, now: float):
        with self._lock:
            self._wrong.append(now)

    def wait(self, now: float) -> float:
        """Seconds until the server takes a key again (0: now)."""
        with self._lock:
            while self._wrong and now - self._wrong[0] > self.window:
                self._wrong.popleft()
            if len(self._wrong) < self.tries:
                return 0.0
            return self._wrong[-self.tries] + self.window - now


# --- the room's address as participants reach it -----------------------------------------------

PUBLIC_URL_ENV = "MODELKIT_PUBLIC_URL"
LOOPBACK = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def network_address() -> str | None:
    """This machine's address on its network (the one its default route leaves by); None when it has none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))   # no packet is sent: this only picks the outgoing interface
            address = s.getsockname()[0]
    except OSError:
        try:
            address = socket.gethostbyname(socket.gethostname())
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def join_url(page_url: str | None) -> str:
    """The address to hand out: MODELKIT_PUBLIC_URL, else the page's own with a loopback name replaced
    by this machine's network address (a phone that opens 127.0.0.1 reaches itself)."""
    given = settings.public_url()
    if given:
        return given.rstrip("/") + "/"
    parts = urlsplit(page_url or "http://localhost:8501/")
    host = parts.hostname or "localhost"
    if host in LOOPBACK:
        host = network_address() or host
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'http'}://{host}{port}/"


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether something accepts connections at `url`'s host and port, as a phone would connect."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not host or host in LOOPBACK:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
