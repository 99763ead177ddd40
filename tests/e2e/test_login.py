"""A deputy signs in on their phone and lands on the Chinese home page, live socket connected."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from consult.demo.city import DEMO_PASSWORD
from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_demo_deputy_signs_in_on_a_phone_and_sees_the_chinese_home(
    demo_city: None, daphne_server: LiveServer, phone_page: Page, tmp_path: Path
) -> None:
    page = phone_page

    sign_in(page, "deputy", DEMO_PASSWORD)

    page.wait_for_url(f"{daphne_server.url}/")
    expect(page.locator("h1.greeting")).to_have_text("王建国，您好")
    expect(page.locator("nav.mainnav a")).to_have_text(["首页", "在线咨询", "我的建议提案", "委办局", "我的资料"])
    expect(page.locator("nav.mainnav a[aria-current=page]")).to_have_text("首页")
    expect(page.get_by_role("heading", name="我的履职信息")).to_be_visible()
    expect(page.get_by_text("东湖区代表团")).to_be_visible()
    expect(page.locator("ul.tiles a", has_text="市教委")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "open")  # /ws/live/ connected through Daphne
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
    # Nothing wider than the phone: no sideways scrolling on the home page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    shot = tmp_path / "deputy-home.png"
    page.screenshot(path=shot, full_page=True)

    width, height = png_size(shot)
    assert width == 390
    assert height >= 844
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_wrong_password_shows_the_chinese_error_and_stays_on_the_login_page(
    demo_city: None, daphne_server: LiveServer, desktop_page: Page
) -> None:
    page = desktop_page

    sign_in(page, "deputy", "not-the-password")

    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的用户名和密码")
    assert page.url.startswith(f"{daphne_server.url}/accounts/login/")
    expect(page.get_by_label("用户名")).to_have_value("deputy")
    expect(page.get_by_label("密码")).to_have_value("")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    expect(page.locator("nav.mainnav")).to_have_count(0)  # still signed out
