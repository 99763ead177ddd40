"""The JSON API at /api/: authentication, per-role scoping, filters, the error shape, the schema and its docs.

Scoping rules themselves are tested in ``test_selectors.py``; here we check that each endpoint goes
through them and that the HTTP shape (status, error body, pagination) is right.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from consult.models import Bureau, DeputyContact, DeputyProfile, ExpertProfile, User
from consult.people.roles import Chamber
from tests.factories import BureauFactory, DeputyProfileFactory, ExpertProfileFactory

CONTACT_KEYS = {"mobile", "email", "address", "postcode"}

ClientFor = Callable[[User], Client]


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def closed_bureau(db: None) -> Bureau:
    return BureauFactory(code="gone", name="市已撤销局", full_name="海滨市已撤销局", is_active=False, topics=["旧事"])


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"count", "results"}
    assert body["count"] == len(body["results"])
    return list(body["results"])


def ids(response: Any) -> set[int]:
    return {item["id"] for item in results(response)}


def contact_row(user: User) -> dict[str, Any]:
    return dict(DeputyContact.objects.filter(profile__user=user).values(*sorted(CONTACT_KEYS)).get())


# --- authentication and the error shape -------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/me/"),
        ("get", "/api/me/contact/"),
        ("put", "/api/me/contact/"),
        ("get", "/api/bureaus/"),
        ("get", "/api/experts/"),
        ("get", "/api/deputies/"),
    ],
)
def test_anonymous_visitor_is_refused_with_the_error_shape(client: Client, db: None, method: str, url: str) -> None:
    response = getattr(client, method)(url, content_type="application/json") if method == "put" else client.get(url)

    assert response.status_code == 401  # not 403: the client is told how to authenticate
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == "not_authenticated"
    assert isinstance(body["message"], str)
    assert body["message"]


def test_anonymous_put_of_contact_details_changes_nothing(client: Client, deputy: User) -> None:
    before = contact_row(deputy)

    response = client.put(
        "/api/me/contact/", data=json.dumps({"mobile": "13900000000"}), content_type="application/json"
    )

    assert response.status_code == 401
    assert contact_row(deputy) == before


def test_unknown_bureau_gives_404(client_for: ClientFor, deputy: User) -> None:
    response = client_for(deputy).get("/api/bureaus/999999/")

    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/api/bureaus/999999/", "/api/experts/999999/", "/api/deputies/999999/"])
def test_unknown_object_gives_404_with_the_error_shape(client_for: ClientFor, deputy: User, url: str) -> None:
    response = client_for(deputy).get(url)

    body = response.json()
    assert response.status_code == 404
    assert set(body) == {"code", "message"}
    assert body["code"] == "not_found"


# --- /api/me/ ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "role", "bureau_fixture"),
    [
        ("deputy", "deputy", None),
        ("member", "deputy", None),
        ("expert", "expert", "bureau_a"),
        ("handler", "handler", "bureau_b"),
        ("staff", "staff", None),
        ("admin_user", "admin", None),
        ("outsider", "handler", None),
    ],
)
def test_me_describes_the_signed_in_user_and_their_bureau(
    request: pytest.FixtureRequest, client_for: ClientFor, persona: str, role: str, bureau_fixture: str | None
) -> None:
    user: User = request.getfixturevalue(persona)
    bureau: Bureau | None = request.getfixturevalue(bureau_fixture) if bureau_fixture else None

    response = client_for(user).get("/api/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": user.username,
        "name": user.full_name,
        "role": role,
        "bureau": bureau.pk if bureau else None,
    }


# --- /api/bureaus/ ----------------------------------------------------------


def test_deputy_lists_only_active_bureaus_with_their_departments(
    client_for: ClientFor, deputy: User, bureau_a: Bureau, bureau_b: Bureau, closed_bureau: Bureau
) -> None:
    items = results(client_for(deputy).get("/api/bureaus/"))

    assert {item["id"] for item in items} == {bureau_a.pk, bureau_b.pk}
    first = next(item for item in items if item["id"] == bureau_a.pk)
    assert first == {
        "id": bureau_a.pk,
        "code": "jw",
        "name": "市教委",
        "full_name": "海滨市教育委员会",
        "topics": ["学区划分", "课后服务"],
        "departments": [{"id": bureau_a.departments.get().pk, "name": "基础教育处"}],
    }


def test_deputy_cannot_open_an_inactive_bureau(client_for: ClientFor, deputy: User, closed_bureau: Bureau) -> None:
    response = client_for(deputy).get(f"/api/bureaus/{closed_bureau.pk}/")

    assert response.status_code == 404
    assert closed_bureau.full_name not in response.content.decode()


@pytest.mark.parametrize("persona", ["staff", "admin_user"])
def test_office_lists_inactive_bureaus_too(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    persona: str,
    bureau_a: Bureau,
    bureau_b: Bureau,
    closed_bureau: Bureau,
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/bureaus/")

    assert ids(response) == {bureau_a.pk, bureau_b.pk, closed_bureau.pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("教委", {"bureau_a"}),  # short name
        ("交通委员会", {"bureau_b"}),  # full name
        ("停车", {"bureau_b"}),  # a topic
        ("市", {"bureau_a", "bureau_b"}),  # both, but never the inactive one
        ("没有这个词", set()),
    ],
)
def test_bureaus_filter_by_text_in_name_full_name_or_topics(
    client_for: ClientFor,
    deputy: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
    closed_bureau: Bureau,
    query: str,
    expected: set[str],
) -> None:
    by_name = {"bureau_a": bureau_a.pk, "bureau_b": bureau_b.pk}

    response = client_for(deputy).get("/api/bureaus/", {"q": query})

    assert ids(response) == {by_name[name] for name in expected}


def test_bureaus_filter_by_code(client_for: ClientFor, deputy: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    assert ids(client_for(deputy).get("/api/bureaus/", {"code": "jtw"})) == {bureau_b.pk}


# --- /api/experts/ ----------------------------------------------------------


@pytest.fixture
def expert_b(bureau_b: Bureau) -> ExpertProfile:
    return ExpertProfileFactory(
        user__username="expert-b", user__full_name="孙交通", bureau=bureau_b, expertise=["公交"]
    )


@pytest.fixture
def closed_expert(closed_bureau: Bureau) -> ExpertProfile:
    return ExpertProfileFactory(user__username="expert-gone", user__full_name="撤销局专家", bureau=closed_bureau)


@pytest.mark.parametrize("persona", ["deputy", "member", "expert", "handler", "outsider"])
def test_signed_in_user_lists_experts_of_active_bureaus_only(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    persona: str,
    expert: User,
    expert_b: ExpertProfile,
    closed_expert: ExpertProfile,
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/experts/")

    assert ids(response) == {expert.pk, expert_b.user_id}


def test_office_lists_experts_of_inactive_bureaus_too(
    client_for: ClientFor, staff: User, expert: User, expert_b: ExpertProfile, closed_expert: ExpertProfile
) -> None:
    response = client_for(staff).get("/api/experts/")

    assert ids(response) == {expert.pk, expert_b.user_id, closed_expert.user_id}


def test_expert_item_has_name_bureau_and_department(
    client_for: ClientFor, deputy: User, expert: User, bureau_a: Bureau
) -> None:
    items = results(client_for(deputy).get("/api/experts/", {"bureau": bureau_a.pk}))

    assert items == [
        {
            "id": expert.pk,
            "name": "陈志远",
            "bureau": {"id": bureau_a.pk, "code": "jw", "name": "市教委"},
            "department": None,
            "title": "处长",
            "expertise": ["学区划分"],
            "capacity": 3,
        }
    ]


def test_experts_filter_by_bureau(
    client_for: ClientFor, deputy: User, expert: User, expert_b: ExpertProfile, bureau_b: Bureau
) -> None:
    response = client_for(deputy).get("/api/experts/", {"bureau": bureau_b.pk})

    assert ids(response) == {expert_b.user_id}


def test_experts_filter_by_an_inactive_bureau_returns_nothing_to_a_deputy(
    client_for: ClientFor, deputy: User, closed_expert: ExpertProfile, closed_bureau: Bureau
) -> None:
    response = client_for(deputy).get("/api/experts/", {"bureau": closed_bureau.pk})

    assert ids(response) == set()


@pytest.mark.parametrize(("query", "who"), [("陈志", "expert"), ("公交", "expert_b")])
def test_experts_filter_by_name_or_expertise(
    client_for: ClientFor, deputy: User, expert: User, expert_b: ExpertProfile, query: str, who: str
) -> None:
    expected = expert.pk if who == "expert" else expert_b.user_id

    response = client_for(deputy).get("/api/experts/", {"q": query})

    assert ids(response) == {expected}


# --- /api/deputies/ ---------------------------------------------------------


@pytest.fixture
def deputies(deputy: User, cosigner: User, member: User) -> dict[str, DeputyProfile]:
    return {
        "deputy": deputy.deputy_profile,
        "cosigner": cosigner.deputy_profile,
        "member": member.deputy_profile,
        "member_2": DeputyProfileFactory(
            user__username="member-2", user__full_name="周委员", chamber=Chamber.CPPCC, delegation="", sector="经济界"
        ),
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("deputy", {"deputy", "cosigner"}),
        ("cosigner", {"deputy", "cosigner"}),
        ("member", {"member", "member_2"}),
        ("expert", {"deputy", "cosigner", "member", "member_2"}),
        ("handler", {"deputy", "cosigner", "member", "member_2"}),
        ("staff", {"deputy", "cosigner", "member", "member_2"}),
        ("admin_user", {"deputy", "cosigner", "member", "member_2"}),
        ("outsider", set()),
    ],
)
def test_deputies_list_is_scoped_per_role(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    deputies: dict[str, DeputyProfile],
    persona: str,
    expected: set[str],
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/deputies/")

    assert ids(response) == {deputies[name].user_id for name in expected}


@pytest.mark.parametrize("persona", ["deputy", "member", "expert", "handler", "staff"])
def test_deputies_list_never_contains_contact_details(
    request: pytest.FixtureRequest, client_for: ClientFor, deputies: dict[str, DeputyProfile], persona: str
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/deputies/")

    items = results(response)
    assert items
    for item in items:
        assert set(item) == {"id", "name", "chamber", "delegation", "sector", "term", "occupation"}
    text = response.content.decode()
    for contact in DeputyContact.objects.all():
        assert contact.mobile not in text
        assert contact.email not in text
        assert contact.address not in text


def test_deputy_detail_never_contains_contact_details(
    client_for: ClientFor, staff: User, deputies: dict[str, DeputyProfile]
) -> None:
    profile = deputies["deputy"]

    response = client_for(staff).get(f"/api/deputies/{profile.user_id}/")

    assert response.status_code == 200
    assert not CONTACT_KEYS & set(response.json())
    assert profile.contact.email not in response.content.decode()


def test_deputy_cannot_open_a_member_of_the_other_chamber(
    client_for: ClientFor, deputies: dict[str, DeputyProfile]
) -> None:
    response = client_for(deputies["deputy"].user).get(f"/api/deputies/{deputies['member'].user_id}/")

    assert response.status_code == 404
    assert deputies["member"].user.full_name not in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "chamber", "expected"),
    [
        ("staff", "npc", {"deputy", "cosigner"}),
        ("staff", "cppcc", {"member", "member_2"}),
        ("expert", "cppcc", {"member", "member_2"}),
        ("deputy", "npc", {"deputy", "cosigner"}),
        ("deputy", "cppcc", set()),  # the filter narrows the scope, never widens it
    ],
)
def test_deputies_filter_by_chamber(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    deputies: dict[str, DeputyProfile],
    persona: str,
    chamber: str,
    expected: set[str],
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/deputies/", {"chamber": chamber})

    assert ids(response) == {deputies[name].user_id for name in expected}


def test_deputies_filter_with_an_unknown_chamber_gives_400_naming_chamber(
    client_for: ClientFor, staff: User, deputies: dict[str, DeputyProfile]
) -> None:
    response = client_for(staff).get("/api/deputies/", {"chamber": "senate"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert "chamber" in body["fields"]
    assert body["message"]


def test_deputies_filter_by_text_in_sector(
    client_for: ClientFor, staff: User, deputies: dict[str, DeputyProfile]
) -> None:
    assert ids(client_for(staff).get("/api/deputies/", {"q": "医药"})) == {deputies["member"].user_id}


# --- /api/me/contact/ -------------------------------------------------------


def test_deputy_reads_their_own_contact_details(client_for: ClientFor, deputy: User) -> None:
    response = client_for(deputy).get("/api/me/contact/")

    assert response.status_code == 200
    assert response.json() == contact_row(deputy)


@pytest.mark.parametrize("persona", ["expert", "handler", "staff", "outsider"])
def test_non_deputy_has_no_contact_details_to_read(
    request: pytest.FixtureRequest, client_for: ClientFor, deputy: User, persona: str
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/me/contact/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert deputy.deputy_profile.contact.mobile not in response.content.decode()


def test_deputy_changes_their_contact_details(client_for: ClientFor, deputy: User, cosigner: User) -> None:
    cosigner_before = contact_row(cosigner)
    new = {"mobile": "13912345678", "email": "wang@npc.example.cn", "address": "海滨市西江区1号", "postcode": "310000"}

    response = client_for(deputy).put("/api/me/contact/", data=json.dumps(new), content_type="application/json")

    assert response.status_code == 200
    assert response.json() == new
    assert contact_row(deputy) == new
    assert contact_row(cosigner) == cosigner_before


@pytest.mark.parametrize("mobile", ["12345678901", "1391234567", "phone-number"])
def test_put_contact_with_a_bad_mobile_gives_400_naming_mobile_and_changes_nothing(
    client_for: ClientFor, deputy: User, mobile: str
) -> None:
    before = contact_row(deputy)
    payload = {"mobile": mobile, "email": "new@npc.example.cn", "address": "新地址", "postcode": "310000"}

    response = client_for(deputy).put("/api/me/contact/", data=json.dumps(payload), content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert set(body["fields"]) == {"mobile"}
    assert body["message"]
    assert contact_row(deputy) == before


@pytest.mark.parametrize(("field", "value"), [("email", "not-an-email"), ("postcode", "3100"), ("address", "路" * 201)])
def test_patch_contact_with_another_bad_field_gives_400_naming_it_and_changes_nothing(
    client_for: ClientFor, deputy: User, field: str, value: str
) -> None:
    before = contact_row(deputy)

    response = client_for(deputy).patch(
        "/api/me/contact/", data=json.dumps({field: value}), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert field in response.json()["fields"]
    assert contact_row(deputy) == before


@pytest.mark.parametrize("persona", ["expert", "handler", "staff", "outsider"])
def test_put_contact_by_a_non_deputy_gives_403_not_allowed_and_changes_nothing(
    request: pytest.FixtureRequest, client_for: ClientFor, deputy: User, persona: str
) -> None:
    before = list(DeputyContact.objects.order_by("pk").values())

    response = client_for(request.getfixturevalue(persona)).put(
        "/api/me/contact/", data=json.dumps({"mobile": "13912345678"}), content_type="application/json"
    )

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "not_allowed"
    assert body["message"]
    assert list(DeputyContact.objects.order_by("pk").values()) == before


# --- schema and docs --------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"format": "json"}, {}), ({}, {"accept": "application/vnd.oai.openapi+json"})],
    ids=["format-param", "accept-header"],
)
def test_schema_is_valid_openapi_3_and_lists_every_endpoint(
    client_for: ClientFor, staff: User, query: dict[str, str], headers: dict[str, str]
) -> None:
    response = client_for(staff).get("/api/schema/", query, headers=headers)

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate(schema)  # raises OpenAPIValidationError on an invalid document
    assert {
        "/api/me/",
        "/api/me/contact/",
        "/api/bureaus/",
        "/api/bureaus/{id}/",
        "/api/experts/",
        "/api/deputies/",
    } <= set(schema["paths"])
    assert {"get", "put"} <= set(schema["paths"]["/api/me/contact/"])
    deputy_fields = set(schema["components"]["schemas"]["Deputy"]["properties"])
    assert not CONTACT_KEYS & deputy_fields


def test_schema_documents_the_list_filters(client_for: ClientFor, staff: User) -> None:
    schema = client_for(staff).get("/api/schema/", {"format": "json"}).json()

    def parameter_names(path: str) -> set[str]:
        return {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}

    assert {"q", "code"} <= parameter_names("/api/bureaus/")
    assert {"bureau", "q"} <= parameter_names("/api/experts/")
    assert {"chamber", "q"} <= parameter_names("/api/deputies/")


def test_docs_page_is_served_as_html(client_for: ClientFor, staff: User) -> None:
    response = client_for(staff).get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "swagger" in response.content.decode().lower()


def test_docs_page_uses_only_local_static_assets_that_are_served(client_for: ClientFor, staff: User) -> None:
    # given the docs page (we run offline: no CDN may be referenced)
    client = client_for(staff)
    html = client.get("/api/docs/").content.decode()

    # then every script and stylesheet is a local static file, and each one is actually served
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", html)
    assert external == []
    scripts = re.findall(r"""<script[^>]+src\s*=\s*["']([^"']+)["']""", html)
    assert any("swagger-ui-bundle" in src for src in scripts)
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/static/[^"']+)["']""", html)
    assert set(scripts) <= set(assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


# --- PUT replaces, PATCH changes only what is sent ---------------------------


def test_put_contact_without_every_field_gives_400_naming_the_missing_ones_and_wipes_nothing(
    client_for: ClientFor, deputy: User
) -> None:
    before = contact_row(deputy)

    response = client_for(deputy).put("/api/me/contact/", data="{}", content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == CONTACT_KEYS
    assert contact_row(deputy) == before


def test_patch_contact_changes_only_the_fields_sent(client_for: ClientFor, deputy: User) -> None:
    before = contact_row(deputy)

    response = client_for(deputy).patch(
        "/api/me/contact/", data=json.dumps({"mobile": "13700001111"}), content_type="application/json"
    )

    assert response.status_code == 200
    assert contact_row(deputy) == {**before, "mobile": "13700001111"}


def test_a_stranger_is_refused_before_their_input_is_validated(client_for: ClientFor, expert: User) -> None:
    response = client_for(expert).put(
        "/api/me/contact/", data=json.dumps({"email": "not-an-email"}), content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
