"""The two offices in Chromium (issue 15 point 14): a server run with SEPARATE_OFFICES=true; the people's
congress office's staff member finds the deputy's 建议 waiting for registration and not the member's 提案, the
CPPCC office's the other way round, and each statistics page counts only its own kind. Phone and desktop.

The data (a 建议 and a 提案 submitted, one staff member in each office) is committed before Chromium starts.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, expect

from consult.demo.city import seed_people
from consult.models import User
from consult.people.roles import Chamber, Role
from proposals import services
from proposals.models import ProposalSession
from proposals.workdays import seed_calendar
from tests.conftest import REPO_ROOT, LiveServer, child_env, free_port, stop, wait_until_serving
from tests.e2e.conftest import PHONE, open_context, save_screenshot
from tests.e2e.test_login import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.proposals.conftest import content

pytestmark = pytest.mark.e2e

SIZES: dict[str, dict[str, Any]] = {"desktop": {"viewport": {"width": 1280, "height": 800}}, "phone": PHONE}
SUGGESTION, MOTION = "关于增开东湖区区间车的建议", "关于加强社区医疗服务的提案"


@pytest.fixture
def two_offices(transactional_db: None) -> None:
    seed_people()
    seed_calendar()
    for chamber, name, prefix in ((Chamber.NPC, "人大会议", "建"), (Chamber.CPPCC, "政协会议", "提")):
        ProposalSession.objects.create(chamber=chamber, year=2027, name=name, number_prefix=prefix, is_open=True)
    for username, office in (("npc-office", Chamber.NPC), ("cppcc-office", Chamber.CPPCC)):
        UserFactory(username=username, full_name=f"{office}工作人员", role=Role.STAFF, office=office)
    for username, title in (("deputy", SUGGESTION), ("member", MOTION)):
        author = User.objects.get(username=username)
        draft = services.create_draft(actor=author, content=content(title=title))
        services.submit(actor=author, proposal_id=draft.pk)


@pytest.fixture
def separate_server(django_db_setup: None) -> Iterator[LiveServer]:
    """The app under Daphne as daphne_server runs it, with two offices."""
    port = free_port()
    log = open(Path(settings.VAR_DIR) / f"daphne-offices-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consult.realtime.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "consult.asgi:application",
        ],
        cwd=REPO_ROOT,
        env=child_env(SEPARATE_OFFICES="true"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", process)
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process)
    finally:
        stop(process)
        log.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_each_office_registers_and_counts_its_own_kind(
    two_offices: None, separate_server: LiveServer, browser: Browser, size: str
) -> None:
    for username, own, other in (("npc-office", SUGGESTION, MOTION), ("cppcc-office", MOTION, SUGGESTION)):
        page = open_context(browser, separate_server, **SIZES[size]).new_page()
        sign_in(page, username, PASSWORD)
        page.wait_for_url(f"{separate_server.url}/")

        page.goto("/office/registration/")
        expect(page.get_by_text(own).first).to_be_visible()
        expect(page.get_by_text(other)).to_have_count(0)
        save_screenshot(page, f"offices-{username}-{size}")

        page.goto("/office/statistics/?year=2027")
        expect(page.locator("[data-stat='assigned']")).to_have_text("0")
        assert page.locator("main").inner_text().count("共提交 1 件") == 1
        page.context.close()
