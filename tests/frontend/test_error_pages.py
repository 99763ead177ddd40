"""Errors that happen outside a view's own handling: pages in the site's look, the API's JSON under /api/.

400, 403 (CSRF too), 404, 413 and 500: Chinese by default, English through the language switch's cookie; under
``/api/`` always ``{"code", "message"}``. The routes that raise are this module's own URLconf, put in front of
the site's (``pytest.mark.urls``), with the site's error handlers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path
from pytest_django.asserts import assertContains, assertNotContains

from consult.models import User
from frontend import errors


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unhandled bug")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a malformed request")


def form_post(request: HttpRequest) -> HttpResponse:
    return HttpResponse("stored")


urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("suspicious/", suspicious),
    path("form/", form_post),
    path("api/boom/", boom),
    path("api/forbidden/", forbidden),
    path("api/suspicious/", suspicious),
    path("api/form/", form_post),
    path("", include("consult.urls")),
]
handler400 = "frontend.errors.bad_request"
handler403 = "frontend.errors.permission_denied"
handler404 = "frontend.errors.page_not_found"
handler500 = "frontend.errors.server_error"

pytestmark = pytest.mark.urls(__name__)


def english() -> Client:
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def api_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    body: dict[str, Any] = json.loads(response.content)
    assert set(body) <= {"code", "message", "fields"}
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


# --- pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "chinese", "english_title"),
    [
        ("/no-such-page/", 404, "页面不存在", "Page not found"),
        ("/forbidden/", 403, "无权访问", "Access denied"),
        ("/suspicious/", 400, "请求有误", "Bad request"),
    ],
)
def test_error_pages_are_chinese_in_the_site_look_and_english_through_the_switch(
    db: None, url: str, status: int, chinese: str, english_title: str
) -> None:
    response = Client(raise_request_exception=False).get(url)

    assert response.status_code == status
    assertContains(response, '<html lang="zh-hans">', status_code=status)
    assertContains(response, '<header class="topbar">', status_code=status)
    assertContains(response, f"<h1>{chinese}</h1>", status_code=status)
    assertContains(response, f"错误 {status}", status_code=status)
    assertContains(response, 'href="/"', status_code=status)  # back to the home page
    assertContains(response, 'name="language" value="en"', status_code=status)  # the switch is there

    in_english = english().get(url)
    assertContains(in_english, '<html lang="en">', status_code=status)
    assertContains(in_english, f"<h1>{english_title}</h1>", status_code=status)
    assertContains(in_english, f"Error {status}", status_code=status)


def test_error_page_keeps_the_navigation_of_a_signed_in_user(deputy: User) -> None:
    client = Client()
    client.force_login(deputy)

    response = client.get("/proposals/999999999/no-such-thing/")

    assertContains(response, '<nav class="mainnav"', status_code=404)
    assertContains(response, "王建国", status_code=404)


def test_server_error_page_is_the_plain_one_in_chinese_and_english(db: None) -> None:
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    assertContains(response, "<h1>服务器错误</h1>", status_code=500)
    assertContains(response, '<header class="topbar">', status_code=500)
    assertContains(response, "frontend/app.css", status_code=500)
    assertNotContains(response, "an unhandled bug", status_code=500)
    assertContains(english().get("/boom/"), "<h1>Server error</h1>", status_code=500)


def test_server_error_page_renders_without_the_database() -> None:
    """No ``db`` fixture: pytest-django fails any query, so this proves the 500 page makes none."""
    request = RequestFactory().get("/anything/")

    response = errors.server_error(request)

    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()


def test_csrf_failure_on_a_page_explains_the_expired_form(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/form/", {"x": "1"})

    assertContains(response, "<h1>表单已失效</h1>", status_code=403)


def test_body_over_the_limit_on_a_page_is_a_413_page(db: None, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = Client().post("/form/", f"text={'x' * 2000}", content_type="application/x-www-form-urlencoded")

    assertContains(response, "<h1>请求内容过大</h1>", status_code=413)


def test_refused_host_is_a_400_page_and_one_warning_line_saying_how_to_allow_it(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = Client().get("/accounts/login/", HTTP_HOST="consult.example.cn:8000")

    assertContains(response, "<h1>请求有误</h1>", status_code=400)
    refused = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert len(refused) == 1
    line = refused[0]
    assert line.levelname == "WARNING"
    assert line.exc_info is None
    message = line.getMessage()
    assert "'consult.example.cn:8000'" in message
    assert "ALLOWED_HOSTS environment variable" in message
    assert f"ALLOWED_HOSTS={','.join(settings.ALLOWED_HOSTS)},consult.example.cn" in message
    assert "\n" not in message


# --- the API's JSON ----------------------------------------------------------------


def test_unknown_api_path_is_a_json_404(client: Client, db: None) -> None:
    response = client.get("/api/no-such-endpoint/")

    assert response.status_code == 404
    assert api_error(response)["code"] == "not_found"


def test_unhandled_exception_under_api_is_a_json_500(db: None) -> None:
    response = Client(raise_request_exception=False).get("/api/boom/")

    assert response.status_code == 500
    body = api_error(response)
    assert body["code"] == "server_error"
    assert "unhandled bug" not in body["message"]


def test_api_errors_follow_the_language_switch(db: None) -> None:
    chinese = api_error(Client().get("/api/no-such-endpoint/"))["message"]
    in_english = api_error(english().get("/api/no-such-endpoint/"))["message"]

    assert in_english == "Not found."
    assert chinese != in_english


def test_forbidden_and_bad_request_under_api_are_json(db: None) -> None:
    forbidden = Client().get("/api/forbidden/")
    bad = Client().get("/api/suspicious/")

    assert (forbidden.status_code, api_error(forbidden)["code"]) == (403, "permission_denied")
    assert (bad.status_code, api_error(bad)["code"]) == (400, "bad_request")


def test_refused_host_under_api_is_json(db: None) -> None:
    response = Client().get("/api/me/", HTTP_HOST="consult.example.cn")

    assert response.status_code == 400
    assert api_error(response)["code"] == "bad_request"


def test_csrf_failure_outside_drf_under_api_is_json(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/api/form/", {"x": "1"})

    assert response.status_code == 403
    body = api_error(response)
    assert body["code"] == "permission_denied"
    assert body["message"].startswith("CSRF Failed")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_body_over_the_limit_under_api_is_a_json_413(deputy: User, settings: Any, content_type: str) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client()
    client.force_login(deputy)
    body = json.dumps({"title": "t", "body": "长" * 2000, "category": "教育"})
    if content_type != "application/json":
        body = f"title=t&category=x&body={'x' * 2000}"

    response = client.post("/api/proposals/", body, content_type=content_type)

    assert response.status_code == 413
    body_out = api_error(response)
    assert body_out["code"] == "too_large"
    assert "1000" in body_out["message"]  # the limit, in the request's language


def test_drf_views_keep_their_own_error_answers(client: Client, db: None) -> None:
    response = client.get("/api/me/")

    assert response.status_code in (401, 403)
    assert api_error(response)["code"] == "not_authenticated"
