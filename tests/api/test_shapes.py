"""One pagination shape for every list (search included) and one id per person across the API."""

from __future__ import annotations

from typing import Any

import pytest

from consult.api.pagination import MAX_PAGE_SIZE
from consult.models import Bureau, User
from tests.api.conftest import ClientFor
from tests.factories import BureauFactory

PAGE_KEYS = {"count", "next", "previous", "results"}


@pytest.fixture
def bureaus(db: None) -> list[Bureau]:
    return [BureauFactory() for _ in range(5)]


def test_lists_honour_page_size_and_link_the_next_page(
    client_for: ClientFor, staff: User, bureaus: list[Bureau]
) -> None:
    client = client_for(staff)

    first = client.get("/api/bureaus/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert set(first) == PAGE_KEYS
    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page_size=2" in first["next"]
    assert "page=2" in first["next"]
    assert len(second["results"]) == 2
    assert {b["id"] for b in first["results"]}.isdisjoint(b["id"] for b in second["results"])


def test_page_size_is_capped(client_for: ClientFor, staff: User, bureaus: list[Bureau]) -> None:
    response = client_for(staff).get("/api/bureaus/", {"page_size": 10_000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 5 <= MAX_PAGE_SIZE


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_bad_page_size_is_a_400_naming_it(client_for: ClientFor, staff: User, value: str) -> None:
    response = client_for(staff).get("/api/bureaus/", {"page_size": value})

    assert response.status_code == 400
    assert "page_size" in response.json()["fields"]


@pytest.mark.parametrize(
    ("path", "extra"),
    [("/api/search/proposals/", {"degraded", "facets"}), ("/api/search/messages/", {"degraded"})],
)
def test_search_pages_have_the_same_shape_with_their_extras_beside_results(
    client_for: ClientFor, staff: User, path: str, extra: set[str]
) -> None:
    body: dict[str, Any] = client_for(staff).get(path, {"page_size": 5}).json()

    assert set(body) == PAGE_KEYS | extra
    assert body["previous"] is None


def test_deputies_and_experts_are_named_by_their_user_id(
    client_for: ClientFor, staff: User, deputy: User, expert: User
) -> None:
    client = client_for(staff)

    deputies = {row["name"]: row["id"] for row in client.get("/api/deputies/").json()["results"]}
    experts = {row["name"]: row["id"] for row in client.get("/api/experts/").json()["results"]}

    assert (deputies["王建国"], experts["陈志远"]) == (deputy.pk, expert.pk)
    assert client.get(f"/api/deputies/{deputy.pk}/").json()["name"] == "王建国"
    assert client.get(f"/api/experts/{expert.pk}/").json()["name"] == "陈志远"
    assert client.get(f"/api/proposals/?proposer={deputy.pk}").status_code == 200
