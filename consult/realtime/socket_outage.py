"""WebSockets while Redis is down: a handshake is answered ``1013`` (try again later), never HTTP 500.

Every socket needs the channel layer (Redis pub/sub) from its first step: Channels subscribes the socket's own
channel before the consumer runs, and the consumers join their groups before they greet. While Redis is down
those steps raise ``redis.ConnectionError``; uncaught, Daphne answers the handshake with HTTP 500, which a
browser reports as a failed connection with no reason. This wrapper catches the layer's connection errors
around the whole socket:

- during the handshake, it accepts and closes at once with ``1013`` ("try again later", RFC 6455), so a
  client can tell "the server is restarting a part" from "refused" and reconnect with backoff
  (chat/PROTOCOL.md, "Closing codes");
- on an open socket (a join or a leave that met the outage), it closes with ``1013`` too;
- after the client has left (a ``group_discard`` in ``disconnect`` that met the outage), it does nothing.

Each outage is logged once (a warning), not once per socket; the next socket that gets as far as sending a
frame ends the outage for the log. Surviving sockets are not touched: redis-py resubscribes the layer's
subscriptions when Redis is back (docs/decisions/0011-redis-restarts.md).
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013
LAYER_DOWN = (RedisConnectionError, RedisTimeoutError)

_outage_logged = False


class TryAgainWhenRedisIsDown:
    """ASGI middleware for the ``websocket`` scope (``consult.asgi`` puts it outside everything else)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        state = {"accepted": False, "closed": False, "gone": False}

        async def watched_receive() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] == "websocket.disconnect":
                state["gone"] = True
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            global _outage_logged
            kind = message["type"]
            if kind == "websocket.accept":
                state["accepted"] = True
            elif kind == "websocket.close":
                state["closed"] = True
            elif kind == "websocket.send":
                _outage_logged = False  # a socket is up and talking: the layer works again
            await send(message)

        try:
            await self.app(scope, watched_receive, watched_send)
        except LAYER_DOWN as error:
            _log_outage(error)
            if state["gone"] or state["closed"]:
                return
            if not state["accepted"]:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})


def _log_outage(error: Exception) -> None:
    global _outage_logged
    if not _outage_logged:
        _outage_logged = True
        logger.warning(
            "Redis (channel layer) unavailable: WebSockets are closed with 1013 until it is back (%s: %s)",
            type(error).__name__,
            error,
        )
