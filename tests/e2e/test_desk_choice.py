"""The deputy's desk on a phone and on a desktop (issue 15, point 6): the start form comes first on a phone, the
bureau list filters as one types and keeps the bureaus with experts online first."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from consult.models import Bureau, ExpertPresence, PresenceStatus, User
from tests.conftest import LiveServer
from tests.e2e.conftest import save_screenshot
from tests.e2e.test_chat import signed_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(transactional_db: None, deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    """市教委 has 陈志远 online; 市交通委 nobody (it comes first in the bureaus' own order)."""
    Bureau.objects.filter(pk=bureau_b.pk).update(sort_order=0)
    Bureau.objects.filter(pk=bureau_a.pk).update(sort_order=1)
    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_the_desk_puts_the_start_form_first_on_a_phone_and_filters_bureaus(
    people: None, browser: Browser, daphne_server: LiveServer, password: str, phone: bool
) -> None:
    page = signed_in(browser, daphne_server, "deputy", password, phone=phone)
    try:
        page.goto("/desk/")
        start = page.locator("#start").bounding_box()
        mine = page.locator("#mine").bounding_box()
        assert start is not None
        assert mine is not None
        if phone:
            assert start["y"] < mine["y"], "on a phone the start form comes first"
        else:
            assert mine["y"] < start["y"] or mine["x"] != start["x"]

        names = page.locator("#desk-bureau-list > li .name")
        expect(names.first).to_have_text("市教委")  # an expert online beats the bureaus' own order
        page.locator("[data-bureau-filter]").fill("停车")  # a topic of 市交通委
        expect(page.locator("#desk-bureau-list > li:visible")).to_have_count(1)
        expect(page.locator("#desk-bureau-list > li:visible .name")).to_have_text("市交通委")
        page.locator("[data-bureau-filter]").fill("没有这个部门")
        expect(page.locator("[data-bureau-none]")).to_be_visible()
        save_screenshot(page, f"desk-{'phone' if phone else 'desktop'}")
    finally:
        page.context.close()
