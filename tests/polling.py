"""What tests use to wait on other threads and processes: one poll-until-deadline loop, one free port."""
from __future__ import annotations

import socket
import time


def wait_until(condition, timeout: float, every: float = 0.05, what: str = "the condition", alive=None):
    """Poll `condition` until it returns something true, and return that value.

    Fails the test after `timeout` seconds, saying `what` never came true; with `alive` (e.g. a process's
    "still running"), fails at once when the thing waited on has ended."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert alive is None or alive(), f"{what}: what it waited on ended first"
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(every)


def free_port() -> int:
    """A loopback TCP port that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Something accepts TCP connections on this loopback port now."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
