"""Being told what needs you, in Chromium.

- The expert's workbench in the background (the page's visibility is emulated as hidden: a headless browser has no
  other window to switch to): a deputy's message makes the tab title show a count, a desktop Notification is
  constructed (the permission granted to the browser context), and the unread badge follows at once through the
  live event, not the 30-second re-read (which a hidden page skips).
- A deputy's notifications on a phone: following one marks it read, then "mark all read" clears the rest, and
  the badge in the menu follows.

The people are committed before Chromium starts; while Playwright runs, the ORM is used only from another
thread (``read_db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from chat import services as chat
from consult.desk import services as desk
from consult.models import Bureau, Notification, User
from consult.notifications.services import notify
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context
from tests.e2e.test_login import sign_in
from tests.e2e.test_proposal_journey import read_db

pytestmark = pytest.mark.e2e

TOPIC = "学区划分调整后老生能否原校就读"

# Records each desktop notification the page makes, and lets the test hide the page (document.visibilityState).
RECORD_AND_HIDE = """
window.__notices = [];
const Real = window.Notification;
if (Real) {
  class Recorded extends Real {
    constructor(title, options) {
      window.__notices.push({ title, body: (options || {}).body || "" });
      super(title, options);
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
}
let hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
Object.defineProperty(Document.prototype, "hidden", { get: () => hidden });
window.__setHidden = (value) => {
  hidden = value;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


@pytest.fixture
def consultation_in_progress(transactional_db: None, deputy: User, expert: User, bureau_a: Bureau) -> int:
    """王建国's consultation, taken by 陈志远 (committed before Chromium starts)."""
    desk.expert_connected(actor=expert)
    consultation = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic=TOPIC)
    desk.route_bureau(bureau_id=bureau_a.pk)
    desk.expert_disconnected(actor=expert)
    consultation.refresh_from_db()
    assert consultation.expert is not None
    return consultation.pk


@pytest.fixture
def workbench(
    consultation_in_progress: int, browser: Browser, daphne_server: LiveServer, password: str
) -> Iterator[Page]:
    context = open_context(browser, daphne_server, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["notifications"])
    context.add_init_script(RECORD_AND_HIDE)
    page = context.new_page()
    try:
        sign_in(page, "expert", password)
        page.wait_for_url(f"{daphne_server.url}/")
        page.goto("/desk/workbench/")
        yield page
    finally:
        context.close()


def test_a_message_while_the_workbench_is_in_the_background_counts_in_the_title_and_notifies(
    workbench: Page, consultation_in_progress: int, deputy: User, tmp_path: Path
) -> None:
    page = workbench
    consultation_id = consultation_in_progress
    title = page.title()
    # the page follows the consultation's messages (the server confirmed the subscription)
    expect(page.locator("[data-desk-alerts]")).to_have_attribute("data-following", str(consultation_id))
    expect(page.locator("[data-alert-sound]")).to_be_checked()

    page.evaluate("window.__setHidden(true)")
    read_db(
        lambda: chat.post_message(
            actor=deputy, consultation_id=consultation_id, client_id="alert-1", body="请问过渡期多长？"
        )
    )

    page.wait_for_function("document.title.startsWith('(1) ')")
    page.wait_for_function("window.__notices.length === 1")
    notice = page.evaluate("window.__notices[0]")
    assert TOPIC in notice["body"]
    badge = page.locator(f"[data-consultation='{consultation_id}'] .badge.unread")
    expect(badge).to_have_text("1")

    # a second one counts on; the expert's own messages never alert
    read_db(lambda: chat.post_message(actor=deputy, consultation_id=consultation_id, client_id="alert-2", body="谢谢"))
    page.wait_for_function("document.title.startsWith('(2) ')")
    expect(badge).to_have_text("2")
    page.screenshot(path=tmp_path / "workbench-background.png", full_page=True)

    # back in front: the count goes, the title is the page's own again
    page.evaluate("window.__setHidden(false)")
    page.wait_for_function(f"document.title === {title!r}")
    assert page.evaluate("window.__notices.length") == 2


def test_the_sound_can_be_turned_off_and_stays_off(workbench: Page) -> None:
    page = workbench
    expect(page.locator("[data-region] [data-alert-sound]")).to_have_count(0)  # live re-reads never reset it
    page.locator("[data-alert-sound]").uncheck()
    page.reload()

    expect(page.locator("[data-alert-sound]")).not_to_be_checked()
    assert page.evaluate("localStorage.getItem('consult.alertSound')") == "off"


@pytest.fixture
def three_unread(transactional_db: None, deputy: User) -> list[int]:
    return [
        notify([deputy.pk], kind="reply.sent", params={"subject": subject}, url="/desk/")[0].pk
        for subject in ("公交线路优化", "学区划分", "停车难")
    ]


def test_following_a_notification_marks_it_read_and_mark_all_read_clears_the_rest(
    three_unread: list[int], browser: Browser, daphne_server: LiveServer, password: str, tmp_path: Path
) -> None:
    context = open_context(browser, daphne_server, **PHONE)
    page = context.new_page()
    try:
        sign_in(page, "deputy", password)
        page.wait_for_url(f"{daphne_server.url}/")
        badge = page.locator("[data-unread-badge]")
        expect(badge).to_have_text("3")
        page.goto("/notifications/")
        expect(page.locator("li[data-unread]")).to_have_count(3)
        page.screenshot(path=tmp_path / "notifications-phone.png", full_page=True)

        page.get_by_role("link", name="您收到了答复，请评价：学区划分").click()
        page.wait_for_url(f"{daphne_server.url}/desk/")
        expect(badge).to_have_text("2")
        page.goto("/notifications/")
        expect(page.locator("li[data-unread]")).to_have_count(2)
        expect(page.locator(f"li[data-notification='{three_unread[1]}']")).not_to_have_attribute("data-unread", "")

        page.get_by_role("button", name="全部标为已读").click()
        expect(page.locator("li[data-unread]")).to_have_count(0)
        expect(badge).to_be_hidden()
    finally:
        context.close()
    unread = read_db(lambda: Notification.objects.filter(pk__in=three_unread, read_at__isnull=True).count())
    assert unread == 0
