"""Searching in the browser: the office searches 老旧小区, narrows by a facet and reloads the same search from
its URL; a deputy writing a proposal sees the earlier one on the same subject, with its reply class.

The corpus of ``tests/search/test_api.py`` is committed and indexed before Chromium starts, in the index
directory the Daphne server reads (this run's var dir), rebuilt so nothing of earlier tests lingers.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from consult.models import Bureau, User
from search import indexing
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context
from tests.e2e.test_login import sign_in
from tests.search.test_api import Corpus, build_corpus

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def indexed_corpus(
    transactional_db: None,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    expert: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
) -> Corpus:
    corpus = build_corpus(
        deputy=deputy,
        cosigner=cosigner,
        staff=staff,
        handler=handler,
        expert=expert,
        bureau_a=bureau_a,
        bureau_b=bureau_b,
    )
    indexing.rebuild("proposal")  # the live index holds exactly this test's proposals
    return corpus


def signed_in(browser: Browser, server: LiveServer, username: str, password: str, **options: object) -> Page:
    page = open_context(browser, server, **options).new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    return page


def test_office_searches_narrows_by_facet_and_reloads_it(
    indexed_corpus: Corpus, daphne_server: LiveServer, browser: Browser, password: str, bureau_a: Bureau
) -> None:
    office = signed_in(browser, daphne_server, "staff", password, **DESKTOP)

    office.locator("nav.mainnav").get_by_role("link", name="搜索").click()
    office.get_by_label("搜索词").fill("老旧小区")
    office.locator("form.search-form").get_by_role("button", name="搜索").click()

    office.wait_for_url(re.compile(r"/search/\?q="))
    hits = office.locator("li.search-hit")
    expect(hits).to_have_count(2)
    expect(hits.first.locator("a.title mark").first).to_have_text("老旧小区")
    expect(office.locator(".result-count")).to_have_text("找到 2 件建议提案")

    office.locator("[data-facet=bureau]").get_by_role("checkbox", name=re.compile("市教委")).click()

    office.wait_for_url(re.compile(rf"[?&]bureau={bureau_a.pk}(&|$)"))
    narrowed_url = office.url
    assert "q=%E8%80%81%E6%97%A7%E5%B0%8F%E5%8C%BA" in narrowed_url  # the words stay in the URL
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("关于缓解老旧小区停车难的建议")
    expect(office.locator("[data-facet=bureau] a[aria-checked=true]")).to_contain_text("市教委")

    office.reload()

    assert office.url == narrowed_url
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("2026-建-0002")
    expect(office.get_by_label("搜索词")).to_have_value("老旧小区")
    expect(office.locator("[data-facet=bureau] a[aria-checked=true]")).to_contain_text("市教委")


def test_deputy_writing_a_proposal_sees_the_earlier_one_with_its_class(
    indexed_corpus: Corpus, daphne_server: LiveServer, browser: Browser, password: str
) -> None:
    deputy = signed_in(browser, daphne_server, "deputy", password, **PHONE)
    deputy.goto("/proposals/new/")
    panel = deputy.locator("[data-similar]")
    expect(panel).to_be_hidden()

    title = deputy.get_by_label("案由")
    title.press_sequentially("老旧小区加装电梯", delay=60)  # typing goes on while the panel asks

    expect(title).to_have_value("老旧小区加装电梯")
    expect(panel).to_be_visible()
    earlier = panel.locator(f'li[data-proposal="{indexed_corpus.elevator.pk}"]')
    expect(earlier).to_contain_text("2026-建-0001")
    expect(earlier).to_contain_text("A类")
    expect(earlier).to_contain_text("市交通委")
    expect(earlier.locator("a")).to_have_attribute("target", "_blank")
    expect(earlier.locator("mark").first).to_be_visible()
    expect(panel.locator("li")).to_have_count(1)  # nothing the deputy may not see (the cosigner's)
