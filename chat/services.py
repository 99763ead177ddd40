"""Every write of the chat: persist first, then broadcast after commit.

- ``post_message``: numbered per consultation (the consultation row is locked to take the next number);
  the sender's ``client_id`` makes a retry return the stored message instead of writing a second one.
- ``post_system_message``: joined / transferred / ended lines, written by the desk's services.
- ``post_file_message``: a file or PNG/JPEG image, checked by name and content, idempotent like ``post_message``.
- ``edit_message`` (within ``CHAT_EDIT_WINDOW``; the old text is kept as a revision), ``delete_message``
  (a tombstone stays in its place), ``mark_read``.

Broadcasts go to the group ``chat.<consultation id>`` (see ``chat/PROTOCOL.md``). The channel layer is a
notification bus, never the record: a client that misses a broadcast finds the message by its number.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from pathlib import PurePath
from typing import IO
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from chat.live_events import CONSULTATION_MESSAGE, DELETED, EDITED, MESSAGE, READ
from chat.models import Message, MessageKind, MessageRevision, ReadMarker
from chat.selectors import message_payload
from consult.desk.access import can_post, can_read
from consult.kernel.exceptions import DomainError, InvalidInput, InvalidTransition, NotAllowed, NotFound
from consult.kernel.texts import Said
from consult.kernel.uploads import check_upload
from consult.kernel.validators import plain_text
from consult.models import Consultation, ConsultationStatus, User
from consult.realtime.catalogue import group_of, publish
from search.indexing import queue_change

MAX_BODY_CHARS = 2000
CLIENT_ID_MAX = 64


# A sliding window in one sorted set per user: the times of the sends of the last minute. Atomic in Redis (one
# script, Redis's own clock, so processes on several machines agree); answers 0 (counted) or the milliseconds
# until the oldest send leaves the window.
SEND_WINDOW_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return window
end
return math.max(1, tonumber(oldest[2]) + window - now_ms)
"""
SEND_WINDOW_MS = 60_000
_local_windows: dict[int, list[float]] = {}  # without Redis (one process): the same window in memory
_rate_warned = False


def send_rate_key(user_id: int) -> str:
    return cache.make_key(f"chat-send-window:{user_id}")


def send_rate_wait(user_id: int) -> float:
    """Count one send of the user, or refuse it: 0.0 when counted, else the seconds until one is allowed.

    At most ``CHAT_SEND_RATE_PER_MINUTE`` sends in any 60 seconds (a sliding window, not a clock minute), per
    user across all their sockets, REST calls and processes. Refused sends are not counted.
    """
    global _rate_warned
    limit = settings.CHAT_SEND_RATE_PER_MINUTE
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        now = time.monotonic()
        sent = [t for t in _local_windows.get(user_id, []) if t > now - SEND_WINDOW_MS / 1000]
        _local_windows[user_id] = sent
        if len(sent) < limit:
            sent.append(now)
            return 0.0
        return max(0.001, sent[0] + SEND_WINDOW_MS / 1000 - now) if sent else SEND_WINDOW_MS / 1000
    try:
        wait_ms = client(write=True).eval(
            SEND_WINDOW_SCRIPT, 1, send_rate_key(user_id), SEND_WINDOW_MS, limit, uuid4().hex
        )
    except Exception:  # the cache (Redis) is down: let messages through rather than drop every socket
        if not _rate_warned:
            logging.getLogger(__name__).warning("send-rate cache unavailable; not limiting", exc_info=True)
            _rate_warned = True
        return 0.0
    _rate_warned = False
    return int(wait_ms) / 1000


class RateLimited(DomainError):
    """Over the send rate (REST: 429; socket: an ``error`` frame with ``retry_after``)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(wait: float) -> float:
    """A wait as the protocol states it: seconds, rounded up to the millisecond."""
    return math.ceil(wait * 1000) / 1000


def within_send_rate(user_id: int) -> bool:
    return send_rate_wait(user_id) == 0.0


def stored_message(consultation_id: int, sender: User, client_id: str) -> Message | None:
    """The message already stored for this ``client_id`` (a resend), if any."""
    return Message.objects.filter(consultation_id=consultation_id, sender=sender, client_id=client_id.strip()).first()


def group_name(consultation_id: int) -> str:
    return group_of("chat", "chat", consultation_id)


def _next_seq(consultation_id: int) -> tuple[Consultation, int]:
    try:
        consultation = (
            Consultation.objects.select_for_update(of=("self",)).select_related("expert").get(pk=consultation_id)
        )
    except Consultation.DoesNotExist:
        raise NotFound(_("no such consultation")) from None
    consultation.last_seq += 1
    Consultation.objects.filter(pk=consultation_id).update(last_seq=consultation.last_seq)
    return consultation, consultation.last_seq


def _plain(text: str, field: str) -> str:
    try:
        plain_text(text)
    except ValidationError as refused:
        detail = refused.detail
        raise InvalidInput(str(detail[0] if isinstance(detail, list) else detail), field=field) from None
    return text


def _clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidInput(_("the message is empty"), field="body")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput(_("a message has at most %(n)d characters") % {"n": MAX_BODY_CHARS}, field="body")
    return _plain(text, "body")


def _clean_client_id(client_id: str) -> str:
    value = client_id.strip()
    if not value or len(value) > CLIENT_ID_MAX:
        raise InvalidInput(_("a client id of 1 to 64 characters is required"), field="client_id")
    return _plain(value, "client_id")


def clean_text_message(client_id: str, body: str) -> tuple[str, str]:
    """The client id and text ``post_message`` stores, or ``InvalidInput`` naming the field (``chat.hotpath``)."""
    return _clean_client_id(client_id), _clean_body(body)


def post_message(*, actor: User, consultation_id: int, client_id: str, body: str) -> tuple[Message, bool]:
    """Store a text message and broadcast it; returns (message, created). A retry returns the first one."""
    client_id = _clean_client_id(client_id)
    text = _clean_body(body)
    try:  # a retry hits the unique (consultation, sender, client_id) constraint and returns the stored one
        with transaction.atomic():
            consultation, seq = _next_seq(consultation_id)
            refusal = _refusal(actor, consultation)
            if refusal is not None:
                raise refusal
            message = Message.objects.create(
                consultation=consultation, seq=seq, sender=actor, client_id=client_id, kind=MessageKind.TEXT, body=text
            )
            publish(MESSAGE, consultation_id, {"message": message_payload(message)})
            publish(CONSULTATION_MESSAGE, consultation_id, {"seq": seq, "sender": actor.pk})
            queue_change("message", message.pk)
    except (IntegrityError, NotAllowed, InvalidTransition):
        # A retry of a message already stored (the same client id won on another connection, or it was
        # stored before the consultation ended): that one is the message. Anything else stands.
        existing = stored_message(consultation_id, actor, client_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def require_open(actor: User, consultation: Consultation | None) -> Consultation:
    """The consultation ``actor`` may write in now, or the refusal: not found, not allowed, or ended."""
    if consultation is None:
        raise NotFound(_("no such consultation"))
    refusal = _refusal(actor, consultation)
    if refusal is not None:
        raise refusal
    return consultation


def _refusal(actor: User, consultation: Consultation) -> Exception | None:
    if not can_post(actor, consultation):
        return NotAllowed(_("you cannot write in this consultation"))
    if consultation.status == ConsultationStatus.ENDED:
        return InvalidTransition(_("the consultation has ended"), code="consultation_ended")
    return None


def post_system_message(*, consultation: Consultation, said: Said) -> Message:
    """A line written by the platform (joined, transferred, ended). Runs inside the caller's transaction.

    Stored as its code and parameters (each reader sees it in their own language) beside its wording in the
    site's language."""
    _locked, seq = _next_seq(consultation.pk)
    consultation.last_seq = seq
    message = Message.objects.create(
        consultation=consultation,
        seq=seq,
        kind=MessageKind.SYSTEM,
        body=said.in_default_language(),
        code=said.code,
        params=said.params,
    )
    publish(MESSAGE, consultation.pk, {"message": message_payload(message)})
    queue_change("message", message.pk)
    return message


def _own_message(actor: User, consultation_id: int, message_id: int) -> Message:
    """The actor's message in this consultation, locked, with the consultation's change lock taken first.

    Only within the given consultation (a socket's own): another consultation's message is ``not_found``.
    Only while the actor writes there (``can_post``): a former expert's lines stay as they were after a transfer.
    """
    consultation = Consultation.objects.select_for_update(of=("self",)).select_related("expert")
    locked = consultation.filter(pk=consultation_id).first()  # numbers changes; the order of post_message
    message = Message.objects.select_for_update().filter(pk=message_id, consultation_id=consultation_id).first()
    if locked is None or message is None or not can_read(actor, locked):
        raise NotFound(_("no such message"))
    message.consultation = locked
    if message.sender_id != actor.pk:
        raise NotAllowed(_("you can only change your own messages"))
    if not can_post(actor, locked):
        raise NotAllowed(_("you no longer write in this consultation"))
    if message.deleted_at is not None:
        raise InvalidTransition(_("the message was deleted"), code="message_deleted")
    return message


def last_change(consultation_id: int) -> int:
    """The consultation's change counter: the number of its latest edit or deletion (0 when none)."""
    found = Message.objects.filter(consultation_id=consultation_id, change__gt=0).aggregate(n=Max("change"))["n"]
    return int(found or 0)


def _changed(message: Message) -> dict[str, int]:
    """Give the message the consultation's next change number (the consultation row is locked)."""
    message.change = last_change(message.consultation_id) + 1
    return {"change": message.change}


@transaction.atomic
def edit_message(*, actor: User, consultation_id: int, message_id: int, body: str) -> Message:
    message = _own_message(actor, consultation_id, message_id)
    window = timedelta(seconds=settings.CHAT_EDIT_WINDOW_SECONDS)
    if timezone.now() - message.created_at > window:
        raise InvalidTransition(_("messages can only be edited for a few minutes"), code="edit_window_closed")
    if message.kind != MessageKind.TEXT:
        raise InvalidInput(_("only text messages can be edited"), field="body")
    if message.consultation.status == ConsultationStatus.ENDED:
        raise InvalidTransition(_("the consultation has ended"), code="consultation_ended")
    text = _clean_body(body)
    MessageRevision.objects.create(message=message, body=message.body)
    message.body, message.edited_at = text, timezone.now()
    change = _changed(message)
    message.save(update_fields=["body", "edited_at", "change"])
    publish(EDITED, message.consultation_id, {"message": message_payload(message), **change})
    queue_change("message", message.pk)
    return message


@transaction.atomic
def delete_message(*, actor: User, consultation_id: int, message_id: int) -> Message:
    """The text goes (kept as a revision for the record); a tombstone keeps its place and number."""
    message = _own_message(actor, consultation_id, message_id)
    MessageRevision.objects.create(message=message, body=message.body)
    message.body, message.deleted_at = "", timezone.now()
    change = _changed(message)
    message.save(update_fields=["body", "deleted_at", "change"])
    publish(DELETED, message.consultation_id, {"message": message_payload(message), **change})
    queue_change("message", message.pk)
    return message


@transaction.atomic
def mark_read(*, actor: User, consultation_id: int, seq: int) -> ReadMarker:
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None or not can_post(actor, consultation):
        raise NotFound(_("no such consultation"))
    seq = max(0, min(seq, consultation.last_seq))
    marker, _created = ReadMarker.objects.select_for_update().get_or_create(consultation=consultation, user=actor)
    if seq > marker.last_read_seq:
        marker.last_read_seq = seq
        marker.save(update_fields=["last_read_seq"])
        publish(READ, consultation_id, {"user": actor.pk, "seq": seq})
    return marker


MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg"})


def post_file_message(
    *, actor: User, consultation_id: int, client_id: str, name: str, size: int, stream: IO[bytes]
) -> tuple[Message, bool]:
    """Store a file (or a PNG/JPEG image) as a message and broadcast it; returns (message, created).

    Checked like proposal attachments (``consult.kernel.uploads.check_upload``: type by name and by content),
    at most 10 MiB, images at most 5 MiB. The file is written before the consultation row is locked, so a
    slow disk never holds up the thread's numbering; it is removed again when the message is refused.
    A retry with the same ``client_id`` returns the first message and stores nothing.
    """

    client_id = _clean_client_id(client_id)
    existing = stored_message(consultation_id, actor, client_id)
    if existing is not None:
        return existing, False
    name = PurePath(name.replace("\\", "/")).name[:200]  # never a path: "../../x.pdf" is stored as "x.pdf"
    is_image = PurePath(name).suffix.lower() in IMAGE_EXTENSIONS
    content_type = check_upload(name, size, stream, max_bytes=MAX_IMAGE_BYTES if is_image else MAX_FILE_BYTES)
    require_open(actor, Consultation.objects.select_related("expert").filter(pk=consultation_id).first())
    kind = MessageKind.IMAGE if is_image else MessageKind.FILE
    message = Message(
        sender=actor, client_id=client_id, kind=kind, file_name=name, file_size=size, content_type=content_type
    )
    message.file.save(name, File(stream), save=False)
    try:
        with transaction.atomic():
            consultation, seq = _next_seq(consultation_id)
            require_open(actor, consultation)
            message.consultation, message.seq = consultation, seq
            message.save()
            publish(MESSAGE, consultation_id, {"message": message_payload(message)})
            publish(CONSULTATION_MESSAGE, consultation_id, {"seq": seq, "sender": actor.pk})
            queue_change("message", message.pk)
    except IntegrityError:
        message.file.delete(save=False)
        existing = stored_message(consultation_id, actor, client_id)
        if existing is None:
            raise
        return existing, False
    except DomainError:
        message.file.delete(save=False)
        raise
    return message, True
