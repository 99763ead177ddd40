"""How fast the chat socket persists and fans out messages, against baselines measured in the same run.

Run with ``make bench`` (PostgreSQL and Redis only; skipped elsewhere). What one run measures:

1. **The full stack** under Daphne (``consult.asgi``: session-cookie auth, membership check, rate check,
   ``post_message`` in PostgreSQL, broadcast on commit through the configured channel layer, the ``ack``):
   ``BENCH_CHAT_ROOMS`` (100) consultations of three members (the deputy and the expert send, a staff
   member reads) at ``BENCH_CHAT_RATES`` (200, 500, 800) messages a second in all, then one room of
   ``BENCH_CHAT_BIG_ROOM`` (50: the deputy and the expert send, 48 staff read) at ``BENCH_CHAT_BIG_RATES``
   (50, 100), each for ``BENCH_CHAT_SECONDS`` (8). With one Daphne process, then with each count in
   ``BENCH_CHAT_PROCESSES`` (1,2): every member of a room connects to process ``(room + member) % n``,
   so fan-out crosses processes through Redis.
2. **Idle sockets**: ``BENCH_CHAT_IDLE`` (2000) authenticated chat sockets held open on a fresh Daphne
   process, its RSS (``/proc/<pid>/status``, children included) before and after, then a ping on each.
3. **Baselines**, same rooms and rates: a bare ``websockets`` relay (same frames, numbering in memory, no
   auth, no database, no channel layer), and channels_redis alone (``group_send`` to N channels in one
   process, no Django): the pub/sub layer the app uses and the core ``RedisChannelLayer`` (``BENCH_CHAT_CORE=0``
   skips the core layer).

The load runs in its own process (``tests/bench/chat_load.py``, one asyncio loop), not in pytest's. A sender
keeps at most ``BENCH_CHAT_WINDOW`` (2) messages unacknowledged; slots that find the window full are skipped
("held"), so an overloaded server shows as sent/s below target rather than as an unbounded backlog. Latency
runs from the send to each member's receipt (``time.perf_counter()`` embedded in the body). After sending,
a drain of at most ``BENCH_CHAT_DRAIN`` (10) s waits for every delivery; later ones are "late" (still in
the percentiles). "lost": deliveries the database says were due (rows with the step's client ids × room
size) that never arrived; "dup": a sequence number received twice by one member. Nothing is asserted
about time; duplicates and acks without a row are asserted absent.

CPU is read from ``/proc`` at the edges of each step, in % of one core: the server (Daphne, or the relay),
PostgreSQL (the postmaster and all its backends, other sessions' included), Redis, the load client, and
"other" (the whole machine minus those: the neighbours' share, which this 2-core machine does not keep
out). "cpu ms/msg" divides the server's and PostgreSQL's CPU by the acked rate: what one message costs,
which moves less with the neighbours than rates and latencies do.

Knobs: the Daphne children get the environment of this process (``DATABASE_CONN_MAX_AGE``,
``REDIS_MAX_CONNECTIONS``...) plus ``CHAT_SEND_RATE_PER_MINUTE`` set out of the way;
``BENCH_CHAT_APP_DIR`` runs Daphne from another checkout of the same schema (to measure a change);
``BENCH_CHAT_BASELINES=0`` and ``BENCH_CHAT_IDLE=0`` leave out the baselines and the idle sockets.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from chat.models import Message
from consult.models import Bureau, Consultation, ConsultationStatus, ExpertProfile, User
from consult.people.roles import Role
from tests.conftest import REPO_ROOT, child_env, free_port, stop, wait_until_serving
from tests.sockets import session_cookie

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]


def _numbers(name: str, default: str) -> list[int]:
    return [int(v) for v in os.environ.get(name, default).split(",") if v.strip()]


SECONDS = float(os.environ.get("BENCH_CHAT_SECONDS", "8"))
SMALL_RATES = _numbers("BENCH_CHAT_RATES", "200,500,800")
BIG_RATES = _numbers("BENCH_CHAT_BIG_RATES", "50,100")
ROOMS = int(os.environ.get("BENCH_CHAT_ROOMS", "100"))
BIG_ROOM = int(os.environ.get("BENCH_CHAT_BIG_ROOM", "50"))
IDLE = int(os.environ.get("BENCH_CHAT_IDLE", "2000"))
PROCESSES = _numbers("BENCH_CHAT_PROCESSES", "1,2")
WINDOW = int(os.environ.get("BENCH_CHAT_WINDOW", "2"))
DRAIN_S = float(os.environ.get("BENCH_CHAT_DRAIN", "10"))
CORE_LAYER = os.environ.get("BENCH_CHAT_CORE", "1") == "1"
BASELINES = os.environ.get("BENCH_CHAT_BASELINES", "1") == "1"
APP_DIR = Path(os.environ.get("BENCH_CHAT_APP_DIR", str(REPO_ROOT)))
# Far above any step's rate per user: the benchmark measures the path, not the limiter's refusals.
SEND_RATE_PER_MINUTE = "100000000"


# --- who is in which room ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    cookie: str
    sends: bool


@dataclass(frozen=True)
class Room:
    consultation_id: int
    seats: list[Seat]


@dataclass(frozen=True)
class Cast:
    small: list[Room]
    big: Room


def person(username: str, role: str) -> User:
    return User.objects.create(username=username, full_name=f"压测{username}", role=role)


def active_consultation(index: int, bureau: Bureau, deputy: User, expert: ExpertProfile) -> Consultation:
    at = timezone.now()
    return Consultation.objects.create(
        deputy=deputy,
        bureau=bureau,
        expert=expert,
        topic=f"压测咨询 {index}",
        status=ConsultationStatus.ACTIVE,
        created_at=at,
        assigned_at=at,
    )


@pytest.fixture
def cast(transactional_db: None) -> Cast:
    if connection.vendor != "postgresql":
        pytest.skip("the chat benchmark needs PostgreSQL (set DATABASE_URL)")
    if not settings.REDIS_URL:
        pytest.skip("the chat benchmark needs Redis (the in-memory layer does not cross processes)")
    started = time.perf_counter()
    bureau = Bureau.objects.create(code="bench", name="市压测局", full_name="海滨市压测局")
    staff = [session_cookie(person(f"bench-staff-{i}", Role.STAFF)) for i in range(BIG_ROOM - 2)]

    def room(index: int, readers: list[str]) -> Room:
        deputy = person(f"bench-deputy-{index}", Role.DEPUTY)
        expert = ExpertProfile.objects.create(user=person(f"bench-expert-{index}", Role.EXPERT), bureau=bureau)
        consultation = active_consultation(index, bureau, deputy, expert)
        senders = [Seat(session_cookie(deputy), True), Seat(session_cookie(expert.user), True)]
        return Room(consultation.pk, senders + [Seat(cookie, False) for cookie in readers])

    small = [room(i, [staff[i % len(staff)]]) for i in range(ROOMS)]
    big = room(ROOMS, staff)
    print(f"\ncast: {ROOMS} rooms of 3 + 1 room of {BIG_ROOM}, built in {time.perf_counter() - started:.1f} s")
    return Cast(small, big)


# --- processes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@contextlib.contextmanager
def daphnes(count: int) -> Iterator[list[Server]]:
    servers: list[Server] = []
    logs = []
    env = child_env(CHAT_SEND_RATE_PER_MINUTE=SEND_RATE_PER_MINUTE, LOG_LEVEL="WARNING")
    try:
        for _ in range(count):
            port = free_port()
            log = open(Path(settings.VAR_DIR) / f"bench-daphne-{port}.log", "wb")  # noqa: SIM115 (closed below)
            logs.append(log)
            command = [
                sys.executable,
                "-m",
                "consult.realtime.server",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "consult.asgi:application",
            ]
            process = subprocess.Popen(command, cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
            servers.append(Server(process, port))
        for server in servers:
            wait_until_serving(f"{server.http}/accounts/login/", server.process)
        yield servers
    finally:
        for server in servers:
            stop(server.process)
        for log in logs:
            log.close()


@contextlib.contextmanager
def relay_server() -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "tests.bench.chat_load", "relay", str(port)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "the relay did not start"
        assert process.stdout.readline().strip() == b"ready", "the relay did not start"
        yield Server(process, port)
    finally:
        stop(process)


def run_helper(mode: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.chat_load", mode],
        cwd=REPO_ROOT,
        input=json.dumps(spec) + "\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chat_load {mode} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def proc_comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def proc_ppid(pid: int) -> int:
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(data[data.rindex(")") + 2 :].split()[1])


def find_services() -> dict[str, list[int]]:
    """The PostgreSQL postmaster and the Redis server this run uses, when they run on this machine."""
    redis = urlparse(settings.REDIS_URL)
    redis_mark = redis.path if redis.scheme == "unix" else f":{redis.port or 6379}"
    found: dict[str, list[int]] = {"postgres": [], "redis": []}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        comm = proc_comm(pid)
        if comm == "postgres" and proc_comm(proc_ppid(pid)) != "postgres":
            found["postgres"].append(pid)
        elif comm == "redis-server":
            with contextlib.suppress(OSError):
                if redis_mark in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode():
                    found["redis"].append(pid)
    return found


def rss_kb(pid: int) -> int:
    """VmRSS of a process and its descendants."""
    total = 0
    for entry in [pid, *[int(e) for e in os.listdir("/proc") if e.isdigit() and proc_ppid(int(e)) == pid]]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


@contextlib.contextmanager
def more_file_descriptors() -> Iterator[int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield max(soft, wanted)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --- runs --------------------------------------------------------------------------------------


@dataclass
class Row:
    system: str
    layout: str
    step: dict[str, Any]
    lost: int
    persisted: int | None = None
    notes: list[str] = field(default_factory=list)


def steps_for(prefix: str, rates: list[int]) -> list[dict[str, Any]]:
    run = uuid.uuid4().hex[:6]
    return [{"tag": f"{prefix}{rate}x{run}", "rate": rate, "seconds": SECONDS} for rate in rates]


def helper_timeout(sockets: int, steps: list[dict[str, Any]]) -> float:
    return 60 + sockets * 0.05 + sum(float(s["seconds"]) + DRAIN_S + 1 for s in steps)


def room_members(rooms: list[Room], servers: list[Server]) -> list[dict[str, Any]]:
    return [
        {
            "members": [
                {
                    "url": f"{servers[(r + j) % len(servers)].ws}/ws/consultations/{room.consultation_id}/",
                    "origin": servers[(r + j) % len(servers)].http,
                    "cookie": seat.cookie,
                    "sends": seat.sends,
                }
                for j, seat in enumerate(room.seats)
            ]
        }
        for r, room in enumerate(rooms)
    ]


def load_spec(rooms: list[dict[str, Any]], steps: list[dict[str, Any]], watch: dict[str, list[int]]) -> dict[str, Any]:
    return {"rooms": rooms, "steps": steps, "window": WINDOW, "drain_s": DRAIN_S, "concurrency": 50, "watch": watch}


def full_stack(cast: Cast, processes: int, services: dict[str, list[int]]) -> list[Row]:
    rows = []
    label = f"Daphne ×{processes}"
    with daphnes(processes) as servers:
        watch = {"server": [s.process.pid for s in servers], **services}
        for layout, rooms, rates, prefix in (
            (f"{ROOMS}×3", cast.small, SMALL_RATES, "s"),
            (f"1×{BIG_ROOM}", [cast.big], BIG_RATES, "b"),
        ):
            if not rates:
                continue
            steps = steps_for(prefix, rates)
            sockets = sum(len(r.seats) for r in rooms)
            spec = load_spec(room_members(rooms, servers), steps, watch)
            result = run_helper("load", spec, helper_timeout(sockets, steps))
            opened = result["open"]
            print(f"  {label} {layout}: {opened['ok']}/{opened['sockets']} sockets in {opened['seconds']:.1f} s")
            assert opened["ok"] == opened["sockets"], opened["errors"]
            sizes = {room.consultation_id: len(room.seats) for room in rooms}
            for step in result["steps"]:
                rows.append(checked_against_database(label, layout, step, sizes))
                print_row(rows[-1])
    return rows


def checked_against_database(label: str, layout: str, step: dict[str, Any], sizes: dict[int, int]) -> Row:
    persisted = dict(
        Message.objects.filter(client_id__startswith=f"{step['tag']}.")
        .values_list("consultation_id")
        .annotate(n=Count("id"))
        .values_list("consultation_id", "n")
    )
    due = sum(count * sizes[consultation_id] for consultation_id, count in persisted.items())
    total = sum(persisted.values())
    assert step["duplicates"] == 0, f"{label} {step['tag']}: a member received a message twice"
    assert step["acked"] <= total, f"{label} {step['tag']}: an ack without a stored message"
    return Row(label, layout, step, lost=due - step["delivered"], persisted=total)


def relay_baseline(cast: Cast) -> list[Row]:
    rows = []
    with relay_server() as relay:
        for layout, rooms, rates, prefix in (
            (f"{ROOMS}×3", cast.small, SMALL_RATES, "rs"),
            (f"1×{BIG_ROOM}", [cast.big], BIG_RATES, "rb"),
        ):
            members = room_members(rooms, [relay])
            for room in members:
                for member in room["members"]:
                    member["cookie"] = ""
            steps = steps_for(prefix, rates)
            spec = load_spec(members, steps, {"server": [relay.process.pid]})
            result = run_helper("load", spec, helper_timeout(len(members) * 3, steps))
            for step in result["steps"]:
                rows.append(Row("websockets relay", layout, step, lost=step["expected_by_acks"] - step["delivered"]))
                print_row(rows[-1])
    return rows


def layer_baseline(backend: str, services: dict[str, list[int]]) -> list[Row]:
    rows = []
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    host: dict[str, Any] = layer["CONFIG"]["hosts"][0]
    label = {"pubsub": "channels_redis pub/sub", "core": "channels_redis core"}[backend]
    for layout, sizes, rates, prefix in (
        (f"{ROOMS}×3", [3] * ROOMS, SMALL_RATES, "ls"),
        (f"1×{BIG_ROOM}", [BIG_ROOM], BIG_RATES, "lb"),
    ):
        steps = steps_for(prefix, rates)
        spec = {
            "backend": backend,
            "redis_url": host["address"],
            "max_connections": host.get("max_connections", 1000),
            "prefix": f"bench-{uuid.uuid4().hex[:8]}",
            "rooms": sizes,
            "steps": steps,
            "drain_s": min(DRAIN_S, 5.0),
            "watch": {"redis": services["redis"]},
        }
        result = run_helper("layer", spec, helper_timeout(sum(sizes), steps))
        for step in result["steps"]:
            rows.append(Row(label, layout, step, lost=step["expected_by_acks"] - step["delivered"]))
            print_row(rows[-1])
    return rows


@dataclass
class IdleResult:
    target: int
    opened: int
    open_s: float
    rss_before_kb: int
    rss_after_kb: int
    answered_ping: int
    alive_after: bool
    errors: dict[str, int]

    @property
    def kb_per_connection(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / max(1, self.opened)

    @property
    def held(self) -> bool:
        return self.opened == self.target and self.answered_ping == self.target and self.alive_after


def idle_members(cast: Cast, server: Server, count: int) -> list[dict[str, Any]]:
    members = []
    for k in range(count):
        room = cast.small[k % len(cast.small)]
        seat = room.seats[(k // len(cast.small)) % len(room.seats)]
        url = f"{server.ws}/ws/consultations/{room.consultation_id}/"
        members.append({"url": url, "origin": server.http, "cookie": seat.cookie, "sends": False})
    return members


def hold_idle(server: Server, members: list[dict[str, Any]], settle_s: float) -> tuple[dict[str, Any], int]:
    """Open the sockets, read the server's RSS while they are held, then ping them all."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.chat_load", "idle"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps({"members": members, "concurrency": 50, "hold_max_s": 120}) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 60 + len(members) * 0.05)
        assert ready, "the idle client did not report its sockets"
        json.loads(process.stdout.readline())
        time.sleep(settle_s)
        rss = rss_kb(server.process.pid)
        process.stdin.write("go\n")
        process.stdin.flush()
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-3000:]
        return json.loads(out.strip().splitlines()[-1]), rss
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def idle_connections(cast: Cast) -> IdleResult:
    with daphnes(1) as (server,):
        hold_idle(server, idle_members(cast, server, 20), 0)  # warm: imports, pools, the first subscriptions
        time.sleep(1)
        before = rss_kb(server.process.pid)
        result, after = hold_idle(server, idle_members(cast, server, IDLE), 3)
        alive = server.process.poll() is None
    return IdleResult(
        target=IDLE,
        opened=result["open"]["ok"],
        open_s=result["open"]["seconds"],
        rss_before_kb=before,
        rss_after_kb=after,
        answered_ping=result["answered_ping"],
        alive_after=alive,
        errors=result["open"]["errors"],
    )


# --- the report --------------------------------------------------------------------------------

HEADER = (
    f"{'system':<22} {'rooms':>6} {'target':>6} {'sent/s':>6} {'acked/s':>7} {'deliv/s':>7} {'p50 ms':>7} "
    f"{'p99 ms':>7} {'ack p99':>7} {'held':>5} {'late':>5} {'lost':>4} {'dup':>3} │ cpu% {'server':>6} {'pg':>3} "
    f"{'redis':>5} {'client':>6} {'other':>5} │ cpu ms/msg {'server':>6} {'pg':>4}"
)
OURS = ("server", "postgres", "redis", "client")


def fmt(value: float | None, width: int, digits: int = 0) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def per_message_ms(cpu_percent: float | None, rate: float) -> float | None:
    """CPU milliseconds spent per acked message: what the step's rate cost, whoever else used the machine."""
    return None if cpu_percent is None or rate < 1 else cpu_percent * 10 / rate


def row_text(row: Row) -> str:
    s, cpu = row.step, row.step["cpu"]
    other = cpu["machine"] - sum(cpu.get(name, 0.0) for name in OURS)  # everybody else on the machine
    server = cpu.get("server", cpu["client"] if row.system.startswith("channels_redis") else None)
    return (
        f"{row.system:<22} {row.layout:>6} {s['target_rate']:>6.0f} {s['sent_per_s']:>6.0f} {s['acked_per_s']:>7.0f} "
        f"{s['delivered_per_s']:>7.0f} {fmt(s['p50_ms'], 7, 1)} {fmt(s['p99_ms'], 7, 1)} {fmt(s['ack_p99_ms'], 7, 1)} "
        f"{s['held_back']:>5} {s['late']:>5} {row.lost:>4} {s['duplicates']:>3} │      {fmt(cpu.get('server'), 6)} "
        f"{fmt(cpu.get('postgres'), 3)} {fmt(cpu.get('redis'), 5)} {fmt(cpu.get('client'), 6)} {fmt(max(0, other), 5)} "
        f"│            {fmt(per_message_ms(server, s['acked_per_s']), 6, 2)} "
        f"{fmt(per_message_ms(cpu.get('postgres'), s['acked_per_s']), 4, 1)}"
        + (f"  {s['errors']}" if s.get("errors") else "")
    )


def print_row(row: Row) -> None:
    print("  " + row_text(row), flush=True)


def print_report(rows: list[Row], idle: IdleResult | None, load: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    host: dict[str, Any] = layer["CONFIG"]["hosts"][0] if "CONFIG" in layer else {}
    print(
        f"\nchat load, {SECONDS:.0f} s a step, sender window {WINDOW}, drain ≤ {DRAIN_S:.0f} s; "
        f"{os.cpu_count()} CPUs; load average {load[0][0]:.2f} at start, {load[1][0]:.2f} at end"
    )
    print(
        f"knobs: layer {layer['BACKEND'].rsplit('.', 1)[-1]} (max_connections {host.get('max_connections', '-')}), "
        f"Daphne processes {PROCESSES}, DATABASE_CONN_MAX_AGE {settings.DATABASES['default']['CONN_MAX_AGE']}, "
        f"ASGI_THREADS {os.environ.get('ASGI_THREADS', 'default')}, app from {APP_DIR}"
    )
    print(HEADER)
    for row in rows:
        print(row_text(row))
    print(
        "target/sent/acked: messages a second (acked: stored in PostgreSQL for the full stack, group_send "
        "returned for channels_redis); deliv/s: message frames\nreceived by all members; p50/p99: send → each "
        "member's receipt (ack p99: send → ack); held: send slots skipped, sender's window full; late: "
        "deliveries\nafter the drain; lost: due deliveries never received (due: rows in PostgreSQL × room size); "
        "cpu%: of one core, other = the machine minus the columns before it;\ncpu ms/msg: CPU time of the "
        "server (for channels_redis: the probe process) and of PostgreSQL per acked message"
    )
    if idle is not None:
        print(
            f"\nidle sockets: {idle.opened}/{idle.target} opened in {idle.open_s:.1f} s, "
            f"{idle.answered_ping} answered a ping; Daphne RSS {idle.rss_before_kb / 1024:.0f} MiB → "
            f"{idle.rss_after_kb / 1024:.0f} MiB: {idle.kb_per_connection:.1f} KB a connection, "
            f"{idle.kb_per_connection * 1000 / 1024:.1f} MiB per 1 000; {idle.target} held: "
            f"{'yes' if idle.held else 'no'}" + (f"; errors {idle.errors}" if idle.errors else "")
        )
    baselines = {(r.system, r.layout, r.step["target_rate"]): r for r in rows}
    print("\nfull stack against the relay (same rooms, same rate): acked/s ratio, p99 ratio")
    for row in rows:
        if row.system.startswith("Daphne"):
            relay = baselines.get(("websockets relay", row.layout, row.step["target_rate"]))
            if relay is not None and relay.step["p99_ms"] and row.step["p99_ms"]:
                print(
                    f"  {row.system:<10} {row.layout:>6} {row.step['target_rate']:>5.0f}/s: "
                    f"{row.step['acked_per_s'] / max(1.0, relay.step['acked_per_s']):.2f} of the relay's rate, "
                    f"p99 {row.step['p99_ms'] / relay.step['p99_ms']:.1f}× the relay's"
                )


def test_chat_throughput_latency_and_idle_sockets_against_baselines(cast: Cast) -> None:
    load_start = os.getloadavg()
    services = find_services()
    rows: list[Row] = []
    idle = None
    with more_file_descriptors() as limit:
        print(f"file descriptors: {limit}; watching {services}; load average {load_start}")
        for processes in PROCESSES:
            rows += full_stack(cast, processes, services)
        if IDLE:
            idle = idle_connections(cast)
        if BASELINES:
            rows += relay_baseline(cast)
            rows += layer_baseline("pubsub", services)
        if BASELINES and CORE_LAYER:
            rows += layer_baseline("core", services)
    print_report(rows, idle, (load_start, os.getloadavg()))
