"""What every WebSocket of the platform (``/ws/live/``, ``/ws/consultations/<id>/``) obeys besides its protocol.

- **The session.** A socket lives only as long as the session it was opened with. It joins the group
  ``user-sockets.<user id>``; logging out, deactivating the user, changing the password (``consult.realtime.revocation``
  publishes ``session.revoked`` there after commit, from any process) makes every socket of that user re-check
  its session at once, and a socket whose session is gone, expired, or no longer matches the user (inactive,
  other password) is closed with ``4401``. Each socket also re-checks by itself when its session expires and
  every ``SOCKET_SESSION_RECHECK_SECONDS`` (60), which catches what no signal announces (a bulk ``update()``,
  ``clearsessions``).
- **A budget per frame type.** Each socket has a token bucket per frame type (``FrameBudget``); a frame over
  its budget is dropped and answered by one ``error`` ``rate_limited`` with ``retry_after`` (seconds) — only
  the first refusal of a run is answered, so a flood gets no flood back. ``SOCKET_FLOOD_CLOSE_AFTER`` (200)
  refused frames in a row close the socket with ``4429``.
- **Sockets per user.** At most ``SOCKETS_PER_USER`` (30) sockets of one user on one server process, both kinds
  together; one more is accepted and closed with ``4429``. The cap is per process: with N Daphne processes a
  user can hold N × 30.

The outgoing side (a client that does not read) and frames over Daphne's own limit are bounded by the server
process itself (``consult.realtime.server``), because only it sees the transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from consult.realtime import revocation

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY = 4429  # too many sockets for this user, or a socket that keeps flooding over its budget

_open_by_user: dict[int, int] = defaultdict(int)  # this process's sockets per user


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> float:
        """0.0 when a token was taken; otherwise the seconds until one is there."""
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FrameBudget:
    """Token buckets per frame type: ``{type: (per second, burst)}``; unknown types share ``"other"``."""

    def __init__(self, limits: Mapping[str, tuple[float, float]]) -> None:
        self.buckets = {name: Bucket(rate, burst) for name, (rate, burst) in limits.items()}
        self.refused_in_a_row = 0
        self.answered: set[str] = set()

    def spend(self, frame_type: str) -> float:
        bucket = self.buckets.get(frame_type) or self.buckets["other"]
        wait = bucket.take(time.monotonic())
        if wait:
            self.refused_in_a_row += 1
        else:
            self.refused_in_a_row = 0
            self.answered.discard(frame_type)
        return wait

    def first_refusal(self, frame_type: str) -> bool:
        """Whether this refusal is the first of its run for the type (the only one that is answered)."""
        if frame_type in self.answered:
            return False
        self.answered.add(frame_type)
        return True

    @property
    def flooding(self) -> bool:
        return self.refused_in_a_row >= settings.SOCKET_FLOOD_CLOSE_AFTER


def user_group(user_id: int) -> str:
    return revocation.user_group(user_id)


class SessionGuard:
    """Mixed into a consumer: call ``guard_open`` after accepting, ``guard_close`` in ``disconnect``."""

    user: Any
    channel_name: str
    channel_layer: Any
    scope: dict[str, Any]

    async def guard_open(self) -> bool:
        """Count the socket and watch its session; ``False`` (and the socket closed) when over the cap."""
        user_id = int(self.user.pk)
        self._guard_counted = True
        _open_by_user[user_id] += 1
        if _open_by_user[user_id] > settings.SOCKETS_PER_USER:
            await self.close(code=CLOSE_TOO_MANY)  # type: ignore[attr-defined]
            return False
        session = self.scope.get("session")
        self._session_key = getattr(session, "session_key", None)
        await self.channel_layer.group_add(user_group(user_id), self.channel_name)
        self._guard_task = asyncio.get_running_loop().create_task(self._watch_session())
        return True

    async def guard_close(self) -> None:
        task = getattr(self, "_guard_task", None)
        if task is not None:
            task.cancel()
        if getattr(self, "_guard_counted", False):
            self._guard_counted = False
            user_id = int(self.user.pk)
            _open_by_user[user_id] -= 1
            if _open_by_user[user_id] <= 0:
                del _open_by_user[user_id]
            if getattr(self, "_guard_task", None) is not None:
                with contextlib.suppress(Exception):
                    await self.channel_layer.group_discard(user_group(user_id), self.channel_name)

    async def session_revoked(self, message: dict[str, Any]) -> None:
        """``session.revoked`` on ``user-sockets.<id>``: this session was ended, or the user changed."""
        revoked_key = message.get("session_key")
        if revoked_key and revoked_key == self._session_key:
            await self._end_session()
            return
        if not await self._session_valid():
            await self._end_session()

    async def _watch_session(self) -> None:
        while True:
            wait = float(settings.SOCKET_SESSION_RECHECK_SECONDS)
            try:
                expires = await database_sync_to_async(revocation.session_expiry)(self._session_key)
                if expires is not None:
                    wait = min(wait, max(0.0, (expires - timezone.now()).total_seconds()) + 0.2)
                await asyncio.sleep(wait)
                valid = await self._session_valid()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: keep the socket, look again at the next round
                await asyncio.sleep(wait)
                continue
            if not valid:
                await self._end_session()
                return

    async def _session_valid(self) -> bool:
        user_id = await database_sync_to_async(revocation.session_user_id)(self._session_key)
        return user_id is not None and user_id == self.user.pk

    async def _end_session(self) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)  # type: ignore[attr-defined]
