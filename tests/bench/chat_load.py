"""The processes of the chat benchmark (``tests/bench/bench_chat.py``) that must not share pytest's core.

Run as ``python -m tests.bench.chat_load MODE``; a JSON spec comes on stdin and a JSON result goes out as
the last line of stdout. No Django here, so a load client does not carry the app it measures.

- ``load``: opens every member's socket (``websockets``, one asyncio loop), then for each step sends
  ``send`` frames at a target rate spread round-robin over the senders of every room, and records acks
  (``ack{client_id, seq}``) and the ``message`` broadcasts each member receives. Each body carries its
  send time (``t=…``, ``time.perf_counter()``: CLOCK_MONOTONIC, one clock for the whole machine), so
  latency is receive time minus that. A sender holds at most ``window`` unacked messages; a slot that
  finds the window full is skipped and counted as ``held_back`` (offered load falls to what the server
  takes, instead of an unbounded backlog). After the sending window a drain waits, bounded, until every
  acked message reached every member of its room.
- ``idle``: opens N sockets, prints ``ready`` and holds them until told ``go`` on stdin, then pings each
  one (an application ``ping`` → ``pong``) and closes them.
- ``relay``: the baseline server. The same frames as the chat socket (hello, send → broadcast then ack,
  ping → pong), rooms by URL path, numbering per room in memory; no auth, no database, no channel layer.
- ``layer``: channels_redis alone. One process, like one Daphne: N channels from ``new_channel()`` joined
  to groups (rooms), receive loops on each, and a sender doing ``group_send`` at the target rate.

CPU use of the watched processes (Daphne, the PostgreSQL server and its backends, Redis) and of the whole
machine is read from ``/proc`` at the edges of each step; see :class:`CpuWatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import select
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

OPEN_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 2.0
TICK_S = 0.002  # the sender wakes at most this often; every slot due by then goes out
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def now() -> float:
    return time.perf_counter()


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


async def wait_until(done: Callable[[], bool], deadline: float, every: float = 0.02) -> bool:
    """Poll ``done`` until it holds or the deadline (a ``now()`` value) passes; whether it held."""
    while True:
        if done():
            return True
        if now() >= deadline:
            return False
        await asyncio.sleep(every)


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


# --- CPU of the processes around the load -------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return data[data.rindex(")") + 2 :].split()  # fields from 3 (state) on; the name may hold spaces


def process_cpu_s(pid: int, reaped_children: bool = False) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children already waited for
    return ticks / _CLK_TCK


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry))
    return found


def tree_cpu_s(root: int) -> float:
    """A process and its children, living and reaped.

    For the PostgreSQL postmaster this counts backends that lived only during the step (a backend per
    message when ``CONN_MAX_AGE=0``); a backend that ends during the step brings its whole life's CPU with
    it, and other sessions on the same server are counted too.
    """
    return process_cpu_s(root, reaped_children=True) + sum(process_cpu_s(child) for child in children_of(root))


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


class CpuWatch:
    """CPU seconds of watched process trees between two readings, as % of one core over the wall time."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self._start: dict[str, float] = {}
        self._machine = (0.0, 0.0)
        self._wall = 0.0
        self._own = 0.0

    def _read(self) -> dict[str, float]:
        return {name: sum(tree_cpu_s(pid) for pid in pids) for name, pids in self.groups.items()}

    def start(self) -> None:
        self._start = self._read()
        self._machine = machine_busy()
        self._wall = now()
        self._own = time.process_time()

    def stop(self) -> dict[str, float]:
        wall = max(1e-6, now() - self._wall)
        end = self._read()
        usage = {name: 100 * (end[name] - self._start.get(name, 0.0)) / wall for name in end}
        usage["client"] = 100 * (time.process_time() - self._own) / wall
        busy, total = machine_busy()
        cores = os.cpu_count() or 1
        usage["machine"] = 100 * cores * (busy - self._machine[0]) / max(1.0, total - self._machine[1])
        return usage


# --- the load client ---------------------------------------------------------------------------


@dataclass
class StepStats:
    tag: str
    sizes: dict[int, int]
    sent: int = 0
    held_back: int = 0
    acks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    send_at: dict[str, float] = field(default_factory=dict)
    ack_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    acked_by_room: Counter[int] = field(default_factory=Counter)
    unique_by_room: Counter[int] = field(default_factory=Counter)
    duplicates: int = 0
    late: int = 0
    target_rate: float = 0.0
    first_send: float = 0.0
    send_window: float = 0.0
    last_send: float = 0.0
    last_ack: float = 0.0
    last_delivery: float = 0.0
    closed_at: float | None = None
    drained: bool = False
    acked_per_s: float = 0.0
    delivered_per_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    def expected(self) -> int:
        return sum(count * self.sizes[room] for room, count in self.acked_by_room.items())

    def delivered(self) -> int:
        return sum(self.unique_by_room.values())

    def complete(self) -> bool:
        return self.acks + sum(self.errors.values()) >= self.sent and self.delivered() >= self.expected()

    def close(self, cpu: dict[str, float]) -> None:
        """The end of the drain: rates are counted up to here; later arrivals are "late" but still counted."""
        self.closed_at, self.drained, self.cpu = now(), self.complete(), cpu
        end = self.closed_at if not self.drained else max(self.last_ack, self.last_delivery, self.last_send)
        busy = max(1e-6, end - self.first_send)
        self.acked_per_s, self.delivered_per_s = self.acks / busy, self.delivered() / busy

    def report(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "target_rate": self.target_rate,
            "seconds": self.send_window,
            "sent": self.sent,
            "held_back": self.held_back,
            "acked": self.acks,
            "errors": dict(self.errors),
            "acked_by_room": {str(k): v for k, v in self.acked_by_room.items()},
            "unique_by_room": {str(k): v for k, v in self.unique_by_room.items()},
            "expected_by_acks": self.expected(),
            "delivered": self.delivered(),
            "late": self.late,
            "duplicates": self.duplicates,
            "sent_per_s": self.sent / max(1e-6, self.send_window),
            "acked_per_s": self.acked_per_s,
            "delivered_per_s": self.delivered_per_s,
            "p50_ms": percentile(self.latency_ms, 50),
            "p99_ms": percentile(self.latency_ms, 99),
            "max_ms": max(self.latency_ms, default=None),
            "ack_p50_ms": percentile(self.ack_ms, 50),
            "ack_p99_ms": percentile(self.ack_ms, 99),
            "drained": self.drained,
            "cpu": self.cpu,
        }


@dataclass
class Member:
    room: int
    url: str
    origin: str
    cookie: str
    sends: bool
    ws: ClientConnection | None = None
    hello: asyncio.Event = field(default_factory=asyncio.Event)
    seen: set[int] = field(default_factory=set)
    unacked: int = 0
    closed: bool = False
    close_code: int | None = None


class LoadClient:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.members = [
            Member(room=r, url=m["url"], origin=m["origin"], cookie=m.get("cookie", ""), sends=m["sends"])
            for r, room in enumerate(spec["rooms"])
            for m in room["members"]
        ]
        self.sizes = {r: len(room["members"]) for r, room in enumerate(spec["rooms"])}
        self.steps: dict[str, StepStats] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.connect_errors: Counter[str] = Counter()
        self.pongs: set[int] = set()

    async def open_all(self, concurrency: int) -> dict[str, Any]:
        started = now()
        gate = asyncio.Semaphore(concurrency)

        async def one(member: Member) -> None:
            async with gate:
                try:
                    member.ws = await connect(
                        member.url,
                        origin=Origin(member.origin),
                        additional_headers={"Cookie": member.cookie} if member.cookie else None,
                        open_timeout=OPEN_TIMEOUT_S,
                        close_timeout=CLOSE_TIMEOUT_S,
                        ping_interval=None,
                        compression=None,
                        max_queue=None,
                    )
                except Exception as error:  # counted and reported: a refused socket is a finding
                    self.connect_errors[type(error).__name__ + ": " + str(error)[:80]] += 1
                    return
                self.readers.append(asyncio.create_task(self.read(member)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(member.hello.wait(), OPEN_TIMEOUT_S)

        await asyncio.gather(*(one(m) for m in self.members))
        return {
            "sockets": len(self.members),
            "ok": sum(m.hello.is_set() and not m.closed for m in self.members),
            "seconds": now() - started,
            "errors": dict(self.connect_errors.most_common(5)),
        }

    async def read(self, member: Member) -> None:
        assert member.ws is not None
        try:
            async for raw in member.ws:
                self.on_frame(member, json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            member.closed = True
            member.close_code = member.ws.close_code

    def interleaved_senders(self) -> list[Member]:
        """Consecutive slots go to different rooms: every room's first sender, then every second one, ..."""
        by_room: dict[int, list[Member]] = {}
        for member in self.members:
            if member.sends and member.ws is not None and not member.closed:
                by_room.setdefault(member.room, []).append(member)
        depth = max((len(ms) for ms in by_room.values()), default=0)
        return [ms[k] for k in range(depth) for ms in by_room.values() if k < len(ms)]

    def _step_of(self, client_id: str) -> StepStats | None:
        return self.steps.get(client_id.split(".", 1)[0])

    def on_frame(self, member: Member, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            message = frame["message"]
            step = self._step_of(str(message.get("client_id", "")))
            if step is None:
                return
            arrived = now()
            if message["seq"] in member.seen:
                step.duplicates += 1
                return
            member.seen.add(message["seq"])
            step.unique_by_room[member.room] += 1
            if step.closed_at is None:
                step.last_delivery = arrived
            else:
                step.late += 1
            sent_at = float(str(message["body"]).rsplit("t=", 1)[1])
            step.latency_ms.append((arrived - sent_at) * 1000)
        elif kind == "ack":
            step = self._step_of(str(frame.get("client_id", "")))
            member.unacked = max(0, member.unacked - 1)
            if step is None:
                return
            arrived = now()
            step.acks += 1
            step.acked_by_room[member.room] += 1
            if step.closed_at is None:
                step.last_ack = arrived
            step.ack_ms.append((arrived - step.send_at.get(frame["client_id"], arrived)) * 1000)
        elif kind == "hello":
            member.hello.set()
        elif kind == "pong":
            self.pongs.add(int(frame.get("ref") or 0))
        elif kind == "error":
            step = self._step_of(str(frame.get("client_id", "")))
            member.unacked = max(0, member.unacked - 1)
            if step is not None:
                step.errors[str(frame.get("code"))] += 1

    async def run_step(self, step_spec: dict[str, Any], watch: CpuWatch) -> StepStats:
        tag, rate, seconds = step_spec["tag"], float(step_spec["rate"]), float(step_spec["seconds"])
        window, drain_s = int(self.spec["window"]), float(self.spec["drain_s"])
        step = self.steps[tag] = StepStats(tag=tag, sizes=self.sizes, target_rate=rate)
        senders = self.interleaved_senders()
        slots = int(rate * seconds)
        watch.start()
        t0 = step.first_send = now()
        slot = 0
        while slot < slots and now() < t0 + seconds and senders:
            due = min(slots, int((now() - t0) * rate) + 1)
            while slot < due:
                member = senders[slot % len(senders)]
                slot += 1
                if member.unacked >= window or member.closed or member.ws is None:
                    step.held_back += 1
                    continue
                client_id = f"{tag}.{member.room}.{slot}"
                sent_at = now()
                step.send_at[client_id] = sent_at
                member.unacked += 1
                step.sent += 1
                try:
                    await member.ws.send(
                        json.dumps({"type": "send", "client_id": client_id, "body": f"bench {tag} t={sent_at:.6f}"})
                    )
                except ConnectionClosed:
                    step.errors["closed"] += 1
            step.last_send = now()
            await asyncio.sleep(max(0.0, min(TICK_S, t0 + slot / rate - now())))
        step.send_window = now() - t0
        await wait_until(step.complete, now() + drain_s)
        step.close(watch.stop())
        return step

    async def close_all(self) -> None:
        async def one(member: Member) -> None:
            if member.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(member.ws.close(), CLOSE_TIMEOUT_S * 2)

        await asyncio.gather(*(one(m) for m in self.members))
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    client = LoadClient(spec)
    watch = CpuWatch(spec.get("watch", {}))
    try:
        opened = await client.open_all(int(spec.get("concurrency", 50)))
        steps = []
        if opened["ok"]:
            for step_spec in spec["steps"]:
                steps.append(await client.run_step(step_spec, watch))
                await asyncio.sleep(float(spec.get("pause_s", 0.5)))
        # Late arrivals of an undrained step.
        await wait_until(lambda: all(step.complete() for step in steps), now() + float(spec.get("settle_s", 5)))
        return {"open": opened, "steps": [step.report() for step in steps]}
    finally:
        await client.close_all()


# --- idle sockets --------------------------------------------------------------------------------


async def run_idle(spec: dict[str, Any]) -> dict[str, Any]:
    client = LoadClient({"rooms": [{"members": spec["members"]}]})
    try:
        opened = await client.open_all(int(spec.get("concurrency", 100)))
        print(json.dumps({"event": "ready", **opened}), flush=True)
        loop = asyncio.get_running_loop()
        told = await loop.run_in_executor(None, wait_for_line, float(spec.get("hold_max_s", 120)))
        alive = [m for m in client.members if m.ws is not None and not m.closed]

        async def ping(member: Member, ref: int) -> None:
            assert member.ws is not None
            with contextlib.suppress(ConnectionClosed):
                await member.ws.send(json.dumps({"type": "ping", "ref": ref}))

        started = now()
        await asyncio.gather(*(ping(m, i + 1) for i, m in enumerate(alive)))
        await wait_until(lambda: len(client.pongs) >= len(alive), now() + float(spec.get("pong_timeout_s", 20)))
        return {
            "told": told,
            "open": opened,
            "open_before_ping": len(alive),
            "answered_ping": len(client.pongs),
            "ping_all_s": now() - started,
            "close_codes": dict(Counter(str(m.close_code) for m in client.members if m.closed)),
        }
    finally:
        await client.close_all()


def wait_for_line(timeout: float) -> bool:
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    if ready:
        sys.stdin.readline()
    return bool(ready)


# --- the bare relay server (baseline) -------------------------------------------------------------


async def run_relay(port: int) -> None:
    rooms: dict[str, set[ServerConnection]] = {}
    numbers: Counter[str] = Counter()

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else "/"
        room = rooms.setdefault(path, set())
        room.add(ws)
        try:
            await ws.send(json.dumps({"v": 1, "type": "hello", "consultation": {"last_seq": numbers[path]}}))
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "send":
                    numbers[path] += 1
                    seq = numbers[path]
                    message = {"seq": seq, "client_id": frame["client_id"], "body": frame["body"], "kind": "text"}
                    broadcast(room, json.dumps({"v": 1, "type": "message", "message": message}, ensure_ascii=False))
                    await ws.send(json.dumps({"v": 1, "type": "ack", "client_id": frame["client_id"], "seq": seq}))
                elif frame.get("type") == "ping":
                    await ws.send(json.dumps({"v": 1, "type": "pong", "ref": frame.get("ref")}))
        except ConnectionClosed:
            pass
        finally:
            room.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None):
        print("ready", flush=True)
        await asyncio.Future()


# --- channels_redis alone (baseline) --------------------------------------------------------------


def make_layer(spec: dict[str, Any]) -> Any:
    hosts = [{"address": spec["redis_url"], "max_connections": int(spec["max_connections"])}]
    if spec["backend"] == "pubsub":
        from channels_redis.pubsub import RedisPubSubChannelLayer  # type: ignore[import-untyped]

        return RedisPubSubChannelLayer(hosts=hosts, prefix=spec["prefix"])
    from channels_redis.core import RedisChannelLayer  # type: ignore[import-untyped]

    return RedisChannelLayer(hosts=hosts, prefix=spec["prefix"])


async def run_layer(spec: dict[str, Any]) -> dict[str, Any]:
    layer = make_layer(spec)
    sizes = {r: int(size) for r, size in enumerate(spec["rooms"])}
    channels: list[tuple[int, str]] = []
    for room, size in sizes.items():
        for _ in range(size):
            name = await layer.new_channel()
            await layer.group_add(f"chat.{room}", name)
            channels.append((room, name))
    steps: dict[str, StepStats] = {}
    seen: dict[str, set[int]] = {name: set() for _, name in channels}

    async def receive(room: int, name: str) -> None:
        while True:
            message = await layer.receive(name)
            event = message["event"]["message"]
            step = steps.get(event["client_id"].split(".", 1)[0])
            if step is None:
                continue
            if event["seq"] in seen[name]:
                step.duplicates += 1
                continue
            arrived = now()
            seen[name].add(event["seq"])
            step.unique_by_room[room] += 1
            if step.closed_at is None:
                step.last_delivery = arrived
            else:
                step.late += 1
            step.latency_ms.append((arrived - float(event["body"].rsplit("t=", 1)[1])) * 1000)

    receivers = [asyncio.create_task(receive(room, name)) for room, name in channels]
    await asyncio.sleep(0.5)  # let the subscriptions settle
    watch = CpuWatch(spec.get("watch", {}))
    numbers: Counter[int] = Counter()
    try:
        for step_spec in spec["steps"]:
            tag, rate, seconds = step_spec["tag"], float(step_spec["rate"]), float(step_spec["seconds"])
            step = steps[tag] = StepStats(tag=tag, sizes=sizes, target_rate=rate)
            watch.start()
            t0 = step.first_send = now()
            slot, slots = 0, int(rate * seconds)
            while slot < slots and now() < t0 + seconds:
                due = min(slots, int((now() - t0) * rate) + 1)
                while slot < due:
                    room = slot % len(sizes)
                    slot += 1
                    numbers[room] += 1
                    sent_at = now()
                    message = {"seq": numbers[room], "client_id": f"{tag}.{room}.{slot}", "body": f"t={sent_at:.6f}"}
                    step.sent += 1
                    try:
                        await layer.group_send(f"chat.{room}", {"type": "chat.event", "event": {"message": message}})
                    except Exception as error:  # ChannelFull and friends: counted, as the app would log them
                        step.errors[type(error).__name__] += 1
                        continue
                    step.acks += 1  # group_send returned: "ack p99" is how long it took
                    step.acked_by_room[room] += 1
                    step.last_ack = now()
                    step.ack_ms.append((step.last_ack - sent_at) * 1000)
                step.last_send = now()
                await asyncio.sleep(max(0.0, min(TICK_S, t0 + slot / rate - now())))
            step.held_back = slots - step.sent  # slots the sender did not reach in time
            step.send_window = now() - t0
            await wait_until(step.complete, now() + float(spec["drain_s"]))
            step.close(watch.stop())
            await asyncio.sleep(0.3)
        await wait_until(lambda: all(s.complete() for s in steps.values()), now() + float(spec.get("settle_s", 3)))
    finally:
        for task in receivers:
            task.cancel()
        await asyncio.gather(*receivers, return_exceptions=True)
        with contextlib.suppress(Exception):
            await layer.flush()
    opened = {"sockets": len(channels), "ok": len(channels), "seconds": 0.0, "errors": {}}
    return {"open": opened, "steps": [step.report() for step in steps.values()]}


def main() -> None:
    raise_fd_limit()
    mode = sys.argv[1]
    if mode == "relay":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_relay(int(sys.argv[2])))
        return
    spec = json.loads(sys.stdin.readline())
    runner = {"load": run_load, "idle": run_idle, "layer": run_layer}[mode]
    result = asyncio.run(runner(spec))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
