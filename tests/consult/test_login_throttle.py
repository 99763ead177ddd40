"""Too many failed sign-ins lock a username (from one address) out for a while."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from consult.models import User
from tests.factories import PASSWORD, UserFactory


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address, HTTP_HOST="127.0.0.1"
    )


def _fail_until_locked(client: Client, username: str) -> None:
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = _login(client, username, "wrong-password")
        assert response.status_code == 200  # the form again, with the wrong-password message


def test_right_password_signs_in(db: None) -> None:
    user: User = UserFactory(username="throttle-ok")

    response = _login(Client(), user.username, PASSWORD)

    assert response.status_code == 302
    assert response.url == "/"


def test_after_too_many_failures_even_the_right_password_is_refused_with_a_clear_message(db: None) -> None:
    user: User = UserFactory(username="throttle-locked")
    client = Client()
    _fail_until_locked(client, user.username)

    response = _login(client, user.username, PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "登录失败次数过多" in response.content.decode()


def test_lockout_is_per_address(db: None) -> None:
    user: User = UserFactory(username="throttle-other-address")
    _fail_until_locked(Client(), user.username)

    response = _login(Client(), user.username, PASSWORD, address="10.0.0.2")

    assert response.status_code == 302


def test_a_success_clears_earlier_failures(db: None) -> None:
    user: User = UserFactory(username="throttle-reset")
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        _login(client, user.username, "wrong-password")
    assert _login(client, user.username, PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        _login(client, user.username, "wrong-password")
    response = _login(client, user.username, PASSWORD)

    assert response.status_code == 302


def test_the_admin_login_is_throttled_too(db: None) -> None:
    UserFactory(username="throttle-admin", is_staff=True, is_superuser=True)
    client = Client()
    _fail_until_locked(client, "throttle-admin")

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "throttle-admin", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_HOST="127.0.0.1",
    )

    assert response.status_code == 200  # the admin login form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session
