"""Fixtures of the search tests: a fresh engine of each kind, and Consult's own engine on a scratch directory.

- ``engine`` is parametrised over the engines: ``embedded`` (tantivy in a temporary directory) always;
  ``elasticsearch`` when ``ELASTICSEARCH_URL`` names a cluster (fresh indexes under a unique prefix,
  dropped afterwards), skipped otherwise: Elasticsearch cannot run on our machines (docs/architecture.md,
  "Parts, defaults and scale-out"), and that is the only skip of this suite that CI accepts.
- ``search_dir`` points ``get_backend()`` at a temporary directory (the embedded engine), for the tests
  that drive indexing through the database, the services and the management commands.
- The proposal-cycle fixtures of ``tests/proposals/conftest.py`` are available here too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from search.backends import SearchBackend, reset_backend
from search.documents import DOC_TYPES
from tests.proposals.conftest import (  # noqa: F401 (fixtures, re-exported for the search tests)
    assigned,
    bureau_c,
    cppcc_session,
    draft,
    handler_a,
    handler_c,
    npc_session,
    registered,
    submitted,
)

ENGINES = ("embedded", "elasticsearch")
ES_SKIP = (
    "ELASTICSEARCH_URL not set: Elasticsearch cannot run on this machine; "
    "make test-es runs this suite against a cluster"
)


def open_engine(name: str, directory: Path) -> tuple[SearchBackend, Callable[[], None]]:
    """A fresh, empty engine of this kind and what removes it afterwards."""
    if name == "embedded":
        from search.engines.tantivy_engine import TantivyBackend

        return TantivyBackend(directory), lambda: None
    url = os.environ.get("ELASTICSEARCH_URL", "")
    if not url:
        pytest.skip(ES_SKIP)  # the one skip CI accepts: no Elasticsearch can be installed here
    from search.elasticsearch_backend import ElasticsearchBackend

    backend = ElasticsearchBackend(url, prefix=f"consult-test-{uuid.uuid4().hex[:12]}")

    def drop_all() -> None:
        for doc_type in DOC_TYPES:
            backend.drop(doc_type)

    return backend, drop_all


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine_bug(engine, reason): a known bug of one engine; its run of the test is a strict xfail",
    )


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    for marker in request.node.iter_markers("engine_bug"):
        if marker.args[0] == request.param:
            request.applymarker(pytest.mark.xfail(strict=True, reason=marker.kwargs["reason"]))
    backend, cleanup = open_engine(request.param, tmp_path / "index")
    try:
        yield backend
    finally:
        cleanup()


@pytest.fixture
def search_dir(settings: SettingsWrapper, tmp_path: Path) -> Iterator[Path]:
    """Consult's engine (``get_backend()``) is the embedded one, on an empty directory of this test."""
    directory = tmp_path / "search"
    settings.SEARCH_INDEX_DIR = directory
    settings.ELASTICSEARCH_URL = ""  # the database-driven tests run on the embedded engine; the suite covers ES
    reset_backend()
    try:
        yield directory
    finally:
        reset_backend()
