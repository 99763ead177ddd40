"""Fixtures for the engine tests (imported by those modules; conftest.py belongs to the job tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from transcription.engines import reset_engines
from transcription.testing import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Whisper of the real architecture (seconds to build), for both engines."""
    return build_tiny_model(tmp_path_factory.mktemp("whisper-tiny"))


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    """Engines are cached per process: each test that changes the settings starts and ends without any."""
    reset_engines()
    yield
    reset_engines()
