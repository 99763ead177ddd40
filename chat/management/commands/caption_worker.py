"""``manage.py caption_worker``: the live-caption worker (``chat.captions``), one process per UDP port.

Run one where Whisper is fast (a GPU: ``WHISPER_DEVICE=cuda``) and list its address in ``CALL_CAPTION_ADDRESSES``
of the web processes; turn ``CALL_CAPTIONS`` on there.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chat.captions import CaptionWorker, WorkerOptions, bind_address
from transcription.engines import get_engine


class Command(BaseCommand):
    help = "Live captions of calls: receive each speaker's RTP from Janus, transcribe, send call.caption frames."

    def add_arguments(self, parser: CommandParser) -> None:
        host, port = bind_address()
        parser.add_argument("--host", default=host, help=f"address to listen on (default {host})")
        parser.add_argument("--port", type=int, default=port, help=f"UDP port (default {port}; 0: any free one)")

    def handle(self, *args: Any, **options: Any) -> None:
        engine = get_engine()  # loaded before listening: the first caption does not wait for the model
        worker = CaptionWorker(engine, WorkerOptions.from_settings())

        def ready(port: int) -> None:
            self.stdout.write(f"caption worker ready on {options['host']}:{port}", ending="\n")
            self.stdout.flush()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(worker.run(options["host"], options["port"], ready=ready))
