"""``manage.py serve``: run the whole platform in one terminal (what ``make run`` calls).

Daphne runs as ``python -m consult.realtime.server`` (Daphne with the WebSocket limits, header timeout and the
1001 close on SIGTERM that ``consult.realtime.server`` describes).

Starts Daphne (HTTP + WebSockets) and one Celery worker with its beat scheduler, on the
configured Redis (the embedded one when ``REDIS_URL`` is unset, which this process keeps
alive). Ctrl-C stops both. A worker that exits is started again, after 1 s, then 2, 4 … at most
30 s while it keeps exiting within a minute (each restart logged); if Daphne dies, everything is stopped.
The worker runs without gossip, mingle and heartbeat events (one worker; /healthz pings it through its
control queue): on a broker reconnect those steps reach for channels of the closed connection
(docs/decisions/0011-redis-restarts.md).

Bound to every address (``--host 0.0.0.0`` or ``::``) with no ``ALLOWED_HOSTS`` in the environment, it
also allows this machine's host name and addresses (``consult.hosts``), for Daphne's HTTP and WebSocket
origin checks alike: the children get them as their ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from consult import embedded_janus
from consult.demo.city import DEMO_LOGINS, DEMO_PASSWORD
from consult.hosts import WILDCARD_BINDS, allowed_hosts_for_bind

WORKER = ["-m", "celery", "-A", "consult", "worker", "-B", "-l", "INFO"]
WORKER += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
WORKER_STABLE_S = 60.0  # a worker that ran this long before exiting starts the backoff again from 1 s
WORKER_BACKOFF_MAX_S = 30.0


class Command(BaseCommand):
    help = "Run Daphne and a Celery worker together; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="run Daphne only")

    def handle(self, *args: Any, host: str, port: int, no_worker: bool, **options: Any) -> None:
        if host in WILDCARD_BINDS and "ALLOWED_HOSTS" not in os.environ:
            os.environ["ALLOWED_HOSTS"] = ",".join(allowed_hosts_for_bind(host, settings.ALLOWED_HOSTS))
        processes = [
            self._start(["-m", "consult.realtime.server", "-b", host, "-p", str(port), "consult.asgi:application"])
        ]
        worker: list[str] = []
        if not no_worker and not settings.CELERY_TASK_ALWAYS_EAGER:
            schedule = settings.VAR_DIR / "celerybeat-schedule"
            # both queues: the default one and the transcription jobs' (CELERY_TASK_ROUTES)
            worker = [*WORKER, "-s", str(schedule), "-Q", "celery,transcription"]
            processes.append(self._start_worker(worker))
        janus = self._start_janus()  # calls' media server: started and stopped with the rest, not watched
        self._announce(host, port)
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        restarts, started, restart_at = 0, time.monotonic(), 0.0
        while not stopping and processes[0].poll() is None:
            time.sleep(0.3)
            if worker and processes[1].poll() is not None:
                if not restart_at:
                    code = processes[1].returncode
                    restarts = restarts + 1 if time.monotonic() - started < WORKER_STABLE_S else 1
                    delay = min(WORKER_BACKOFF_MAX_S, 2.0 ** (restarts - 1))
                    self._reap(processes[1])
                    self.stderr.write(f"the Celery worker exited (code {code}); restart {restarts} in {delay:.0f} s")
                    restart_at = time.monotonic() + delay
                elif time.monotonic() >= restart_at:
                    processes[1] = self._start_worker(worker)
                    started, restart_at = time.monotonic(), 0.0
        exit_codes = self._stop(processes)
        self._stop([janus] if janus else [])
        if not stopping:
            self.stderr.write(f"a process exited on its own (exit codes {exit_codes}); stopped the rest")
            sys.exit(1)

    def _start(self, argv: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, *argv], start_new_session=True)

    def _start_worker(self, argv: list[str]) -> subprocess.Popen[bytes]:
        process = self._start(argv)
        self.stdout.write(f"Celery worker started (pid {process.pid})")
        return process

    def _reap(self, process: subprocess.Popen[bytes]) -> None:
        """What the dead worker left in its process group (its pool, its beat) goes with it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def _start_janus(self) -> subprocess.Popen[bytes] | None:
        """The local Janus (``consult.embedded_janus``) when no JANUS_URLS is set and Debian's janus is installed."""
        binary = embedded_janus.janus_binary()
        if not settings.JANUS_EMBEDDED or binary is None:
            if binary is None and settings.JANUS_EMBEDDED:
                self.stderr.write(f"calls are off: Janus is not installed ({embedded_janus.INSTALL_HINT})")
            return None
        port = int(settings.JANUS_URLS[0].rsplit(":", 1)[1].strip("/"))
        folder = embedded_janus.write_config(
            settings.VAR_DIR / "janus",
            ws_port=port,
            secret=settings.JANUS_API_SECRET,
            rtp_ports=settings.JANUS_RTP_PORTS,
        )
        return subprocess.Popen(embedded_janus.command(binary, folder), start_new_session=True)

    def _stop(self, processes: list[subprocess.Popen[bytes]]) -> list[int | None]:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return [process.returncode for process in processes]

    def _announce(self, host: str, port: int) -> None:
        shown_host = "127.0.0.1" if host in WILDCARD_BINDS else host
        self.stdout.write(self.style.SUCCESS(f"\nConsult is running at http://{shown_host}:{port}/  (Ctrl-C stops it)"))
        if host in WILDCARD_BINDS:
            served = os.environ.get("ALLOWED_HOSTS", ",".join(settings.ALLOWED_HOSTS))
            self.stdout.write(f"serving every address; host names and addresses allowed (ALLOWED_HOSTS): {served}")
        self.stdout.write(
            f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
            f"redis: {settings.REDIS_KIND}, search: "
            f"{'elasticsearch' if settings.ELASTICSEARCH_URL else 'embedded'}"
        )
        self.stdout.write("demo logins (username / password):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<8} / {DEMO_PASSWORD}  {login.description}")
        self.stdout.write("")
