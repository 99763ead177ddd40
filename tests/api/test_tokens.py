"""Personal API tokens: created (the secret shown once), listed without it, used by scripts, revoked."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client

from consult.models import ApiToken, User
from tests.api.conftest import ClientFor


def create(client: Client, **data: Any) -> Any:
    return client.post(
        "/api/tokens/", data=json.dumps({"name": "nightly export", **data}), content_type="application/json"
    )


def test_a_user_creates_a_token_and_a_script_uses_it(client_for: ClientFor, deputy: User) -> None:
    response = create(client_for(deputy))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("consult_")
    assert body["prefix"] == body["token"][:15]
    assert (body["user"], body["name"], body["expiry"]) == (deputy.pk, "nightly export", None)
    script = Client()  # no session, no CSRF token
    me = script.get("/api/me/", headers={"Authorization": f"Token {body['token']}"})
    assert (me.status_code, me.json()["id"]) == (200, deputy.pk)
    wrote = script.post(
        "/api/notifications/read/",
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Token {body['token']}"},
    )
    assert wrote.status_code == 200, wrote.content


def test_only_a_hash_of_the_secret_is_stored(client_for: ClientFor, deputy: User) -> None:
    secret = create(client_for(deputy)).json()["token"]

    stored = ApiToken.objects.get(user=deputy)
    assert secret not in {stored.digest, stored.token_key}
    assert len(stored.digest) == 128


def test_the_list_never_shows_secrets_and_a_user_holds_several(client_for: ClientFor, deputy: User) -> None:
    client = client_for(deputy)
    create(client, name="first")
    create(client, name="second", expires_in_days=30)

    page = client.get("/api/tokens/").json()

    assert set(page) == {"count", "next", "previous", "results"}
    assert [token["name"] for token in page["results"]] == ["second", "first"]
    assert all("token" not in token for token in page["results"])
    assert page["results"][0]["expiry"] is not None


def test_a_revoked_token_no_longer_opens_anything(client_for: ClientFor, deputy: User) -> None:
    client = client_for(deputy)
    created = create(client).json()

    assert client.delete(f"/api/tokens/{created['id']}/").status_code == 204

    refused = Client().get("/api/me/", headers={"Authorization": f"Token {created['token']}"})
    assert (refused.status_code, refused.json()["code"]) == (401, "authentication_failed")


def test_nobody_sees_or_revokes_someone_elses_token(client_for: ClientFor, deputy: User, member: User) -> None:
    created = create(client_for(deputy)).json()
    stranger = client_for(member)

    assert stranger.get("/api/tokens/").json()["count"] == 0
    assert stranger.delete(f"/api/tokens/{created['id']}/").status_code == 404
    assert create(stranger, user=deputy.pk).status_code == 403
    assert ApiToken.objects.filter(user=deputy).count() == 1


def test_an_administrator_issues_and_revokes_tokens_for_anyone(
    client_for: ClientFor, admin_user: User, deputy: User
) -> None:
    admin = client_for(admin_user)

    created = create(admin, name="service account", user=deputy.pk).json()

    assert created["user"] == deputy.pk
    assert [token["id"] for token in admin.get("/api/tokens/").json()["results"]] == [created["id"]]
    assert admin.delete(f"/api/tokens/{created['id']}/").status_code == 204
    assert not ApiToken.objects.exists()


def test_a_wrong_token_is_a_401_that_says_how_to_authenticate(db: None) -> None:
    response = Client().get("/api/me/", headers={"Authorization": "Token consult_not-a-real-token"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_name_with_control_characters_is_refused(client_for: ClientFor, deputy: User) -> None:
    response = create(client_for(deputy), name="export\x07")

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_a_token_name_that_is_not_text_is_refused_and_nothing_is_stored(client_for: ClientFor, deputy: User) -> None:
    response = create(client_for(deputy), name=5)

    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    assert not ApiToken.objects.filter(user=deputy).exists()


def test_the_schema_documents_token_and_session_authentication(client_for: ClientFor, deputy: User) -> None:
    schema = client_for(deputy).get("/api/schema/?format=json").json()  # the docs need a signed-in user

    schemes = schema["components"]["securitySchemes"]
    assert schemes["knoxApiToken"]["type"] == "apiKey"
    assert (schemes["knoxApiToken"]["in"], schemes["knoxApiToken"]["name"]) == ("header", "Authorization")
    assert "cookieAuth" in schemes
    assert {"knoxApiToken": []} in schema["paths"]["/api/me/"]["get"]["security"]


def test_an_administrator_issues_a_token_in_the_admin_and_sees_the_secret_once(
    client_for: ClientFor, admin_user: User, deputy: User
) -> None:
    admin = client_for(admin_user)

    response = admin.post(
        "/admin/consult/apitoken/add/", {"user": deputy.pk, "name": "报表脚本", "expiry": ""}, follow=True
    )

    token = ApiToken.objects.get(user=deputy)
    [secret] = [found for m in response.context["messages"] for found in re.findall(r"consult_[0-9a-f]{64}", str(m))]
    assert Client().get("/api/me/", headers={"Authorization": f"Token {secret}"}).json()["id"] == deputy.pk
    assert token.name == "报表脚本"
    assert admin.get("/admin/consult/apitoken/").status_code == 200
