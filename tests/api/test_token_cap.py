"""At most 20 API tokens per person, also when requests race for the twentieth place (real PostgreSQL threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from consult.kernel.exceptions import InvalidInput
from consult.models import ApiToken, User
from consult.people.tokens import MAX_TOKENS_PER_USER, issue_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_twenty_first_token_is_refused_naming_the_field(deputy: User) -> None:
    for index in range(MAX_TOKENS_PER_USER):
        issue_token(actor=deputy, owner=deputy, name=f"脚本{index}")

    with pytest.raises(InvalidInput) as refused:
        issue_token(actor=deputy, owner=deputy, name="多一个")

    assert refused.value.field == "name"
    assert ApiToken.objects.filter(user=deputy).count() == MAX_TOKENS_PER_USER


def test_requests_racing_for_the_last_places_never_pass_the_cap(deputy: User) -> None:
    for index in range(MAX_TOKENS_PER_USER - 2):
        issue_token(actor=deputy, owner=deputy, name=f"脚本{index}")
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def one(index: int) -> None:
        try:
            start.wait()
            issue_token(actor=deputy, owner=deputy, name=f"并发{index}")
            outcomes.append("issued")
        except InvalidInput:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["issued"] * 2 + ["refused"] * 4
    assert ApiToken.objects.filter(user=deputy).count() == MAX_TOKENS_PER_USER
