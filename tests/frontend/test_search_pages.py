"""The search pages, driven through Django's test client: /search/ (proposals, facets in the URL),
/search/messages/ (咨询记录), the similar-proposals list of the registration desk, and the search boxes
and panels other pages carry.

The world is ``tests/search/test_api.py``'s corpus, made through the services and indexed through the
outbox on the embedded engine in a scratch directory.
"""

from __future__ import annotations

import html
import re
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from consult.models import Bureau, User
from proposals import services
from search import indexing
from tests.frontend.test_pages import nav_labels
from tests.search.conftest import search_dir
from tests.search.test_api import Corpus, corpus, written

__all__ = ["corpus", "search_dir"]  # fixtures used below


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Response(Protocol):
    status_code: int
    content: bytes


def page(response: Response) -> str:
    assert response.status_code in (200, 400), response
    return response.content.decode()


def facet_links(text: str, facet: str) -> dict[str, tuple[str, str]]:
    """value -> (href, aria-checked) of the links of one facet."""
    section = re.search(rf'<section class="facet" data-facet="{facet}">(.*?)</section>', text, re.S)
    assert section, f"no {facet} facet"
    links = re.findall(r'<a href="([^"]*)" role="checkbox" aria-checked="(\w+)" data-value="([^"]*)"', section.group(1))
    return {value: (html.unescape(href), checked) for href, checked, value in links}


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def hit_ids(text: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'class="card list-item search-hit" data-proposal="(\d+)"', text)]


# --- the staff search page -------------------------------------------------------------------------------


def test_staff_search_shows_highlighted_hits_with_number_status_year_and_bureau(corpus: Corpus, staff: User) -> None:
    response = signed_in(staff).get("/search/", {"q": "老旧小区"})
    text = page(response)

    assert response.status_code == 200
    assert set(hit_ids(text)) == {corpus.elevator.pk, corpus.parking.pk}
    assertContains(response, "<mark>老旧小区</mark>")
    assertContains(response, "2026-建-0001")
    assertContains(response, '<span class="chip status" data-status="replied">已答复</span>', html=True)
    assertContains(response, '<span class="chip class" data-class="A">A类</span>', html=True)
    assertContains(response, '<span class="chip plain bureau">市交通委</span>', html=True)
    assertContains(response, "找到 2 件建议提案")
    assertNotContains(response, "data-degraded")


def test_the_reply_snippet_is_shown_with_its_match(corpus: Corpus, staff: User) -> None:
    response = signed_in(staff).get("/search/", {"q": "民生实事"})

    assert hit_ids(page(response)) == [corpus.elevator.pk]
    assertContains(response, "<mark>民生实事</mark>")
    assertContains(response, "答复：")


def test_facet_links_add_their_filter_and_keep_the_others(corpus: Corpus, staff: User, bureau_a: Bureau) -> None:
    client = signed_in(staff)
    text = page(client.get("/search/", {"q": "老旧小区", "sort": "newest", "page": "1"}))

    href, checked = facet_links(text, "bureau")[str(bureau_a.pk)]
    narrowed = client.get("/search/" + href)
    again, checked_now = facet_links(page(narrowed), "bureau")[str(bureau_a.pk)]

    assert checked == "false"
    assert query_of(href) == {"q": ["老旧小区"], "sort": ["newest"], "bureau": [str(bureau_a.pk)]}  # page 1 again
    assert hit_ids(page(narrowed)) == [corpus.parking.pk]
    assert checked_now == "true"
    assert query_of(again) == {"q": ["老旧小区"], "sort": ["newest"]}  # a chosen facet's link drops it
    assertContains(narrowed, "委办局：市教委")  # the active filter, with its remove link


def test_multiple_choice_facets_add_to_each_other(corpus: Corpus, staff: User) -> None:
    text = page(signed_in(staff).get("/search/", {"status": "replied"}))

    href, _checked = facet_links(text, "status")["replied"]
    links = facet_links(text, "status")
    assert query_of(href) == {}  # unticking the only status
    others = [h for value, (h, _) in links.items() if value != "replied"]
    assert all(set(query_of(h)["status"]) >= {"replied"} for h in others)


def test_pages_keep_the_query_and_filters(corpus: Corpus, staff: User) -> None:
    client = signed_in(staff)

    first = page(client.get("/search/", {"q": "老旧小区", "year": "2026", "per_page": "1", "sort": "oldest"}))
    next_href = html.unescape(re.search(r'<a href="([^"]*)" rel="next">', first).group(1))  # type: ignore[union-attr]
    second = page(client.get("/search/" + next_href))

    assert query_of(next_href) == {
        "q": ["老旧小区"],
        "year": ["2026"],
        "per_page": ["1"],
        "sort": ["oldest"],
        "page": ["2"],
    }
    assert "第 2 页，共 2 页" in second
    assert set(hit_ids(first) + hit_ids(second)) == {corpus.elevator.pk, corpus.parking.pk}


def test_the_search_form_keeps_the_chosen_filters(corpus: Corpus, staff: User) -> None:
    response = signed_in(staff).get("/search/", {"q": "电梯", "year": "2026", "page": "1"})

    assertContains(response, '<input type="hidden" name="year" value="2026">', html=True)
    assertNotContains(response, 'name="page"')
    assertContains(response, '<option value="relevance" selected>最相关</option>', html=True)


def test_a_bad_filter_is_shown_not_crashed(corpus: Corpus, staff: User) -> None:
    response = signed_in(staff).get("/search/", {"year": "明年"})

    assert response.status_code == 400
    assertContains(response, "data-search-error", status_code=400)
    assertContains(response, "year", status_code=400)


def test_engine_down_shows_a_notice_and_database_matches(
    corpus: Corpus, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.documents import SearchUnavailable
    from search.engines.tantivy_engine import TantivyBackend

    def down(self: TantivyBackend, query: object) -> None:
        raise SearchUnavailable("stopped for the test")

    monkeypatch.setattr(TantivyBackend, "search", down)
    response = signed_in(staff).get("/search/", {"q": "老旧小区", "year": "2026"})

    assertContains(response, "搜索引擎暂时不可用")
    assert set(hit_ids(page(response))) == {corpus.elevator.pk, corpus.parking.pk}
    assertContains(response, "年度：2026")  # the filter still shows, and can be removed


def test_deputy_searches_only_their_own_with_scope_mine(corpus: Corpus, deputy: User, staff: User) -> None:
    from proposals.models import Reply

    reply = Reply.objects.get(proposal=corpus.elevator)
    services.publish(actor=staff, proposal_id=corpus.elevator.pk, reply_id=reply.pk)
    indexing.drain()

    everything = signed_in(deputy).get("/search/", {"q": "老旧小区"})
    mine = signed_in(deputy).get("/search/", {"q": "加装电梯", "scope": "mine"})

    assert corpus.parking.pk not in hit_ids(page(everything))
    assert hit_ids(page(mine)) == [corpus.elevator.pk]
    assertContains(mine, 'role="switch" aria-checked="true" data-scope="mine"')


def test_search_requires_signing_in(client: Client, db: None) -> None:
    response = client.get("/search/", {"q": "电梯"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- consultation records --------------------------------------------------------------------------------


def test_message_search_lists_lines_with_their_consultation(corpus: Corpus, staff: User, deputy: User) -> None:
    as_staff = signed_in(staff).get("/search/messages/", {"q": "老旧小区"})
    as_deputy = signed_in(deputy).get("/search/messages/", {"q": "老旧小区"})

    assertContains(as_staff, f'href="/desk/consultations/{corpus.deputy_chat.pk}/"')
    assertContains(as_staff, f'href="/desk/consultations/{corpus.cosigner_chat.pk}/"')
    assertContains(as_staff, "<mark>老旧小区</mark>")
    assertContains(as_deputy, f'href="/desk/consultations/{corpus.deputy_chat.pk}/"')
    assertNotContains(as_deputy, f'href="/desk/consultations/{corpus.cosigner_chat.pk}/"')
    assertContains(as_deputy, '<a href="/search/messages/?q=%E8%80%81%E6%97%A7%E5%B0%8F%E5%8C%BA" aria-current="page">')


# --- navigation and the search boxes of other pages -----------------------------------------------------


def test_staff_have_a_search_link_others_do_not(deputy: User, handler: User, staff: User) -> None:
    assert "搜索" in nav_labels(signed_in(staff).get("/"))
    assert "搜索" not in nav_labels(signed_in(deputy).get("/"))
    assert "搜索" not in nav_labels(signed_in(handler).get("/"))


def test_my_proposals_searches_my_own(deputy: User, db: None) -> None:
    response = signed_in(deputy).get("/proposals/mine/")

    assertContains(response, '<input type="hidden" name="scope" value="mine">', html=True)
    assertContains(response, 'action="/search/"')


def test_work_queue_and_consultation_desks_carry_a_search_box(deputy: User, handler: User, expert: User) -> None:
    assertContains(signed_in(handler).get("/handling/"), 'action="/search/"')
    assertContains(signed_in(deputy).get("/desk/"), 'action="/search/messages/"')
    assertContains(signed_in(expert).get("/desk/workbench/"), 'action="/search/messages/"')


# --- similar proposals -----------------------------------------------------------------------------------


def test_the_new_proposal_form_has_the_similar_panel(corpus: Corpus, deputy: User) -> None:
    response = signed_in(deputy).get("/proposals/new/")

    assertContains(response, 'data-url="/api/search/proposals/similar/"')
    assertNotContains(response, "data-exclude")
    assertContains(response, 'data-text-class="{c}类"')
    assertContains(response, "frontend/similar.js")


def test_the_draft_form_excludes_the_draft_itself(corpus: Corpus, cosigner: User) -> None:
    response = signed_in(cosigner).get(f"/proposals/{corpus.cosigner_draft.pk}/edit/")

    assertContains(response, f'data-exclude="{corpus.cosigner_draft.pk}"')


def test_registration_desk_lists_similar_earlier_proposals_with_their_numbers(
    corpus: Corpus, deputy: User, staff: User
) -> None:
    newcomer = written(deputy, "关于老旧小区加装电梯财政补贴的建议", "建议提高老旧小区加装电梯补贴。")
    services.submit(actor=deputy, proposal_id=newcomer.pk)
    indexing.drain()
    client = signed_in(staff)

    desk = client.get("/office/registration/")
    fragment = client.get(f"/search/similar/{newcomer.pk}/", headers={"X-Requested-With": "fetch"})
    full = client.get(f"/search/similar/{newcomer.pk}/")

    assertContains(desk, f'data-similar-src="/search/similar/{newcomer.pk}/"')
    assert re.findall(r'<li data-proposal="(\d+)">', fragment.content.decode())[0] == str(corpus.elevator.pk)
    assertNotContains(fragment, f'data-proposal="{newcomer.pk}"')
    assertContains(fragment, '<span class="code">2026-建-0001</span>', html=True)
    assertContains(fragment, "A类")
    assertContains(fragment, "主办： 市交通委")
    assertNotContains(fragment, "<html")
    assertContains(full, "<html")
    assertContains(full, "相似建议提案")


def test_the_registration_section_of_a_submitted_proposal_offers_its_similar_list(
    corpus: Corpus, staff: User, deputy: User
) -> None:
    submitted = signed_in(staff).get(f"/proposals/{corpus.bus.pk}/")
    replied = signed_in(staff).get(f"/proposals/{corpus.elevator.pk}/")

    assertContains(submitted, f'data-similar-src="/search/similar/{corpus.bus.pk}/"')
    assertContains(submitted, "frontend/similar.js")
    assertNotContains(replied, "data-similar-src")
    assertNotContains(signed_in(deputy).get(f"/proposals/{corpus.bus.pk}/"), "data-similar-src")


def test_similar_list_is_only_for_who_may_see_the_proposal(corpus: Corpus, deputy: User) -> None:
    assert signed_in(deputy).get(f"/search/similar/{corpus.parking.pk}/").status_code == 404
