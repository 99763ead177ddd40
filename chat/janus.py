"""A small client of Janus's API (WebSocket transport, ``janus-protocol``), for the VideoRoom plugin only.

Django controls Janus server-side with the API secret; browsers never talk to this API (they send their SDP over
the consultation's chat socket, ``chat.call_frames`` brokers it here, and only WebRTC media flows between a browser
and Janus). Two clients:

- :class:`JanusAdmin` (blocking, for services): create and destroy one room per call, with recording on and a
  recording folder per call. One short-lived session per operation.
- :class:`JanusSession` (asyncio, one per chat socket in a call): a Janus session that lives exactly as long as
  the socket (``close`` destroys it at once, instead of waiting for Janus's 60 s session timeout), with
  keepalives, request/answer matching by transaction, and the plugin's asynchronous events (``publishers``,
  ``unpublished``, ``leaving``, ``webrtcup``, ``hangup``) handed to a callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as connect_async
from websockets.sync.client import connect as connect_sync

logger = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
SUBPROTOCOL = "janus-protocol"
KEEPALIVE_S = 25.0  # Janus drops a session after 60 s without a request
REQUEST_TIMEOUT_S = 20.0


class JanusError(Exception):
    """Janus refused a request, could not be reached, or did not answer in time."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def _transaction() -> str:
    return secrets.token_hex(8)


def _check(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer when it is a success; a :class:`JanusError` for Janus's and the plugin's errors."""
    if answer.get("janus") == "error":
        error = answer.get("error") or {}
        raise JanusError(str(error.get("reason", "janus error")), code=error.get("code"))
    data = (answer.get("plugindata") or {}).get("data") or {}
    if "error_code" in data or "error" in data:
        raise JanusError(str(data.get("error", "plugin error")), code=data.get("error_code"))
    return answer


def plugin_data(answer: dict[str, Any]) -> dict[str, Any]:
    return dict((answer.get("plugindata") or {}).get("data") or {})


class JanusAdmin:
    """Blocking room control for services: ``create_room`` / ``destroy_room`` on one Janus host."""

    def __init__(self, url: str, secret: str, *, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def _videoroom(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            with connect_sync(self.url, subprotocols=[SUBPROTOCOL], open_timeout=self.timeout) as ws:  # type: ignore[list-item]

                def call(payload: dict[str, Any]) -> dict[str, Any]:
                    transaction = _transaction()
                    ws.send(json.dumps({**payload, "transaction": transaction, "apisecret": self.secret}))
                    while True:
                        answer = json.loads(ws.recv(timeout=self.timeout))
                        if answer.get("transaction") == transaction and answer.get("janus") != "ack":
                            return _check(answer)

                session = call({"janus": "create"})["data"]["id"]
                try:
                    handle = call({"janus": "attach", "session_id": session, "plugin": VIDEOROOM})["data"]["id"]
                    answer = call({"janus": "message", "session_id": session, "handle_id": handle, "body": body})
                    return plugin_data(answer)
                finally:
                    with contextlib.suppress(Exception):
                        call({"janus": "destroy", "session_id": session})
        except JanusError:
            raise
        except (OSError, TimeoutError, ValueError) as error:
            raise JanusError(f"Janus at {self.url} is not reachable: {error}") from error
        except Exception as error:  # websockets' own errors (closed, handshake)
            raise JanusError(f"Janus at {self.url} failed: {error}") from error

    def create_room(self, room: int, *, rec_dir: str, record: bool = True, description: str = "") -> None:
        self._videoroom(
            {
                "request": "create",
                "room": room,
                "admin_key": self.secret,
                "description": description[:100],
                "is_private": True,
                "publishers": 6,
                "audiocodec": "opus",
                "record": record,
                "rec_dir": rec_dir,
                "notify_joining": True,
                "permanent": False,
            }
        )

    def destroy_room(self, room: int) -> None:
        try:
            self._videoroom({"request": "destroy", "room": room, "secret": self.secret, "permanent": False})
        except JanusError as error:
            if error.code != 426:  # no such room: destroyed already (or Janus restarted)
                raise

    def rtp_forward(self, room: int, publisher: int, *, host: str, port: int, ssrc: int, mid: str = "0") -> None:
        """Forward one publisher's audio stream as plain RTP to ``host:port`` with our ``ssrc`` (live captions).
        Needs the admin key (``lock_rtp_forward``); Janus drops the forwarder when the publisher leaves."""
        stream = {"mid": mid, "host": host, "port": port, "ssrc": ssrc}
        body = {"request": "rtp_forward", "room": room, "publisher_id": publisher, "host": host, "streams": [stream]}
        self._videoroom({**body, "admin_key": self.secret})

    def ping(self) -> bool:
        """Whether Janus answers with the VideoRoom plugin loaded (``info`` needs no session)."""
        try:
            with connect_sync(self.url, subprotocols=[SUBPROTOCOL], open_timeout=3) as ws:  # type: ignore[list-item]
                ws.send(json.dumps({"janus": "info", "transaction": "ping", "apisecret": self.secret}))
                answer = json.loads(ws.recv(timeout=3))
        except Exception:
            return False
        return answer.get("janus") == "server_info" and VIDEOROOM in (answer.get("plugins") or {})

    def room_exists(self, room: int) -> bool:
        return bool(self._videoroom({"request": "exists", "room": room}).get("exists"))


EventCallback = Callable[[dict[str, Any]], Awaitable[None]]


class JanusSession:
    """One Janus session on its own WebSocket, for one chat socket (asyncio)."""

    def __init__(self, url: str, secret: str, on_event: EventCallback) -> None:
        self.url, self.secret, self.on_event = url, secret, on_event
        self.ws: ClientConnection | None = None
        self.session_id: int | None = None
        self._pending: dict[str, tuple[asyncio.Future[dict[str, Any]], bool]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False

    async def open(self) -> None:
        try:
            self.ws = await connect_async(self.url, subprotocols=[SUBPROTOCOL], open_timeout=REQUEST_TIMEOUT_S)  # type: ignore[list-item]
        except Exception as error:
            raise JanusError(f"Janus at {self.url} is not reachable: {error}") from error
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._keepalive())]
        self.session_id = (await self.request({"janus": "create"}))["data"]["id"]

    async def attach(self) -> int:
        answer = await self.request({"janus": "attach", "session_id": self.session_id, "plugin": VIDEOROOM})
        return int(answer["data"]["id"])

    async def message(self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """A plugin request that answers with an event (join, configure, start): the event, with its ``jsep``."""
        payload: dict[str, Any] = {"janus": "message", "session_id": self.session_id, "handle_id": handle, "body": body}
        if jsep is not None:
            payload["jsep"] = jsep
        return await self.request(payload, event=True)

    async def trickle(self, handle: int, candidate: dict[str, Any]) -> None:
        payload = {"janus": "trickle", "session_id": self.session_id, "handle_id": handle, "candidate": candidate}
        await self.request(payload)

    async def detach(self, handle: int) -> None:
        await self.request({"janus": "detach", "session_id": self.session_id, "handle_id": handle})

    async def request(self, payload: dict[str, Any], *, event: bool = False) -> dict[str, Any]:
        if self.ws is None or self.closed:
            raise JanusError("the Janus session is closed")
        transaction = _transaction()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = (future, event)
        try:
            await self.ws.send(json.dumps({**payload, "transaction": transaction, "apisecret": self.secret}))
            return _check(await asyncio.wait_for(future, REQUEST_TIMEOUT_S))
        except TimeoutError as error:
            raise JanusError(f"Janus did not answer {payload.get('janus')!r} in time") from error
        except JanusError:
            raise
        except Exception as error:
            raise JanusError(f"Janus connection failed: {error}") from error
        finally:
            self._pending.pop(transaction, None)

    async def _read(self) -> None:
        if self.ws is None:
            return
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                pending = self._pending.get(str(message.get("transaction", "")))
                if pending is not None:
                    future, wants_event = pending
                    if message.get("janus") == "ack" and wants_event:
                        continue  # the plugin's event follows with the same transaction
                    if not future.done():
                        future.set_result(message)
                    continue
                if message.get("janus") in ("ack", "success"):
                    continue
                try:
                    await self.on_event(message)
                except Exception:
                    logger.exception("a Janus event could not be handled")
        except Exception as error:
            logger.info("Janus connection closed: %s", error)
        finally:
            self.closed = True
            for future, _ in self._pending.values():
                if not future.done():
                    future.set_exception(JanusError("Janus went away"))
            with contextlib.suppress(Exception):
                await self.on_event({"janus": "gone"})

    async def _keepalive(self) -> None:
        while not self.closed:
            await asyncio.sleep(KEEPALIVE_S)
            with contextlib.suppress(JanusError):
                await self.request({"janus": "keepalive", "session_id": self.session_id})

    async def close(self) -> None:
        """Destroy the session now: Janus tears down its handles, unpublishes and closes its recordings."""
        if self.ws is None:
            return
        if not self.closed and self.session_id is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.request({"janus": "destroy", "session_id": self.session_id}), 5)
        self.closed = True
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close()
