"""The front door: what the sign-in page says, password reset by email, the 长辈版 switch, and the API docs gate."""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from consult.models import User
from frontend import text_size
from tests.factories import PASSWORD, UserFactory

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")


def a_client() -> Client:
    """A client from an address of its own: the reset throttle counts per address (in Redis, across runs)."""
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")


def a_user_with_email() -> User:
    user: User = UserFactory(email=f"{uuid.uuid4().hex[:12]}@example.cn", full_name="王建国")
    return user


def ask_for_reset(client: Client, email: str) -> str:
    response = client.post("/accounts/password-reset/", {"email": email})
    assert response.status_code == 302
    assert response.url == "/accounts/password-reset/sent/"
    return response.url


# --- the sign-in page -----------------------------------------------------------------------------------------


def test_the_sign_in_page_says_what_the_platform_is_and_offers_a_password_reset(db: None) -> None:
    html = Client().get("/accounts/login/").content.decode()

    assert "代表委员与政府部门在线咨询平台" in html
    assert "人大代表和政协委员" in html
    assert "<strong>代表委员</strong>" in html
    assert "<strong>委办局</strong>" in html
    assert "<strong>人大、政协工作机构</strong>" in html
    assert 'href="/accounts/password-reset/"' in html
    assert "忘记密码？" in html


def test_the_sign_in_page_in_english_says_the_same(db: None) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/accounts/login/").content.decode()

    assert "Consult is where people's congress deputies and CPPCC members" in html
    assert "Forgot your password?" in html


# --- password reset -------------------------------------------------------------------------------------------


def test_a_reset_mails_a_link_in_chinese_that_sets_a_new_password(db: None) -> None:
    # given a person with an email address on their account
    user = a_user_with_email()
    client = a_client()

    # when they ask for a reset
    ask_for_reset(client, user.email.upper())

    # then one mail goes to that address, in Chinese, with a one-use link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "代表委员在线咨询平台：设置新密码"
    assert "王建国，您好" in message.body
    assert f"您的用户名：{user.username}" in message.body
    match = LINK.search(message.body)
    assert match is not None
    link = match.group(1)

    # and the link opens the new-password form, which saves the password
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert "设置新密码" in page.content.decode()
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    done = client.post(form_url, {"new_password1": "海滨市2026春天", "new_password2": "海滨市2026春天"})
    assert done.status_code == 302
    assert done.url == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password("海滨市2026春天")

    # and it works only once
    again = client.get(link, follow=True)
    assert "此链接已失效" in again.content.decode()


def test_the_reset_mail_follows_the_language_switch(db: None) -> None:
    user = a_user_with_email()
    client = a_client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    ask_for_reset(client, user.email)

    assert mail.outbox[0].subject == "Consult: choose a new password"
    assert "Hello 王建国," in mail.outbox[0].body


def test_an_unknown_address_gets_the_same_answer_and_no_mail(db: None) -> None:
    ask_for_reset(a_client(), f"{uuid.uuid4().hex[:12]}@example.cn")

    assert mail.outbox == []


def test_a_malformed_address_is_a_400_naming_the_field(db: None) -> None:
    response = a_client().post("/accounts/password-reset/", {"email": "not an address"})

    assert response.status_code == 400
    assert 'data-field="email"' in response.content.decode()
    assert mail.outbox == []


def test_a_refused_new_password_is_a_400_naming_the_field_and_the_old_one_stays(db: None) -> None:
    user = a_user_with_email()
    client = a_client()
    ask_for_reset(client, user.email)
    match = LINK.search(mail.outbox[0].body)
    assert match is not None
    page = client.get(match.group(1), follow=True)
    form_url = page.redirect_chain[-1][0]

    response = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})

    assert response.status_code == 400
    assert 'data-field="new_password2"' in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_asking_too_often_sends_no_more_mail(db: None, settings: SettingsWrapper) -> None:
    settings.PASSWORD_RESET_MAX_PER_HOUR = 2
    user = a_user_with_email()
    client = a_client()

    for _ in range(4):
        ask_for_reset(client, user.email)  # the same answer every time

    assert len(mail.outbox) == 2


# --- 长辈版 / large text -----------------------------------------------------------------------------------------


def test_signed_out_the_switch_keeps_the_size_in_a_cookie(db: None) -> None:
    client = Client()
    assert "large-text" not in client.get("/accounts/login/").content.decode().split("<head>")[0]

    response = client.post("/accounts/text-size/", {"large_text": "1", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert response.cookies[text_size.COOKIE].value == "1"
    html = client.get("/accounts/login/").content.decode()
    assert 'class="large-text"' in html
    assert 'data-text-size="standard"' in html  # the switch now offers the way back


def test_signed_in_the_switch_is_remembered_on_the_account(db: None) -> None:
    user: User = UserFactory()
    client = Client()
    client.force_login(user)

    client.post("/accounts/text-size/", {"large_text": "1", "next": "/profile/"})

    user.refresh_from_db()
    assert user.large_text is True
    other_device = Client()
    other_device.force_login(user)
    assert 'class="large-text"' in other_device.get("/profile/").content.decode()

    client.post("/accounts/text-size/", {"large_text": "0", "next": "/profile/"})
    user.refresh_from_db()
    assert user.large_text is False


def test_a_choice_made_on_the_sign_in_page_goes_onto_the_account(db: None) -> None:
    user: User = UserFactory(username=f"elder-{uuid.uuid4().hex[:8]}")
    client = Client()
    client.post("/accounts/text-size/", {"large_text": "1", "next": "/accounts/login/"})

    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.large_text is True


def test_the_switch_never_sends_you_to_another_site(db: None) -> None:
    response = Client().post("/accounts/text-size/", {"large_text": "1", "next": "https://evil.example/"})

    assert response.url == "/accounts/login/"


def test_the_switch_takes_only_post(db: None) -> None:
    assert Client().get("/accounts/text-size/").status_code == 405


# --- API docs -------------------------------------------------------------------------------------------------


def test_signed_out_the_schema_is_401_and_the_docs_page_sends_you_to_sign_in(db: None) -> None:
    client = Client()

    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert schema.status_code == 401
    assert schema.json()["code"] == "not_authenticated"
    assert docs.status_code == 302
    assert docs.url == "/accounts/login/?next=/api/docs/"


def test_signed_in_the_schema_and_docs_are_served(db: None) -> None:
    client = Client()
    client.force_login(UserFactory())

    assert client.get("/api/schema/", {"format": "json"}).status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/?format=json", "/api/docs/"])
def test_api_docs_public_opens_them_to_everyone(db: None, settings: SettingsWrapper, path: str) -> None:
    settings.API_DOCS_PUBLIC = True

    assert Client().get(path).status_code == 200
