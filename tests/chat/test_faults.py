"""The delivery promises under faults: every message exactly once, in order, for everyone (docs/domain.md §5).

The clients here behave like the chat page: they keep what they sent until it is acknowledged and send it
again with the same client id after a reconnect; when they reconnect, see a gap in the numbers, or hear
nothing for a while, they ask for everything after the last number they hold (``sync``). They show each
number once.

- Redis is killed (SIGKILL) while both sides are sending, and restarted on the same port: the test starts
  its own ``redis-server`` and its own Daphne on it, so the session's server and Redis are left alone.
- A client drops its socket right after sending, before the acknowledgement, and resends after
  reconnecting.

Every loop is bounded in count and by a hang guard; nothing asserts on time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from chat.models import Message
from consult.models import Bureau, Consultation, User
from tests.chat.conftest import (
    Frame,
    chat_socket,
    frames_until,
    greeted,
    is_message,
    of_type,
    open_consultation,
    receive,
    send,
)
from tests.conftest import REPO_ROOT, LiveServer, child_env, free_port, stop, wait_until_serving
from tests.sockets import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REDIS_SERVER = shutil.which("redis-server")
HANG_GUARD_S = 120  # the whole exchange; a guard against hangs, not a measurement
QUIET_S = 0.5  # no frame for this long: ask for what was missed and resend what is unacknowledged
MAX_CONNECTS = 200
MAX_FRAMES = 20_000


# --- the chat page, as a test client -----------------------------------------------------------------------


@dataclass
class Page:
    """One participant's chat page: what it shows, what it sent, what still waits for an acknowledgement."""

    name: str
    server: LiveServer
    cookie: str
    consultation_id: int
    to_send: list[str]
    send_every_s: float = 0.05
    on_sent: Callable[[Page], None] = lambda page: None

    shown: dict[int, str] = field(default_factory=dict)  # number -> client id, each number shown once
    conflicts: list[tuple[int, str, str]] = field(default_factory=list)
    pending: dict[str, str] = field(default_factory=dict)  # client id -> text, sent but not acknowledged
    acked: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    connects: int = 0
    drops: int = 0
    gaps: int = 0
    quiet_syncs: int = 0
    error_codes: list[str] = field(default_factory=list)
    hold_until: float = 0.0  # after rate_limited: no new sends before this (PROTOCOL.md, "Limits")
    frames: int = 0
    server_last_seq: int | None = None
    room: list[Page] = field(default_factory=list)
    everyone_sent: asyncio.Event = field(default_factory=asyncio.Event)

    def client_id(self, n: int) -> str:
        return f"{self.name}-{n}"

    @property
    def done_sending(self) -> bool:
        return self.sent == len(self.to_send) and not self.pending

    def held_up_to(self) -> int:
        n = 0
        while n + 1 in self.shown:
            n += 1
        return n

    def show(self, seq: int, client_id: str) -> None:
        if seq in self.shown and self.shown[seq] != client_id:
            self.conflicts.append((seq, self.shown[seq], client_id))
        self.shown.setdefault(seq, client_id)
        if client_id in self.pending:  # our own message came back: as good as an ack (PROTOCOL.md, rule 2)
            self.acknowledge(client_id, seq)

    def acknowledge(self, client_id: str, seq: int) -> None:
        self.acked[client_id] = seq
        self.pending.pop(client_id, None)
        if all(page.done_sending for page in self.room):
            self.everyone_sent.set()

    async def sync(self, ws: ClientConnection) -> None:
        await send(ws, {"type": "sync", "after": self.held_up_to()})

    async def resend_pending(self, ws: ClientConnection) -> None:
        for client_id, body in list(self.pending.items()):
            await send(ws, {"type": "send", "client_id": client_id, "body": body})

    async def handle(self, ws: ClientConnection, frame: Frame) -> None:
        self.frames += 1
        if frame["type"] == "message":
            message = frame["message"]
            self.show(message["seq"], message["client_id"])
            if message["seq"] > self.held_up_to() + 1:
                self.gaps += 1
                await self.sync(ws)
        elif frame["type"] == "ack":
            self.acknowledge(frame["client_id"], frame["seq"])
            self.show(frame["seq"], frame["client_id"])
        elif frame["type"] == "messages":
            for message in frame["items"]:
                self.show(message["seq"], message["client_id"])
            self.server_last_seq = frame["last_seq"]
            if frame["more"]:
                await self.sync(ws)
        elif frame["type"] == "error":
            self.error_codes.append(frame["code"])  # the text stays pending and is sent again when quiet
            if frame["code"] == "rate_limited":  # as chat.js does: wait, then resend what waits, in order
                self.hold_until = asyncio.get_running_loop().time() + float(frame.get("retry_after", 1.0))

    async def run(self, everyone_sent: asyncio.Event, deadline: float) -> None:
        """Connect, and reconnect after every drop, until everything is acknowledged and caught up."""
        while self.connects < MAX_CONNECTS:
            assert time.monotonic() < deadline, f"{self.name} still not done: {self.state()}"
            self.connects += 1
            try:
                async with chat_socket(self.server, self.consultation_id, self.cookie) as ws:
                    hello = await receive(ws)
                    assert hello["type"] == "hello", hello
                    await self.sync(ws)
                    await self.resend_pending(ws)
                    if await self.session(ws, everyone_sent, deadline):
                        return
            except (WebSocketException, OSError, TimeoutError):
                self.drops += 1
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} gave up after {MAX_CONNECTS} connections: {self.state()}")

    async def session(self, ws: ClientConnection, everyone_sent: asyncio.Event, deadline: float) -> bool:
        """One connection: send on schedule, take frames, catch up when quiet. True once all is done."""
        loop = asyncio.get_running_loop()
        next_send = last_frame = loop.time()
        final_sync_sent = False
        while self.frames < MAX_FRAMES and time.monotonic() < deadline:
            if self.hold_until and loop.time() >= self.hold_until:
                self.hold_until = 0.0
                await self.resend_pending(ws)
            if self.sent < len(self.to_send) and loop.time() >= next_send and not self.hold_until:
                client_id = self.client_id(self.sent)
                self.pending[client_id] = self.to_send[self.sent]
                self.sent += 1
                await send(ws, {"type": "send", "client_id": client_id, "body": self.pending[client_id]})
                self.on_sent(self)
                next_send = loop.time() + self.send_every_s
            if everyone_sent.is_set() and not final_sync_sent:
                # Everything is stored now: one more catch-up says how far the thread goes.
                self.server_last_seq = None
                await self.sync(ws)
                final_sync_sent = True
            if final_sync_sent and self.server_last_seq is not None and self.held_up_to() >= self.server_last_seq:
                return True
            try:
                frame = await receive(ws, wait_s=self.send_every_s)
            except TimeoutError:
                if loop.time() - last_frame > QUIET_S:
                    self.quiet_syncs += 1
                    last_frame = loop.time()
                    await self.sync(ws)
                    await self.resend_pending(ws)
                continue
            last_frame = loop.time()
            await self.handle(ws, frame)
        raise AssertionError(f"{self.name} did not finish within its bounds: {self.state()}")

    def state(self) -> str:
        return (
            f"sent {self.sent}/{len(self.to_send)}, pending {len(self.pending)}, held up to {self.held_up_to()}, "
            f"server last {self.server_last_seq}, connects {self.connects}, drops {self.drops}, gaps {self.gaps}, "
            f"quiet syncs {self.quiet_syncs}, errors {self.error_codes[:5]}"
        )


async def run_pages(pages: list[Page]) -> None:
    """All pages at once, until each has everything acknowledged and holds the whole thread."""
    everyone_sent = asyncio.Event()
    deadline = time.monotonic() + HANG_GUARD_S
    for page in pages:
        page.room, page.everyone_sent = pages, everyone_sent
    await asyncio.wait_for(asyncio.gather(*(page.run(everyone_sent, deadline) for page in pages)), HANG_GUARD_S + 10)


def thread_in_db(consultation: Consultation) -> list[tuple[int, str]]:
    return list(Message.objects.filter(consultation=consultation).order_by("seq").values_list("seq", "client_id"))


def assert_everyone_holds_the_thread_exactly_once(pages: list[Page], consultation: Consultation) -> None:
    stored = thread_in_db(consultation)
    numbers = [seq for seq, _ in stored]
    assert numbers == list(range(1, len(stored) + 1)), "the numbers have a gap"
    for page in pages:
        client_ids = [page.client_id(n) for n in range(len(page.to_send))]
        mine = [seq for seq, client_id in stored if client_id.startswith(f"{page.name}-")]
        by_client_id = {client_id: seq for seq, client_id in stored if client_id.startswith(f"{page.name}-")}
        assert len(mine) == len(page.to_send), f"{page.name}: stored {len(mine)} of {len(page.to_send)}"
        assert sorted(by_client_id) == sorted(client_ids), f"{page.name}: a message is missing or doubled"
        assert [by_client_id[c] for c in client_ids] == sorted(mine), f"{page.name}: stored out of send order"
        assert page.acked == by_client_id, f"{page.name}: an acknowledgement names another number"
        assert page.conflicts == [], f"{page.name}: one number showed two messages"
        assert sorted(page.shown.items()) == stored, f"{page.name} shows another thread: {page.state()}"


# --- Redis dies and comes back ------------------------------------------------------------------------------


@dataclass
class OwnRedis:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):  # until it accepts connections (bounded)
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on {self.port} exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not answer")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no goodbye to its clients
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        reason = "redis-server is not installed; this test kills and restarts its own Redis"
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason}, and CI=true requires it")
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="consult-redis-"))
    redis = OwnRedis(free_port(), directory)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def own_daphne(own_redis: OwnRedis, transactional_db: None) -> Iterator[LiveServer]:
    """The app under its own Daphne, on the test database and on ``own_redis`` (nothing else shares it)."""
    port = free_port()
    env = child_env()
    env["REDIS_URL"] = own_redis.url  # child_env() puts this process's Redis back over any REDIS_URL given
    env["CHAT_SEND_RATE_PER_MINUTE"] = "100000"  # resends must not run into the rate limit here
    log = open(Path(settings.VAR_DIR) / f"daphne-faults-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consult.realtime.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "consult.asgi:application",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", process)
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process)
    finally:
        stop(process)
        log.close()


@pytest.fixture
def chat_pair(deputy: User, expert: User, staff: User, bureau_a: Bureau) -> tuple[Consultation, str, str, str]:
    consultation = open_consultation(deputy, expert, bureau_a)
    return consultation, session_cookie(deputy), session_cookie(expert), session_cookie(staff)


PER_PAGE = 40
KILL_AFTER = 10  # the deputy's 10th message goes out just before Redis dies
OUTAGE_S = 1.0


async def test_redis_killed_and_restarted_while_both_sides_send_loses_and_doubles_nothing(
    own_daphne: LiveServer, own_redis: OwnRedis, chat_pair: tuple[Consultation, str, str, str]
) -> None:
    consultation, deputy_cookie, expert_cookie, staff_cookie = chat_pair
    outage: list[asyncio.Task[None]] = []
    sent_when_killed: list[int] = []

    async def kill_and_restart() -> None:
        await asyncio.to_thread(own_redis.kill)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(own_redis.start)

    def kill_once(page: Page) -> None:
        if page.sent == KILL_AFTER and not outage:
            sent_when_killed.append(page.sent)
            outage.append(asyncio.get_running_loop().create_task(kill_and_restart()))

    deputy_page = Page(
        "deputy",
        own_daphne,
        deputy_cookie,
        consultation.pk,
        [f"代表第{n}条" for n in range(PER_PAGE)],
        on_sent=kill_once,
    )
    expert_page = Page("expert", own_daphne, expert_cookie, consultation.pk, [f"专家第{n}条" for n in range(PER_PAGE)])
    second_tab = Page("tab", own_daphne, deputy_cookie, consultation.pk, [])  # the deputy's other tab only reads
    office = Page("office", own_daphne, staff_cookie, consultation.pk, [])  # the office follows, read-only
    pages = [deputy_page, expert_page, second_tab, office]

    await run_pages(pages)

    assert sent_when_killed == [KILL_AFTER]  # the outage began while both were still sending
    await asyncio.wait_for(outage[0], 30)
    await database_sync_to_async(assert_everyone_holds_the_thread_exactly_once)(pages, consultation)
    print(*(f"{page.name}: {page.state()}" for page in pages), sep="\n")


# --- a client drops right after sending ---------------------------------------------------------------------

ROUNDS = 8


@pytest.fixture
def consultation_and_cookies(
    daphne_server: LiveServer, deputy: User, expert: User, bureau_a: Bureau
) -> tuple[Consultation, str, str]:
    return open_consultation(deputy, expert, bureau_a), session_cookie(deputy), session_cookie(expert)


@pytest.mark.parametrize("drop", ["close", "abort"])
async def test_a_client_dropping_before_the_ack_and_resending_makes_exactly_one_message(
    daphne_server: LiveServer, consultation_and_cookies: tuple[Consultation, str, str], drop: str
) -> None:
    consultation, deputy_cookie, expert_cookie = consultation_and_cookies
    expert_ws, _ = await greeted(daphne_server, consultation.pk, expert_cookie)
    acks: dict[str, int] = {}

    for round_ in range(ROUNDS):
        client_id = f"drop-{round_}"
        ws, hello = await greeted(daphne_server, consultation.pk, deputy_cookie)
        await send(ws, {"type": "send", "client_id": client_id, "body": f"第{round_}条,发完就断线"})
        if drop == "abort":
            ws.transport.abort()  # the connection is gone without a closing handshake
        else:
            await ws.close()

        again, _ = await greeted(daphne_server, consultation.pk, deputy_cookie)
        await send(again, {"type": "sync", "after": hello["consultation"]["last_seq"]})
        await send(again, {"type": "send", "client_id": client_id, "body": f"第{round_}条,发完就断线"})
        ack = (await frames_until(again, of_type("ack")))[-1]
        acks[client_id] = ack["seq"]
        await again.close()

    last = max(acks.values())
    seen_by_expert = await frames_until(expert_ws, is_message(last), limit=10 * ROUNDS)
    await expert_ws.close()

    stored = await database_sync_to_async(thread_in_db)(consultation)
    assert [seq for seq, _ in stored] == list(range(1, 2 + ROUNDS + 1))
    assert {client_id: seq for seq, client_id in stored if client_id} == acks
    assert [f["message"]["seq"] for f in seen_by_expert if f["type"] == "message"] == list(range(3, last + 1))


# --- Redis restarts under open sockets and during handshakes (issue 11, item 9) ---------------------------


def layer_channel_of(consultation: Consultation) -> str:
    """The Redis pub/sub channel the chat group of ``consultation`` is carried on (channels_redis' naming)."""
    from chat.services import group_name

    return f"{settings.CHANNEL_LAYER_PREFIX}__group__{group_name(consultation.pk)}"


def subscribers(redis: OwnRedis, channel: str) -> int:
    """``PUBSUB NUMSUB``, asked of the test's own redis-server (0 while it is down)."""
    name = channel.encode()
    command = b"*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$%d\r\n%s\r\n" % (len(name), name)
    try:
        with socket.create_connection(("127.0.0.1", redis.port), timeout=1) as conn:
            conn.sendall(command)
            reply = conn.recv(4096)
    except OSError:
        return 0
    return int(reply.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1].lstrip(b":"))


async def wait_for_subscribers(redis: OwnRedis, channel: str) -> None:
    for _ in range(600):  # bounded: a guard against hangs, not a measurement
        if await asyncio.to_thread(subscribers, redis, channel) >= 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"nobody subscribed to {channel} again")


async def test_a_handshake_while_redis_is_down_is_closed_1013_and_greeted_once_it_is_back(
    own_daphne: LiveServer, own_redis: OwnRedis, chat_pair: tuple[Consultation, str, str, str]
) -> None:
    from tests.sockets import close_code_after, open_socket

    consultation, deputy_cookie, _, _ = chat_pair
    await asyncio.to_thread(own_redis.kill)

    # when a chat socket and a live socket open while Redis is down
    async with chat_socket(own_daphne, consultation.pk, deputy_cookie) as ws:
        chat_code = await close_code_after(ws)
    async with open_socket(own_daphne, deputy_cookie) as ws:
        live_code = await close_code_after(ws)

    # then each handshake is accepted and closed with 1013, try again later (not HTTP 500)
    assert (chat_code, live_code) == (1013, 1013)

    # and once Redis is back, the same sockets open and are greeted
    await asyncio.to_thread(own_redis.start)
    ws, hello = await greeted(own_daphne, consultation.pk, deputy_cookie)
    assert hello["consultation"]["last_seq"] == 2
    await ws.close()


async def test_after_a_redis_restart_the_next_broadcast_reaches_a_socket_that_stayed_open(
    own_daphne: LiveServer, own_redis: OwnRedis, chat_pair: tuple[Consultation, str, str, str]
) -> None:
    consultation, deputy_cookie, expert_cookie, _ = chat_pair
    expert_ws, _ = await greeted(own_daphne, consultation.pk, expert_cookie)
    deputy_ws, _ = await greeted(own_daphne, consultation.pk, deputy_cookie)
    await send(deputy_ws, {"type": "send", "client_id": "before", "body": "重启之前"})
    await frames_until(deputy_ws, of_type("ack"))
    await frames_until(expert_ws, is_message(3))  # the layer's connections are in use

    # when Redis is killed and restarted under both open sockets
    await asyncio.to_thread(own_redis.kill)
    await asyncio.to_thread(own_redis.start)
    await wait_for_subscribers(own_redis, layer_channel_of(consultation))  # redis-py subscribed again by itself

    # then the next message is broadcast to the expert, who never reconnected nor synced
    await send(deputy_ws, {"type": "send", "client_id": "after", "body": "重启之后的第一条"})
    ack = (await frames_until(deputy_ws, of_type("ack")))[-1]
    assert ack["seq"] == 4
    frames = await frames_until(expert_ws, is_message(4))
    assert frames[-1]["message"]["body"] == "重启之后的第一条"
    await expert_ws.close()
    await deputy_ws.close()


async def test_a_broadcast_lost_in_the_outage_is_filled_by_the_next_pong(
    own_daphne: LiveServer, own_redis: OwnRedis, chat_pair: tuple[Consultation, str, str, str]
) -> None:
    consultation, deputy_cookie, expert_cookie, _ = chat_pair
    expert_ws, hello = await greeted(own_daphne, consultation.pk, expert_cookie)
    held = hello["consultation"]["last_seq"]
    deputy_ws, _ = await greeted(own_daphne, consultation.pk, deputy_cookie)

    # when the deputy sends while Redis is down: the message is stored and acknowledged, its broadcast is lost
    await asyncio.to_thread(own_redis.kill)
    await send(deputy_ws, {"type": "send", "client_id": "in-outage", "body": "停电时发的"})
    ack = (await frames_until(deputy_ws, of_type("ack")))[-1]
    assert ack["seq"] == held + 1
    await asyncio.to_thread(own_redis.start)

    # then the expert's next heartbeat tells it the thread goes further, and one sync fills the gap
    await send(expert_ws, {"type": "ping", "ref": 1})
    pong = (await frames_until(expert_ws, of_type("pong")))[-1]
    assert pong["last_seq"] == held + 1 > held
    await send(expert_ws, {"type": "sync", "after": held})
    page = (await frames_until(expert_ws, of_type("messages")))[-1]
    assert [(m["seq"], m["client_id"]) for m in page["items"]] == [(held + 1, "in-outage")]
    assert page["last_seq"] == held + 1
    await expert_ws.close()
    await deputy_ws.close()


def rate_warnings(server: LiveServer) -> int:
    """How often the server's log says the send limit could not be checked (one line per warning)."""
    port = server.url.rsplit(":", 1)[-1]
    text = (Path(settings.VAR_DIR) / f"daphne-faults-{port}.log").read_text(errors="replace")
    return text.count("send-rate cache unavailable")


async def test_the_send_limit_warns_once_per_outage_not_once_per_message(
    own_daphne: LiveServer, own_redis: OwnRedis, chat_pair: tuple[Consultation, str, str, str]
) -> None:
    consultation, deputy_cookie, _, _ = chat_pair
    deputy_ws, hello = await greeted(own_daphne, consultation.pk, deputy_cookie)
    seq = hello["consultation"]["last_seq"]
    warned: list[int] = []
    for outage in range(2):
        await asyncio.to_thread(own_redis.kill)
        for n in range(8):  # within the socket's send budget (burst 20)
            await send(deputy_ws, {"type": "send", "client_id": f"o{outage}-{n}", "body": f"停电{outage}第{n}条"})
            seq = (await frames_until(deputy_ws, of_type("ack")))[-1]["seq"]
        await asyncio.to_thread(own_redis.start)
        for n in range(3):  # Redis is back: the limit is checked again, which ends the outage for the log
            await send(deputy_ws, {"type": "send", "client_id": f"back{outage}-{n}", "body": "恢复"})
            seq = (await frames_until(deputy_ws, of_type("ack")))[-1]["seq"]
        warned.append(rate_warnings(own_daphne))
    await deputy_ws.close()

    # every message went through (not limited while the limit could not be checked), and the log has one
    # warning per outage (at most one per send path: on the event loop, and the thread's fallback), not 8
    assert seq == hello["consultation"]["last_seq"] + 22
    assert 1 <= warned[0] <= 2, warned
    assert 1 <= warned[1] - warned[0] <= 2, warned
