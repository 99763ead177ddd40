"""The desk in Chromium: a refused start form stays on /desk/ and a reload posts nothing (issue 15.5, decision 0016);
the expert's workbench in the background alerts once for a consultation routed straight to them ("started" then
"assigned" arrive for the same consultation).

The people are committed before Chromium starts; while Playwright runs, the ORM is used only from another thread
(``read_db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.desk import services as desk
from consult.models import Bureau, Consultation, User
from tests.conftest import LiveServer
from tests.e2e.conftest import open_context
from tests.e2e.test_alerts import RECORD_AND_HIDE
from tests.e2e.test_login import sign_in
from tests.e2e.test_proposal_journey import read_db

pytestmark = pytest.mark.e2e


def test_a_refused_start_form_shows_the_reason_on_the_desk_and_a_reload_posts_nothing(
    transactional_db: None, deputy: User, bureau_a: Bureau, phone_page: Page, daphne_server: LiveServer, password: str
) -> None:
    page = phone_page
    sign_in(page, "deputy", password)
    page.wait_for_url(f"{daphne_server.url}/")
    page.goto(f"/desk/?bureau={bureau_a.pk}")

    page.locator("#id_start_topic").fill("   ")  # passes the browser's "required", refused by the server
    page.get_by_role("button", name="开始咨询").click()

    page.wait_for_url(f"{daphne_server.url}/desk/")
    expect(page.locator('p.error[data-field="topic"]')).to_have_text("请说明您要咨询的问题")
    expect(page.locator("#id_start_bureau_id")).to_have_value(str(bureau_a.pk))

    response = page.reload()

    assert response is not None
    assert response.request.method == "GET"
    assert response.status == 200
    assert page.url == f"{daphne_server.url}/desk/"
    expect(page.locator('p.error[data-field="topic"]')).to_have_count(0)
    assert read_db(lambda: Consultation.objects.count()) == 0


@pytest.fixture
def background_workbench(
    transactional_db: None,
    deputy: User,
    expert: User,
    bureau_a: Bureau,
    password: str,
    browser: Browser,
    daphne_server: LiveServer,
) -> Iterator[Page]:
    """The expert's workbench, open and present (the people committed before Chromium starts)."""
    context = open_context(browser, daphne_server, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["notifications"])
    context.add_init_script(RECORD_AND_HIDE)
    page = context.new_page()
    try:
        sign_in(page, "expert", password)
        page.wait_for_url(f"{daphne_server.url}/")
        page.goto("/desk/workbench/")
        expect(page.locator("[data-presence]")).to_have_attribute("data-presence", "online")  # the socket made it
        yield page
    finally:
        context.close()


def test_a_consultation_routed_straight_to_the_expert_alerts_once(
    background_workbench: Page, deputy: User, bureau_a: Bureau, tmp_path: Path
) -> None:
    page = background_workbench
    page.evaluate("window.__setHidden(true)")

    topic = "老旧小区加装电梯补贴"
    consultation = read_db(lambda: desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic=topic))

    # "started" (the bureau's queue) then "assigned" (to me): the second notice replaces the first (same tag)
    page.wait_for_function("window.__notices.length === 2")
    notices = page.evaluate("window.__notices")
    assert topic in notices[1]["body"]
    assert page.title().startswith("(1) ")  # one consultation, one count
    assert read_db(lambda: Consultation.objects.get(pk=consultation.pk).expert_id) is not None
    page.screenshot(path=tmp_path / "workbench-routed-once.png", full_page=True)
