"""Failed-token limits per client address (issue 17).

:class:`FailedLogins` counts bearer tokens that were presented and refused, per client address. Once an
address reaches ``max_failures`` within ``window_s`` seconds it is locked for ``window_s`` seconds from
that failure: every staff request from it is answered 429 with ``Retry-After`` (without looking at the
token, so guessing cannot go on); other addresses are not affected. A request without any token is not a
failure (the console asks before anyone has logged in). Each lockout is logged once, with the address and
the count, never the token.

The address is the ASGI scope's ``client`` (``request.client.host``). Behind a reverse proxy the server
must set it from ``X-Forwarded-For`` for the proxy's addresses only (``voicebot serve``: the
``security.trusted_proxies`` setting); otherwise every client would share the proxy's lockout.

The object is owned by :class:`outbound.api.Auth` (one per server) and is thread-safe: synchronous routes
run their dependencies in a thread pool.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAX_TRACKED = 10_000  # addresses remembered at once (a spread-out attack must not grow memory without end)


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 10  # refused tokens from one address within the window ...
    window_s: int = 60  # ... lock it for this long


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class FailedLogins:
    def __init__(self, limits: LoginLimits = LoginLimits(), clock: Callable[[], float] = time.monotonic):
        if limits.max_failures < 1 or limits.window_s < 1:
            raise ValueError("max_failures and window_s must be at least 1")
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    # --- counting ---------------------------------------------------------------------------------

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it is not locked."""
        now = self.clock()
        with self._lock:
            record = self._records.get(address)
            if record is None or record.locked_until <= now:
                return None
            return max(1, math.ceil(record.locked_until - now))

    def failed(self, address: str) -> None:
        """Count a refused token from ``address``; the failure that reaches the limit starts the lock."""
        now = self.clock()
        window = self.limits.window_s
        with self._lock:
            record = self._records.get(address)
            if record is None:
                self._make_room(now)
                record = self._records[address] = _Record()
            elif record.locked_until and record.locked_until <= now:
                record.failures.clear()  # the lock has run out: a fresh window
                record.locked_until = 0.0
            record.failures = [t for t in record.failures if t > now - window] + [now]
            if len(record.failures) >= self.limits.max_failures and not record.locked_until:
                record.locked_until = now + window
                count = len(record.failures)
                log.warning(
                    "login: %s locked for %d s after %d failed token(s) within %d s",
                    address,
                    window,
                    count,
                    window,
                )

    def _make_room(self, now: float) -> None:
        if len(self._records) < MAX_TRACKED:
            return
        window = self.limits.window_s
        for address in [a for a, r in self._records.items() if _stale(r, now, window)]:
            del self._records[address]
        if len(self._records) >= MAX_TRACKED:  # still full: forget the quietest
            oldest = sorted(self._records, key=lambda a: self._records[a].failures[-1])
            for address in oldest[: len(oldest) // 10 or 1]:
                del self._records[address]


def _stale(record: _Record, now: float, window: int) -> bool:
    return record.locked_until <= now and (not record.failures or record.failures[-1] <= now - window)
