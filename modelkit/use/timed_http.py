"""uvicorn's HTTP/1.1 protocol with a clock on each request's headers, so stalled half-sent requests are closed.

uvicorn (0.55) times out only idle keep-alive connections: one that sends half a request line and
then nothing stays open for ever, and a few thousand of them hold the server's sockets. Imported only
by serve.server_config, so that pages which show the service's curl line do not load uvicorn.
"""
from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_LATE = json.dumps({"error": "the request headers did not arrive in time"}).encode()
HEADERS_LATE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(_LATE), _LATE))


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers are not in after `header_timeout` s.

    uvicorn times out only idle keep-alive connections; one that sends half a request line stays open.
    The clock starts when the connection opens (or its previous answer is sent) and is not reset by a byte.
    """
    header_timeout = 10.0   # seconds; serve.server_config sets the service's own
    _header_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self._start_header_clock()

    def handle_events(self):
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._stop_header_clock()

    def on_response_complete(self):
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._start_header_clock()

    def connection_lost(self, exc):
        self._stop_header_clock()
        super().connection_lost(exc)

    def _start_header_clock(self):
        self._stop_header_clock()
        self._header_clock = self.loop.call_later(self.header_timeout, self._headers_late)

    def _stop_header_clock(self):
        if self._header_clock is not None:
            self._header_clock.cancel()
            self._header_clock = None

    def _headers_late(self):
        self._header_clock = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(HEADERS_LATE)
            self.transport.close()
