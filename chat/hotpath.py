"""The chat socket's ``send`` on the event loop: one Redis script, one SQL statement, no thread.

What ``chat.services.post_message`` does in a worker thread (lock the consultation, take the next number,
check who may write, store the message, queue it for search, broadcast after commit) is here one PostgreSQL
statement on an asynchronous psycopg connection of this process's event loop:

    WITH c AS (UPDATE consultation SET last_seq = last_seq + 1       -- the row lock that numbers the thread
               WHERE id = … AND status <> 'ended' AND <the actor writes there: can_post> RETURNING id, last_seq),
         m AS (INSERT INTO message (…) SELECT c.id, c.last_seq, … FROM c RETURNING id),
         o AS (INSERT INTO pending search change (…) SELECT … FROM m ON CONFLICT … DO UPDATE …)
    SELECT id FROM m

It commits on its own (autocommit), so the broadcast that follows it is after the commit: persist first
holds. The send rate is the same Redis script as ``services.send_rate_wait`` (``services.SEND_WINDOW_SCRIPT``),
sent by an asynchronous client. Whatever is not the plain case goes to ``services.post_message`` in a thread,
which answers exactly as before: no row (no such consultation, the actor may not write, the consultation
ended), the unique ``client_id`` hit (a resend: its stored message, ``duplicate``), a lost connection.

Used only on PostgreSQL with Redis (``available``); elsewhere the socket takes the thread path. Measured in
``tests/bench/bench_chat.py`` (README, "Chat": the throughput table).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import psycopg
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections
from django.db.models import Field
from django.utils import timezone

from chat import services
from chat.live_events import CONSULTATION_MESSAGE, MESSAGE
from chat.models import Message, MessageKind
from chat.selectors import message_payload
from consult.models import Consultation, ConsultationStatus, ExpertProfile, User
from consult.realtime.catalogue import publish_committed
from search.indexing import DEBOUNCE_SECONDS, schedule_drain
from search.models import PendingChange

logger = logging.getLogger(__name__)

CONNECTIONS_PER_LOOP = 4  # statements of different consultations run side by side; one consultation's queue on its row


_available: bool | None = None


def available() -> bool:
    """The hot path needs PostgreSQL (the statement) and Redis (the shared send window)."""
    global _available
    if _available is None:
        _available = connections["default"].vendor == "postgresql" and bool(getattr(settings, "REDIS_URL", ""))
    return _available


# --- the statement -----------------------------------------------------------------------------------------


class _Statement:
    """The SQL and the message's columns, built once from the models (a new column with a default just works)."""

    def __init__(self) -> None:
        ops = connections["default"].ops
        q = ops.quote_name
        c_meta, e_meta, m_meta, o_meta = (
            Consultation._meta,
            ExpertProfile._meta,
            Message._meta,
            PendingChange._meta,
        )

        def col(model: Any, name: str) -> str:
            return q(str(model._meta.get_field(name).column))

        self.fields: list[Field[Any, Any]] = [
            f for f in m_meta.concrete_fields if not f.primary_key and f.name not in ("consultation", "seq")
        ]
        columns = ", ".join(
            [col(Message, "consultation"), col(Message, "seq"), *(q(str(f.column)) for f in self.fields)]
        )
        # Typed like the columns (INSERT … SELECT would take an untyped NULL for text), never with a length:
        # a cast to varchar(n) would cut a longer value instead of refusing it.
        connection = connections["default"]
        values = ", ".join(
            ["c.id", "c.last_seq", *(f"%({f.attname})s::{_base_type(f.db_type(connection))}" for f in self.fields)]
        )
        c_table, e_table, m_table, o_table = (q(meta.db_table) for meta in (c_meta, e_meta, m_meta, o_meta))
        last_seq, c_id, status = (col(Consultation, name) for name in ("last_seq", "id", "status"))
        deputy, expert = col(Consultation, "deputy"), col(Consultation, "expert")
        e_id, e_user = col(ExpertProfile, "id"), col(ExpertProfile, "user")
        m_id, m_seq = col(Message, "id"), col(Message, "seq")
        label, object_id, queued_at, attempts = (
            col(PendingChange, name) for name in ("label", "object_id", "queued_at", "attempts")
        )
        # Identifiers from the models' metadata, quoted; every value is a parameter.
        self.sql = (
            f"WITH c AS (UPDATE {c_table} SET {last_seq} = {last_seq} + 1"  # noqa: S608
            f" WHERE {c_id} = %(consultation_id)s AND {status} <> %(ended)s"
            f" AND ({deputy} = %(actor)s OR {expert} IN (SELECT {e_id} FROM {e_table} WHERE {e_user} = %(actor)s))"
            f" RETURNING {c_id} AS id, {last_seq} AS last_seq),"
            f" m AS (INSERT INTO {m_table} ({columns}) SELECT {values} FROM c RETURNING {m_id} AS id, {m_seq} AS seq),"
            f" o AS (INSERT INTO {o_table} ({label}, {object_id}, {queued_at}, {attempts})"
            f" SELECT 'message', m.id, %(queued_at)s, 0 FROM m"
            f" ON CONFLICT ({label}, {object_id}) DO UPDATE SET {queued_at} = EXCLUDED.{queued_at})"
            " SELECT m.id, m.seq FROM m"
        )

        # What does not change from one text message to the next is prepared once: each field's database value
        # of a fresh Message; what the send sets, and any other callable default (a new uuid…), per message.
        prototype = Message(kind=MessageKind.TEXT)
        self.per_message = [
            f
            for f in self.fields
            if f.attname in _SET_BY_SEND or (f.has_default() and callable(f.default) and f.default not in (list, dict))
        ]
        self.constant = {
            f.attname: f.get_db_prep_save(f.pre_save(prototype, True), connection)
            for f in self.fields
            if f not in self.per_message
        }
        self.connection = connection

    def params(self, message: Message) -> dict[str, Any]:
        """What Django's INSERT would send for the message: each field's ``pre_save`` and database value."""
        params = dict(self.constant)
        for f in self.per_message:
            params[f.attname] = f.get_db_prep_save(f.pre_save(message, True), self.connection)
        params.update(
            consultation_id=message.consultation_id,
            actor=message.sender_id,
            ended=ConsultationStatus.ENDED.value,
            queued_at=message.created_at,
        )
        return params


_SET_BY_SEND = frozenset({"sender_id", "client_id", "kind", "body", "created_at"})


def _base_type(db_type: str | None) -> str:
    return re.sub(r"\(.*?\)", "", db_type or "text").strip()


_statement: _Statement | None = None


def statement() -> _Statement:
    global _statement
    if _statement is None:
        _statement = _Statement()
    return _statement


# --- connections of this event loop --------------------------------------------------------------------------


class _LoopResources:
    """An asynchronous psycopg pool and Redis client bound to one event loop (they cannot cross loops)."""

    def __init__(self) -> None:
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.slots = asyncio.Semaphore(CONNECTIONS_PER_LOOP)
        self.redis: aioredis.Redis = aioredis.Redis.from_url(str(settings.REDIS_URL), **_layer_options())
        self.window = self.redis.register_script(services.SEND_WINDOW_SCRIPT)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self.slots:
            conn = self.idle.pop() if self.idle else await _connect()
            try:
                yield conn
            except BaseException:
                if conn.closed or conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await conn.close()
                else:
                    self.idle.append(conn)
                raise
            self.idle.append(conn)


def _layer_options() -> dict[str, Any]:
    """The channel layer's retry and timeouts (fail fast while Redis is down, reconnect once after a restart)."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    config: dict[str, Any] = layer.get("CONFIG", {})
    host = (config.get("hosts") or [{}])[0]
    wanted = ("retry", "socket_connect_timeout", "socket_keepalive")
    return {name: host[name] for name in wanted if isinstance(host, dict) and name in host}


async def _connect() -> psycopg.AsyncConnection[Any]:
    params = connections["default"].get_connection_params()
    for sync_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(sync_only, None)
    return await psycopg.AsyncConnection.connect(**params, autocommit=True)


_resources: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopResources] = weakref.WeakKeyDictionary()


async def close() -> None:
    """Close this event loop's connections (a test's loop ends; the server's live as long as the process)."""
    found = _resources.pop(asyncio.get_running_loop(), None)
    if found is not None:
        for conn in found.idle:
            await conn.close()
        await found.redis.aclose()


def _here() -> _LoopResources:
    loop = asyncio.get_running_loop()
    found = _resources.get(loop)
    if found is None:
        found = _resources[loop] = _LoopResources()
    return found


# --- the send --------------------------------------------------------------------------------------------------

_rate_warned = False
_member_prefix, _members = uuid4().hex[:16], itertools.count()  # a distinct member of the window per send
_drain_asked_at = float("-inf")
_background: set[asyncio.Future[Any]] = set()


async def send_rate_wait(user_id: int) -> float:
    """``services.send_rate_wait`` without a thread: 0.0 when counted, else the seconds until one is allowed."""
    global _rate_warned
    try:
        wait_ms = await _here().window(
            keys=[services.send_rate_key(user_id)],
            args=[services.SEND_WINDOW_MS, settings.CHAT_SEND_RATE_PER_MINUTE, f"{_member_prefix}{next(_members)}"],
        )
    except Exception:  # Redis is down: let messages through rather than drop every socket (logged once)
        if not _rate_warned:
            logger.warning("send-rate cache unavailable; not limiting", exc_info=True)
            _rate_warned = True
        return 0.0
    _rate_warned = False
    return int(wait_ms) / 1000


_post_off_thread = database_sync_to_async(services.post_message, thread_sensitive=False)
_stored_off_thread = database_sync_to_async(services.stored_message, thread_sensitive=False)


async def send(actor: User, consultation_id: int, client_id: str, body: str) -> tuple[Message, bool]:
    """Rate check, store, broadcast after commit; returns (message, created) like ``services.post_message``.

    Raises ``RateLimited`` (with ``retry_after``) when the actor is over the send rate, unless the frame is a
    resend of a stored message (then that message, not created); ``DomainError`` for refusals.
    """
    client_id, text = services.clean_text_message(client_id, body)
    wait = await send_rate_wait(actor.pk)
    if wait:
        stored = await _stored_off_thread(consultation_id, actor, client_id)
        if stored is not None:
            return stored, False
        raise services.RateLimited("too many messages; slow down", retry_after=services.retry_after_seconds(wait))
    message = Message(
        consultation_id=consultation_id,
        seq=0,
        sender=actor,
        client_id=client_id,
        kind=MessageKind.TEXT,
        body=text,
        created_at=timezone.now(),
    )
    sql = statement()
    try:
        async with _here().connection() as conn:
            cursor = await conn.execute(sql.sql, sql.params(message))
            row = await cursor.fetchone()
    except (psycopg.errors.UniqueViolation, psycopg.OperationalError, psycopg.InterfaceError):
        row = None  # a resend (its client id is taken), or the database went away: the thread path answers
    if row is None:  # not the plain case: no such consultation, may not write, ended, a resend
        posted: tuple[Message, bool] = await _post_off_thread(
            actor=actor, consultation_id=consultation_id, client_id=client_id, body=body
        )
        return posted
    message.pk, message.seq = row
    await publish_committed(MESSAGE, consultation_id, {"message": message_payload(message)})
    await publish_committed(CONSULTATION_MESSAGE, consultation_id, {"seq": message.seq, "sender": actor.pk})
    _ask_for_drain()
    return message, True


def _ask_for_drain() -> None:
    """What ``search.indexing.queue_change`` asks after commit, at most once a second from this process."""
    global _drain_asked_at
    now = time.monotonic()
    if now - _drain_asked_at < DEBOUNCE_SECONDS:
        return
    _drain_asked_at = now
    future = asyncio.get_running_loop().run_in_executor(None, schedule_drain)
    _background.add(future)
    future.add_done_callback(_background.discard)
