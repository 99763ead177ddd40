"""Fixtures of the API contract tests: signed-in clients and the proposal fixtures of ``tests/proposals``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from consult.models import User
from tests.proposals.conftest import (  # noqa: F401 (fixtures re-exported for these tests)
    assigned,
    bureau_c,
    draft,
    handler_a,
    npc_session,
    registered,
    submitted,
)

ClientFor = Callable[[User], Client]


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
