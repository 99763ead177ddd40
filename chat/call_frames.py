"""Call signalling on the consultation's chat socket (``chat/PROTOCOL.md`` "Calls"): the frames ``call.*``.

The consumer hands every ``call.*`` frame here (``HANDLERS``) and tells us when the socket closes. State changes go
through ``chat.calls`` (which checks ``consult.desk.access``); media goes through one Janus session per socket
(``chat.janus.JanusSession``), opened only after ``chat.calls.media_grant``. The server brokers the SDP: the
browser sends its offer, gets Janus's answer, and gets one offer per other speaker to answer; it never holds
Janus's API or its secret. A socket that closes mid-call destroys its Janus session at once and ends the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat import calls, captions
from chat.janus import JanusError, JanusSession, plugin_data
from chat.models import Call
from consult.kernel.exceptions import DomainError
from consult.realtime.frames import FieldProblem, int_field, text_field

logger = logging.getLogger(__name__)

MAX_SDP_CHARS = 12_000
MAX_CANDIDATE_CHARS = 512

# Per socket and frame type: (frames per second, burst); PROTOCOL.md "Limits".
FRAME_BUDGET = {
    "call.start": (0.2, 3.0),
    "call.accept": (0.5, 3.0),
    "call.decline": (0.5, 3.0),
    "call.hangup": (0.5, 5.0),
    "call.invite": (0.2, 3.0),
    "call.offer": (0.5, 3.0),
    "call.answer": (1.0, 6.0),
    "call.candidate": (10.0, 60.0),
}


def sdp_field(frame: dict[str, Any]) -> str:
    sdp = text_field(frame, "sdp")
    if len(sdp) > MAX_SDP_CHARS or not sdp.startswith("v=0"):
        raise FieldProblem("sdp", f"'sdp' must be an SDP of at most {MAX_SDP_CHARS} characters", code="invalid_input")
    return sdp


def candidate_field(frame: dict[str, Any]) -> dict[str, Any]:
    """An ICE candidate as the browser gives it (``RTCIceCandidate.toJSON()``), or ``null``: gathering completed."""
    value = frame.get("candidate")
    if value is None:
        return {"completed": True}
    if not isinstance(value, dict):
        raise FieldProblem("candidate", "'candidate' must be an object or null", code="invalid_input")
    candidate = text_field(value, "candidate")
    mid = value.get("sdpMid")
    index = value.get("sdpMLineIndex")
    if len(candidate) > MAX_CANDIDATE_CHARS or (mid is not None and (not isinstance(mid, str) or len(mid) > 32)):
        raise FieldProblem("candidate", "'candidate' is too long", code="invalid_input")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 16):
        raise FieldProblem("candidate", "'sdpMLineIndex' must be a small integer", code="invalid_input")
    return {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}


class CallLink:
    """What one socket holds of a call: the call's id and, once it publishes, its Janus session and handles."""

    def __init__(self, consumer: Any, call_id: int) -> None:
        self.consumer, self.call_id = consumer, call_id
        self.janus: JanusSession | None = None
        self.publisher: int | None = None
        self.subscribers: dict[int, int] = {}  # Janus feed id → handle
        self.closing = False
        self.tasks: set[asyncio.Task[None]] = set()

    async def publish(self, sdp: str) -> None:
        consumer = self.consumer
        grant = await database_sync_to_async(calls.media_grant)(
            actor=consumer.user, consultation_id=consumer.consultation_id, call_id=self.call_id
        )
        if self.janus is not None:
            await self.close_media()
        self.janus = JanusSession(grant["url"], settings.JANUS_API_SECRET, self.on_event)
        await self.janus.open()
        self.publisher = await self.janus.attach()
        body: dict[str, Any] = {
            "request": "joinandconfigure",
            "room": grant["room"],
            "ptype": "publisher",
            "display": grant["display"],
            "audio": True,
            "video": False,
        }
        if grant["filename"]:  # recorded by the room anyway (record: true); this names the speaker's file
            body["record"], body["filename"] = True, grant["filename"]
        event = await self.janus.message(self.publisher, body, {"type": "offer", "sdp": sdp})
        answer = event.get("jsep") or {}
        await consumer._frame("call.answer", call=self.call_id, sdp=answer.get("sdp", ""))
        if captions.enabled():  # this socket hears the call's captions; its audio goes to a caption worker
            self._spawn(captions.follow(consumer, self.call_id, grant, plugin_data(event)))
        for publisher in plugin_data(event).get("publishers") or []:
            self._spawn(self.subscribe(publisher))

    async def subscribe(self, publisher: dict[str, Any]) -> None:
        feed = int(publisher["id"])
        if self.janus is None or feed in self.subscribers:
            return
        handle = await self.janus.attach()
        self.subscribers[feed] = handle
        grant_room = await database_sync_to_async(_room_of)(self.call_id)
        event = await self.janus.message(
            handle, {"request": "join", "ptype": "subscriber", "room": grant_room, "streams": [{"feed": feed}]}
        )
        offer = event.get("jsep") or {}
        user = int(publisher.get("display") or 0) if str(publisher.get("display", "")).isdigit() else None
        await self.consumer._frame("call.offer", call=self.call_id, feed=feed, user=user, sdp=offer.get("sdp", ""))

    async def start(self, feed: int, sdp: str) -> None:
        handle = self.subscribers.get(feed)
        if self.janus is None or handle is None:
            raise DomainError("no such feed in this call", code="not_found")
        await self.janus.message(handle, {"request": "start"}, {"type": "answer", "sdp": sdp})

    async def trickle(self, feed: int | None, candidate: dict[str, Any]) -> None:
        handle = self.publisher if feed is None else self.subscribers.get(feed)
        if self.janus is None or handle is None:
            return
        await self.janus.trickle(handle, candidate)

    async def on_event(self, message: dict[str, Any]) -> None:
        """Janus's own events on this session: other speakers publishing, or Janus going away."""
        if message.get("janus") == "gone":
            # Only the session this socket still holds, dead on its own (Janus killed, its host gone, its
            # WebSocket's pings unanswered): a session we closed or replaced was taken off ``self.janus`` first.
            if self.janus is not None and self.janus.closed and not self.closing:
                self._spawn(self.lost())
            return
        data = plugin_data(message)
        if data.get("videoroom") == "destroyed":  # the call ended (chat.calls destroys its room)
            self._spawn(self.close_media())
            return
        if message.get("sender") == self.publisher and data.get("publishers"):
            for publisher in data["publishers"]:
                self._spawn(self.subscribe(publisher))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(_logged(work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close_media(self) -> None:
        self.closing = True
        janus, self.janus = self.janus, None
        self.publisher, self.subscribers = None, {}
        if janus is not None:
            await janus.close()
            if captions.enabled():
                await captions.unfollow(self.consumer, self.call_id)
        self.closing = False

    async def lost(self) -> None:
        """This socket's Janus session died: the socket is told, the call ends for everyone (``calls.media_lost``,
        a line in the thread and ``call`` ended); the socket stays open for the chat and a next call."""
        await self.close_media()
        if getattr(self.consumer, "call_link", None) is self:
            self.consumer.call_link = None
        await self.consumer._error("call_media_lost", "the call's media server went away", call=self.call_id)
        await database_sync_to_async(calls.media_lost)(call_id=self.call_id)

    async def end(self) -> None:
        """The socket closed or media was lost: Janus session destroyed now, the call ended for everyone."""
        self.closing = True
        with contextlib.suppress(Exception):
            await self.close_media()
        self.closing = True
        consumer = self.consumer
        await database_sync_to_async(calls.left)(
            actor=consumer.user, consultation_id=consumer.consultation_id, call_id=self.call_id
        )


async def _logged(work: Any) -> None:
    try:
        await work
    except (JanusError, DomainError) as error:
        logger.info("call signalling: %s", error)
    except Exception:
        logger.exception("call signalling failed")


def _room_of(call_id: int) -> int:
    return int(Call.objects.values_list("room", flat=True).get(pk=call_id))


def _link(consumer: Any, call_id: int | None = None) -> CallLink:
    link: CallLink | None = getattr(consumer, "call_link", None)
    if call_id is not None and (link is None or link.call_id != call_id):
        link = CallLink(consumer, call_id)
        consumer.call_link = link
    if link is None:
        raise DomainError("no call on this socket", code="call_not_active")
    return link


def _bound(consumer: Any, call_id: int) -> CallLink:
    """The socket's own call: media frames never bind a socket to another call (only start and accept do,
    after the services said yes)."""
    link: CallLink | None = getattr(consumer, "call_link", None)
    if link is None or link.call_id != call_id:
        raise DomainError("no such call on this socket", code="call_not_active")
    return link


async def _run(consumer: Any, frame: dict[str, Any], work: Any) -> None:
    """Domain and Janus errors become ``error`` frames naming the call."""
    echo = {"call": frame["call"]} if type(frame.get("call")) is int else {}
    try:
        await work
    except DomainError as error:
        await consumer._domain_error(error, **echo)
    except JanusError as error:
        logger.warning("call signalling: %s", error)
        await consumer._error("calls_unavailable", "the call's media server is not available", **echo)


async def _on_start(consumer: Any, frame: dict[str, Any]) -> None:
    async def work() -> None:
        start = database_sync_to_async(calls.start_call)
        call = await start(actor=consumer.user, consultation_id=consumer.consultation_id)
        _link(consumer, call.pk)

    await _run(consumer, frame, work())


def _verb(service: Any, *, binds: bool) -> Any:
    async def handler(consumer: Any, frame: dict[str, Any]) -> None:
        call_id = int_field(frame, "call", minimum=1)

        async def work() -> None:
            await database_sync_to_async(service)(
                actor=consumer.user, consultation_id=consumer.consultation_id, call_id=call_id
            )
            link = getattr(consumer, "call_link", None)
            if binds:
                _link(consumer, call_id)
            elif link is not None and link.call_id == call_id:
                consumer.call_link = None
                await link.close_media()

        await _run(consumer, frame, work())

    return handler


async def _on_offer(consumer: Any, frame: dict[str, Any]) -> None:
    call_id, sdp = int_field(frame, "call", minimum=1), sdp_field(frame)
    await _run(consumer, frame, _publish(consumer, call_id, sdp))


async def _on_answer(consumer: Any, frame: dict[str, Any]) -> None:
    call_id, feed, sdp = int_field(frame, "call", minimum=1), int_field(frame, "feed", minimum=1), sdp_field(frame)
    await _run(consumer, frame, _answer(consumer, call_id, feed, sdp))


async def _publish(consumer: Any, call_id: int, sdp: str) -> None:
    await _bound(consumer, call_id).publish(sdp)


async def _answer(consumer: Any, call_id: int, feed: int, sdp: str) -> None:
    await _bound(consumer, call_id).start(feed, sdp)


async def _on_candidate(consumer: Any, frame: dict[str, Any]) -> None:
    call_id = int_field(frame, "call", minimum=1)
    feed = int_field(frame, "feed", minimum=1) if "feed" in frame else None
    candidate = candidate_field(frame)
    link = getattr(consumer, "call_link", None)
    if link is not None and link.call_id == call_id:
        await _run(consumer, frame, link.trickle(feed, candidate))


async def _on_invite(consumer: Any, frame: dict[str, Any]) -> None:
    """The expert answering invites a second expert into the call under way (``chat.calls.invite_expert``)."""
    call_id, expert_id = int_field(frame, "call", minimum=1), int_field(frame, "expert", minimum=1)

    async def work() -> None:
        await database_sync_to_async(calls.invite_expert)(
            actor=consumer.user, consultation_id=consumer.consultation_id, call_id=call_id, expert_id=expert_id
        )

    await _run(consumer, frame, work())


HANDLERS = {
    "call.start": _on_start,
    "call.accept": _verb(calls.accept_call, binds=True),
    "call.decline": _verb(calls.decline_call, binds=False),
    "call.hangup": _verb(calls.hang_up, binds=False),
    "call.invite": _on_invite,
    "call.offer": _on_offer,
    "call.answer": _on_answer,
    "call.candidate": _on_candidate,
}


async def socket_closed(consumer: Any) -> None:
    """The chat socket closed: its Janus session is destroyed now and its call ends (the other side is told)."""
    link: CallLink | None = getattr(consumer, "call_link", None)
    if link is None:
        return
    consumer.call_link = None
    try:
        await link.end()
    except Exception:
        logger.exception("call %s: ending on socket close failed", link.call_id)
