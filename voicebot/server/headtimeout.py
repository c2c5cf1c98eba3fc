"""A deadline on reading each request head (issue 17: slow-header "slowloris" clients).

uvicorn (0.55, h11 protocol, as ``voicebot serve`` runs it) has no header-read timeout: a connection that
never finishes its request line and headers stays open for ever (``timeout_keep_alive`` only runs between
requests, and any byte cancels it), so a few hundred such connections use up the process's file
descriptors. :func:`head_timeout_protocol` returns uvicorn's h11 protocol with one timer more: from the
moment a connection opens (and again after each response on a kept-alive connection) the whole request
head must arrive within ``timeout_s`` seconds, else the connection is closed. Bodies are not covered
(their size is capped by :mod:`voicebot.server.limits`); a reverse proxy in front should still buffer
requests (nginx ``client_header_timeout`` / ``client_body_timeout``).
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0


def head_timeout_protocol(timeout_s: float = DEFAULT_TIMEOUT_S) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a ``timeout_s`` deadline on each request head (pass it as ``http=``)."""
    if timeout_s <= 0:
        raise ValueError("timeout_s must be positive")

    class HeadTimeoutProtocol(H11Protocol):
        head_timeout_s = timeout_s
        head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # the head is in: the request is under way
                self._cancel_head_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm_head_timer()  # a kept-alive connection: the next head has the same deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self.head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _head_timed_out(self) -> None:
            self.head_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            log.debug(  # not info: an attack would fill the log
                "closed a connection from %s: no complete request head within %g s",
                self.client[0] if self.client else "?",
                self.head_timeout_s,
            )
            self.transport.close()

    return HeadTimeoutProtocol
