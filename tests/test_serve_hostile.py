"""serve under hostile requests: huge or endless numbers, deep nesting, oversized and stalled requests.

The service is `python -m modelkit serve` in a child process on a loopback port, with one-second header and
body timeouts, its log captured: each hostile request is answered with a 4xx and a one-line JSON error, the
log holds no traceback, and stalled half-sent requests are closed by the server while others are answered.
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from services import free_port
from trained import train_tiny

from modelkit.store import Store

ROOT = Path(__file__).resolve().parent.parent
STALLED = 50
ROW = "[" + ",".join(["0.5"] * 64) + "]"     # one 8x8 digits image, flattened


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """(port, log path) of a digits MLP served by the CLI with 1 s timeouts; stopped after the module."""
    home = tmp_path_factory.mktemp("home")
    run_id = train_tiny(Store(home=home), "digits", "mlp")
    port, log = free_port(), home / "serve.log"
    env = {**os.environ, "MODELKIT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        child = subprocess.Popen([sys.executable, "-m", "modelkit", "serve", run_id, "--port", str(port),
                                  "--header-timeout", "1", "--body-timeout", "1"], stdout=out, stderr=out, env=env)
    deadline = time.monotonic() + 120
    while True:
        assert child.poll() is None and time.monotonic() < deadline, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield port, log
    child.terminate()
    child.wait(timeout=30)


def exchange(port: int, request: bytes) -> tuple[int, dict]:
    """(status, JSON answer) of one raw request on its own connection, read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def post(port: int, body: bytes) -> tuple[int, dict]:
    return exchange(port, b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                          b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


HOSTILE = {
    "10^400 written out": ('{"inputs": [[1' + "0" * 400 + ", 0" * 63 + "]]}", "more than 40 characters"),
    "a 5,000-digit number": ('{"inputs": [[' + "7" * 5000 + ", 0" * 63 + "]]}", "more than 40 characters"),
    "1e400": ('{"inputs": [[1e400' + ", 0" * 63 + "]]}", "finite"),
    "a long fraction": ('{"inputs": [[0.' + "3" * 5000 + ", 0" * 63 + "]]}", "more than 40 characters"),
    "NaN": ('{"inputs": [[NaN' + ", 0" * 63 + "]]}", "finite"),
    "-Infinity": ('{"inputs": [[-Infinity' + ", 0" * 63 + "]]}", "finite"),
    "100k levels of nesting": ('{"inputs": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    "100k levels of objects": ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_body_gets_400_and_one_line_of_json(service, name):
    body, words = HOSTILE[name]
    status, answer = post(service[0], body.encode())
    assert status == 400 and words in answer["error"] and "\n" not in answer["error"]


def test_a_chunked_body_past_the_limit_is_cut_off_with_413(service):
    port, _ = service
    chunk = b"[" + b"0," * 32_767 + b"0]"          # 64 KiB
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(33):                            # just past the 2 MiB limit, never declared
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = s.recv(65536)
    assert int(answer.split()[1]) == 413


def stall(port: int, n: int) -> list[socket.socket]:
    """n connections, half of them stopped inside the headers and half inside a declared body."""
    sockets = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if i % 2:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"inputs\": ")
        else:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: loc")
        sockets.append(s)
    return sockets


def test_stalled_half_sent_requests_are_answered_408_and_closed_while_others_are_served(service):
    port, _ = service
    sockets = stall(port, STALLED)
    status, answer = post(port, ('{"inputs": [' + ROW + "]}").encode())
    assert status == 200 and len(answer["predictions"]) == 1
    closed = 0
    for s in sockets:
        with s:
            answer = b""
            while chunk := s.recv(65536):     # the server closes it; the 30 s socket timeout would fail the test
                answer += chunk
            closed += answer.startswith(b"HTTP/1.1 408")
    assert closed == STALLED
    status, _ = post(port, ('{"inputs": [' + ROW + "]}").encode())
    assert status == 200


def test_the_log_holds_no_traceback_after_every_hostile_request(service):
    port, log = service
    for body, _ in HOSTILE.values():
        post(port, body.encode())
    status, _ = post(port, ('{"inputs": [' + ROW + "]}").encode())
    assert status == 200
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "Exception" not in text, text[-3000:]
