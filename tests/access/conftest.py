"""Fixtures of the access tests: a private search index, signed-in clients, and the persona matrix's world
built once per module (inside one transaction rolled back at the module's end)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client, override_settings

from search.backends import reset_backend
from tests.access.world import World, build_world


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def search_dir(tmp_path: Path) -> Iterator[Path]:
    """The embedded engine on an empty directory of this test (no other test's documents)."""
    directory = tmp_path / "search"
    with override_settings(SEARCH_INDEX_DIR=directory, ELASTICSEARCH_URL=""):
        reset_backend()
        try:
            yield directory
        finally:
            reset_backend()


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[World]:
    """The matrix's world, made once for the module; rolled back (and its index dropped) afterwards."""
    with tempfile.TemporaryDirectory(prefix="access-matrix-") as directory:
        index = override_settings(SEARCH_INDEX_DIR=Path(directory) / "search", ELASTICSEARCH_URL="")
        index.enable()
        reset_backend()
        try:
            with django_db_blocker.unblock():  # type: ignore[attr-defined]
                atomic = transaction.atomic()
                atomic.__enter__()
                try:
                    yield build_world()
                finally:
                    transaction.set_rollback(True)
                    atomic.__exit__(None, None, None)
        finally:
            index.disable()
            reset_backend()


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, Client]:
    return {persona: signed_in(user) for persona, user in world.people.items()}
