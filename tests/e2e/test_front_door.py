"""The front door in Chromium (issue 15, point 13): what the platform is, password reset, 长辈版, the API docs.

The emailed link is made here, before Chromium starts, with the token Django's reset view puts in the mail
(tests/frontend/test_front_door.py checks that the mail is sent and its link works); here a person follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, Page, expect

from consult.models import User
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context, save_screenshot
from tests.e2e.test_login import sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
NEW_PASSWORD = "翠湖新村2027春"


@dataclass(frozen=True)
class Elder:
    username: str
    email: str
    reset_link: str


@pytest.fixture
def elder(transactional_db: None) -> Elder:
    """A deputy with an email address, and the reset link the mail would carry (made before Chromium starts)."""
    user: User = UserFactory(username="elder", full_name="周德明", email="zhoudm@example.cn")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"
    return Elder(username=user.username, email=user.email, reset_link=link)


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_an_elder_turns_on_large_text_resets_the_password_and_signs_in(
    elder: Elder, daphne_server: LiveServer, browser: Browser
) -> None:
    page = open_context(browser, daphne_server, **PHONE).new_page()

    # the sign-in page says what the platform is and for whom
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="代表委员与政府部门在线咨询平台")).to_be_visible()
    expect(page.locator(".about")).to_contain_text("人大代表和政协委员")
    expect(page.locator(".audiences li")).to_have_count(3)
    no_sideways_scroll(page)
    save_screenshot(page, "front-door-login-phone")

    # 长辈版 works before signing in (a cookie)
    page.locator(".topbar .text-size-switch button").click()
    expect(page.locator("html")).to_have_class("large-text")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    no_sideways_scroll(page)
    save_screenshot(page, "front-door-login-phone-large")

    # forgot the password: ask for the link by email
    page.get_by_role("link", name="忘记密码？").click()
    expect(page.get_by_role("heading", name="重设密码")).to_be_visible()
    page.get_by_label("电子邮箱").fill(elder.email)
    page.get_by_role("button", name="发送链接").click()
    expect(page.get_by_role("heading", name="请查收邮件")).to_be_visible()
    assert page.url.endswith("/accounts/password-reset/sent/")

    # follow the link from the mail, choose a new password; a mismatch is said beside the field first
    page.goto(elder.reset_link)
    expect(page.get_by_role("heading", name="设置新密码")).to_be_visible()
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill("something else")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.locator('[data-field="new_password2"]')).to_be_visible()
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="保存新密码").click()
    expect(page.get_by_role("heading", name="密码已修改")).to_be_visible()
    save_screenshot(page, "front-door-reset-done-phone-large")

    # the old password no longer works, the new one does; the large text came along onto the account
    sign_in(page, elder.username, PASSWORD)
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, elder.username, NEW_PASSWORD)
    page.wait_for_url(f"{daphne_server.url}/")
    expect(page.locator("html")).to_have_class("large-text")
    page.goto("/profile/")
    expect(page.locator("#text-size")).to_contain_text("当前为长辈版")

    # the used link is spent
    page.goto(elder.reset_link)
    expect(page.get_by_role("alert")).to_contain_text("此链接已失效")
    page.context.close()


def test_on_a_desktop_the_api_docs_ask_for_sign_in_first(
    elder: Elder, daphne_server: LiveServer, browser: Browser
) -> None:
    page = open_context(browser, daphne_server, **DESKTOP).new_page()

    page.goto("/accounts/login/")
    save_screenshot(page, "front-door-login-desktop")
    about = page.locator(".about").bounding_box()
    form = page.locator(".sign-in").bounding_box()
    assert about is not None
    assert form is not None
    assert form["x"] > about["x"] + about["width"] - 1  # side by side on a wide screen

    # signed out, the API docs send you to sign in, then back to them
    page.goto("/api/docs/")
    assert "/accounts/login/?next=/api/docs/" in page.url
    sign_in_here(page, elder.username, PASSWORD)
    page.wait_for_url(f"{daphne_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Consult API", timeout=60_000)  # a big schema
    page.context.close()


def sign_in_here(page: Page, username: str, password: str) -> None:
    """Fill the sign-in form already open (it carries ``next``)."""
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
