"""``python -m consult.realtime.server``: Daphne with the limits a public WebSocket server needs (what ``serve`` runs).

Takes Daphne's own command line (``python -m consult.realtime.server -b 0.0.0.0 -p 8000 consult.asgi:application``) and
changes this, each documented in README ("Live events" and "Scaling out") and chat/PROTOCOL.md ("Limits"):

- **Frames over the limit close with 4413, never a TCP drop.** Daphne's (autobahn's) own cap is set to
  ``--websocket-max-message-size`` 65 536 bytes (Daphne's default is 1 MiB) and a message over it is answered
  with a close frame ``4413`` (autobahn would send 1009 and drop the connection, which clients see as 1006).
  The sockets' own limits (16 KiB chat, 4 KiB live) are below it and close with 4413 too.
- **A client that does not read is closed.** When more than ``--websocket-max-unread`` bytes (1 MiB) wait in a
  socket's send buffer, the server sends close ``4408`` and sends that socket nothing more; autobahn drops the
  connection when the close is not answered within its close-handshake timeout (1 s).
- **A client that floods faster than its socket is handled is closed**: more than ``--websocket-max-queued``
  (256) frames received and not yet handled close the socket with ``4429``.
- **1013 (try again later) gets through**: autobahn lets an application close only with 1000 or 3000-4999;
  ``consult.realtime.socket_outage`` closes with 1013 while Redis is down, and this server sends it.
- **SIGTERM (a deploy) closes every WebSocket with 1001 (going away)** and waits up to 3 s for the closes before
  the process exits; clients reconnect to the other processes.
- **Slow request headers time out**: a connection that sends nothing for ``--http-idle-timeout`` seconds (15)
  while its request headers are incomplete, or while idle between requests, is closed (Daphne: never; Twisted's
  default is 12 hours). A WebSocket handshake must complete within Daphne's ``--websocket_connect_timeout`` (5 s
  here, Daphne: 20 s).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer
from twisted.internet import reactor as _reactor

from consult.realtime.socket_outage import CLOSE_TRY_AGAIN_LATER

reactor: Any = _reactor  # the installed reactor (Daphne's asyncio one); Twisted types the module, not it

logger = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_FRAME_TOO_LARGE = 4413
CLOSE_SLOW_READER = 4408
CLOSE_FLOODING = 4429

DEFAULTS = [
    "--websocket-max-message-size",
    "65536",
    "--websocket-max-frame-size",
    "65536",
    "--websocket_connect_timeout",
    "5",
]
SHUTDOWN_GRACE_S = 3.0


class Limits:
    max_unread = 1024 * 1024
    max_queued = 256
    http_idle_timeout = 15.0


def _unread_bytes(transport: Any) -> int:
    """Bytes Twisted holds for the peer that it has not yet taken (abstract.FileDescriptor's buffers)."""
    buffered = len(getattr(transport, "dataBuffer", b"")) - int(getattr(transport, "offset", 0))
    return buffered + int(getattr(transport, "_tempDataLen", 0))


class GuardedWebSocketProtocol(WebSocketProtocol):  # type: ignore[misc]
    slow = False

    def _max_message_size_exceeded(self, msg_size: int, max_msg_size: int, reason: str) -> None:
        self._fail_connection(CLOSE_FRAME_TOO_LARGE, "frame too large")

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        queue = getattr(self, "application_queue", None)
        if queue is not None and queue.qsize() >= Limits.max_queued:
            if self.state == self.STATE_OPEN:
                self.sendClose(code=CLOSE_FLOODING)
            return
        super().onMessage(payload, isBinary)

    def serverClose(self, code: int | None = None) -> None:
        # autobahn's sendClose() refuses 1013 (it allows 1000 and 3000-4999 only); consult.realtime.socket_outage closes
        # with it while Redis is down, and a registered code is the application's to send.
        if code == CLOSE_TRY_AGAIN_LATER and self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=code, isReply=False)
            return
        super().serverClose(code)

    def serverSend(self, content: str | bytes, binary: bool = False) -> None:
        if self.slow:
            return
        if self.state == self.STATE_OPEN and _unread_bytes(self.transport) > Limits.max_unread:
            self.slow = True
            self.sendClose(code=CLOSE_SLOW_READER)
            return
        super().serverSend(content, binary)


class GuardedServer(Server):  # type: ignore[misc]
    def run(self) -> None:
        reactor.callWhenRunning(self._tune)
        reactor.addSystemEventTrigger("before", "shutdown", self._going_away)
        super().run()

    def _tune(self) -> None:
        self.ws_factory.protocol = GuardedWebSocketProtocol
        self.ws_factory.setProtocolOptions(failByDrop=False)
        self.http_factory.timeOut = Limits.http_idle_timeout

    def _going_away(self) -> defer.Deferred[None] | None:
        sockets = [
            protocol
            for protocol in list(self.connections)
            if isinstance(protocol, WebSocketProtocol) and protocol.state == protocol.STATE_OPEN
        ]
        logger.info("shutting down: closing %d WebSocket(s) with %d", len(sockets), CLOSE_GOING_AWAY)
        for protocol in sockets:
            # sendCloseFrame: autobahn's sendClose() refuses 1001 (it allows 1000 and 3000-4999 only)
            protocol.sendCloseFrame(code=CLOSE_GOING_AWAY, isReply=False)
        if not sockets:
            return None
        done: defer.Deferred[None] = defer.Deferred()
        deadline = time.monotonic() + SHUTDOWN_GRACE_S

        def check() -> None:
            if time.monotonic() > deadline or all(p.state == p.STATE_CLOSED for p in sockets):
                done.callback(None)
            else:
                reactor.callLater(0.05, check)

        check()
        return done


class GuardedCommandLine(CommandLineInterface):  # type: ignore[misc]
    server_class = GuardedServer


def main(argv: list[str]) -> None:
    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--websocket-max-unread", type=int, default=Limits.max_unread)
    ours.add_argument("--websocket-max-queued", type=int, default=Limits.max_queued)
    ours.add_argument("--http-idle-timeout", type=float, default=Limits.http_idle_timeout)
    options, rest = ours.parse_known_args(argv)
    Limits.max_unread = options.websocket_max_unread
    Limits.max_queued = options.websocket_max_queued
    Limits.http_idle_timeout = options.http_idle_timeout
    GuardedCommandLine().run([*DEFAULTS, *rest])  # options given on the command line win over DEFAULTS


if __name__ == "__main__":
    main(sys.argv[1:])
