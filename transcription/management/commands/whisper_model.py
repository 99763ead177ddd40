"""``manage.py whisper_model``: make the Whisper model available in WHISPER_MODEL_DIR (make run calls it).

Assembling the embedded base weights is a 145 MB file copy and a hash (a second or two); afterwards it returns at
once. ``--verify`` re-hashes the assembled file; ``--engine openai-whisper`` also builds that engine's checkpoint.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from transcription.engines import ModelError, ensure_model
from transcription.engines.weights import model_name, verify


class Command(BaseCommand):
    help = "Assemble and hash-check the embedded Whisper base weights in WHISPER_MODEL_DIR (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--verify", action="store_true", help="re-hash an already assembled model")
        parser.add_argument(
            "--engine",
            choices=["faster-whisper", "openai-whisper"],
            help="also prepare this engine (openai-whisper: convert the checkpoint; needs requirements-whisper.txt)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            directory = ensure_model()
            if options["verify"]:
                verify(directory)
            if options["engine"] == "openai-whisper":
                from transcription.engines.reference import ensure_checkpoint

                ensure_checkpoint(directory)
        except ModelError as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started
        self.stdout.write(f"Whisper model {model_name(directory)!r} ready in {directory} ({elapsed:.1f} s)")
