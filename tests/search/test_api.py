"""The search API at /api/search/: shapes, sign-in, scoping per role, filters named in errors, facets, pages,
similar proposals and consultation lines.

The world (``build_corpus``) is made through the services and indexed through the outbox (``drain``), on the
embedded engine in a scratch directory (``search_dir``). What may be found is tested in depth by the
behaviour suite and at ``proposals.searching``; here we check that each endpoint goes through them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from chat import services as chat_services
from consult.models import Bureau, Consultation, User
from consult.people.roles import Chamber
from proposals import services
from proposals.models import Proposal, ProposalSession, Reply
from search import indexing
from tests.chat.conftest import open_consultation
from tests.proposals.conftest import content, lead_of

ClientFor = Callable[[User], Client]
HIT_KEYS = {
    "id",
    "code",
    "title",
    "status",
    "status_display",
    "kind",
    "year",
    "category",
    "outcome_class",
    "submitted_at",
    "url",
    "highlights",
}
SIMILAR_KEYS = {
    "reply",
    "id",
    "code",
    "title",
    "outcome_class",
    "outcome_display",
    "status",
    "status_display",
    "year",
    "lead_bureaus",
    "url",
    "highlights",
}
MESSAGE_KEYS = {"id", "consultation", "topic", "bureau", "sender_name", "created_at", "highlights", "url"}
ELEVATOR_TITLE = "关于推进老旧小区改造加装电梯的建议"
ELEVATOR_BODY = "东湖区老旧小区多为六层住宅，老年居民上下楼困难。建议简化加装电梯审批，加大财政补贴。"
ELEVATOR_REPLY = "已将东湖区老旧小区加装电梯列入今年民生实事，补贴标准提高到每台二十万元。"


@dataclass(frozen=True)
class Corpus:
    """Who wrote what. ``deputy`` and ``cosigner`` are two deputies with nothing in common here."""

    elevator: Proposal  # 2026, the deputy's, assigned to bureau B (市交通委), replied class A
    parking: Proposal  # 2026, the cosigner's, assigned to bureau A (市教委), unpublished
    bus: Proposal  # 2027, the deputy's, submitted only (no number yet)
    cosigner_draft: Proposal  # 2027, the cosigner's draft: the cosigner's own, nobody else's
    deputy_chat: Consultation  # the deputy with the expert of bureau A
    cosigner_chat: Consultation  # the cosigner with the same expert


def replied(proposal: Proposal, staff: User, handler: User, bureau: Bureau, outcome_class: str, body: str) -> None:
    """Registered, assigned to ``bureau`` alone, accepted, answered and the reply sent by the office."""
    services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau.pk)
    assignment = lead_of(proposal)
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=assignment.pk)
    reply = services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=assignment.pk,
        outcome_class=outcome_class,
        body=body,
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=assignment.pk)
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)
    assert Reply.objects.get(pk=reply.pk).status == "sent"


def written(author: User, title: str, body: str, category: str = "城市建设") -> Proposal:
    return services.create_draft(actor=author, content=content(title=title, body=body, category=category))


def build_corpus(
    *, deputy: User, cosigner: User, staff: User, handler: User, expert: User, bureau_a: Bureau, bureau_b: Bureau
) -> Corpus:
    ProposalSession.objects.create(chamber=Chamber.NPC, year=2026, name="第十六届人大第二次会议", number_prefix="建")
    ProposalSession.objects.filter(year=2026).update(is_open=True)
    elevator = written(deputy, ELEVATOR_TITLE, ELEVATOR_BODY)
    services.submit(actor=deputy, proposal_id=elevator.pk)
    replied(elevator, staff, handler, bureau_b, "A", ELEVATOR_REPLY)
    parking = written(cosigner, "关于缓解老旧小区停车难的建议", "老旧小区车位严重不足，建议挖潜增设停车位。", "交通")
    services.submit(actor=cosigner, proposal_id=parking.pk)
    services.register(actor=staff, proposal_id=parking.pk)
    services.assign(actor=staff, proposal_id=parking.pk, lead=bureau_a.pk)
    ProposalSession.objects.filter(year=2026).update(is_open=False)
    ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2027, name="第十六届人大第三次会议", number_prefix="建", is_open=True
    )
    bus = written(deputy, "关于优化东湖区早晚高峰公交线路的建议", "翠湖新村公交满载率过高，建议增开区间车。", "交通")
    services.submit(actor=deputy, proposal_id=bus.pk)
    cosigner_draft = written(cosigner, "老旧小区加装电梯的补充建议（草稿）", "老旧小区加装电梯还需解决低层住户补偿。")
    deputy_chat = open_consultation(deputy, expert, bureau_a)
    chat_services.post_message(
        actor=deputy, consultation_id=deputy_chat.pk, client_id="d1", body="老旧小区加装电梯的补贴怎么申请？"
    )
    chat_services.post_message(
        actor=expert, consultation_id=deputy_chat.pk, client_id="e1", body="可向街道提出申请，区住建委审核。"
    )
    cosigner_chat = open_consultation(cosigner, expert, bureau_a)
    chat_services.post_message(
        actor=cosigner, consultation_id=cosigner_chat.pk, client_id="c1", body="老旧小区停车位能否错时共享？"
    )
    indexing.drain()
    return Corpus(
        Proposal.objects.get(pk=elevator.pk),
        Proposal.objects.get(pk=parking.pk),
        Proposal.objects.get(pk=bus.pk),
        cosigner_draft,
        deputy_chat,
        cosigner_chat,
    )


@pytest.fixture
def corpus(
    search_dir: Path,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    expert: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
) -> Corpus:
    return build_corpus(
        deputy=deputy,
        cosigner=cosigner,
        staff=staff,
        handler=handler,
        expert=expert,
        bureau_a=bureau_a,
        bureau_b=bureau_b,
    )


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    body: dict[str, Any] = response.json()
    return body


def found_ids(body: dict[str, Any]) -> set[int]:
    return {result["id"] for result in body["results"]}


def search(client: Client, **params: Any) -> dict[str, Any]:
    return ok(client.get("/api/search/proposals/", params))


def similar(client: Client, **data: Any) -> dict[str, Any]:
    return ok(client.post("/api/search/proposals/similar/", json.dumps(data), content_type="application/json"))


# --- /api/search/proposals/ -------------------------------------------------------------------------------


def test_search_answers_hits_with_highlights_counts_and_facets(
    corpus: Corpus, client_for: ClientFor, staff: User
) -> None:
    body = search(client_for(staff), q="老旧小区")

    assert set(body) == {"count", "next", "previous", "degraded", "results", "facets"}  # the one page shape
    assert (body["count"], body["next"], body["previous"], body["degraded"]) == (2, None, None, False)
    assert found_ids(body) == {corpus.elevator.pk, corpus.parking.pk}
    hit = next(r for r in body["results"] if r["id"] == corpus.elevator.pk)
    assert set(hit) == HIT_KEYS
    assert hit["code"] == "2026-建-0001"
    assert (hit["status"], hit["status_display"], hit["outcome_class"], hit["year"]) == ("replied", "已答复", "A", 2026)
    assert hit["url"] == f"/proposals/{corpus.elevator.pk}/"
    assert "<mark>老旧小区</mark>" in hit["highlights"]["title"]
    assert set(body["facets"]) >= {"status", "year", "bureau", "outcome_class"}
    assert {(o["value"], o["count"], o["selected"]) for o in body["facets"]["year"]} == {("2026", 2, False)}
    bureaus = {o["label"]: o["count"] for o in body["facets"]["bureau"]}
    assert bureaus == {"市交通委": 1, "市教委": 1}


def test_search_requires_signing_in(corpus: Corpus, client: Client) -> None:
    response = client.get("/api/search/proposals/", {"q": "老旧小区"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_deputy_finds_own_proposals_never_others_unpublished_or_drafts(
    corpus: Corpus, client_for: ClientFor, deputy: User, cosigner: User
) -> None:
    assert found_ids(search(client_for(deputy), q="老旧小区")) == {corpus.elevator.pk}
    # the cosigner's own draft is theirs to find; the deputy's proposal is not published
    assert found_ids(search(client_for(cosigner), q="老旧小区")) == {corpus.parking.pk, corpus.cosigner_draft.pk}


def test_deputy_finds_another_deputys_proposal_once_it_is_published(
    corpus: Corpus, client_for: ClientFor, cosigner: User, staff: User
) -> None:
    reply = Reply.objects.get(proposal=corpus.elevator)
    services.publish(actor=staff, proposal_id=corpus.elevator.pk, reply_id=reply.pk)
    indexing.drain()

    assert corpus.elevator.pk in found_ids(search(client_for(cosigner), q="加装电梯"))
    assert corpus.elevator.pk not in found_ids(search(client_for(cosigner), q="加装电梯", scope="mine"))


def test_a_proposal_indexed_again_is_found_once(corpus: Corpus, client_for: ClientFor, staff: User) -> None:
    reply = Reply.objects.get(proposal=corpus.elevator)
    services.publish(actor=staff, proposal_id=corpus.elevator.pk, reply_id=reply.pk)
    indexing.drain()  # the elevator proposal's document is replaced

    body = search(client_for(staff), q="加装电梯")

    assert [r["id"] for r in body["results"]] == [corpus.elevator.pk]
    assert body["count"] == 1


def test_staff_never_finds_drafts(corpus: Corpus, client_for: ClientFor, staff: User) -> None:
    assert corpus.cosigner_draft.pk not in found_ids(search(client_for(staff), q="加装电梯"))


def test_bureau_finds_only_what_was_assigned_to_it(
    corpus: Corpus, client_for: ClientFor, handler: User, expert: User
) -> None:
    assert found_ids(search(client_for(handler), q="老旧小区")) == {corpus.elevator.pk}  # bureau B
    assert found_ids(search(client_for(expert), q="老旧小区")) == {corpus.parking.pk}  # bureau A


def test_the_reply_text_is_found_and_highlighted(corpus: Corpus, client_for: ClientFor, deputy: User) -> None:
    body = search(client_for(deputy), q="民生实事")

    assert found_ids(body) == {corpus.elevator.pk}
    assert "<mark>民生实事</mark>" in body["results"][0]["highlights"]["replies"]


def test_filters_narrow_and_mark_the_chosen_facet(corpus: Corpus, client_for: ClientFor, staff: User) -> None:
    client = client_for(staff)

    by_status = search(client, status=["replied", "registered"])
    by_year = search(client, year=2027)
    by_class = search(client, q="老旧小区", outcome_class="A")

    assert found_ids(by_status) == {corpus.elevator.pk}
    assert found_ids(by_year) == {corpus.bus.pk}
    assert found_ids(by_class) == {corpus.elevator.pk}
    assert [o["selected"] for o in by_year["facets"]["year"] if o["value"] == "2027"] == [True]


def test_the_number_is_found_exactly(corpus: Corpus, client_for: ClientFor, staff: User) -> None:
    assert found_ids(search(client_for(staff), q="2026-建-0002")) == {corpus.parking.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "二〇二六"}, "year"),
        ({"status": "lost"}, "status"),
        ({"outcome_class": "Z"}, "outcome_class"),
        ({"bureau": "x"}, "bureau"),
        ({"page": "two"}, "page"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(
    corpus: Corpus, client_for: ClientFor, staff: User, params: dict[str, str], field: str
) -> None:
    response = client_for(staff).get("/api/search/proposals/", params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert set(body["fields"]) == {field}


def test_pages_split_the_results_without_repeating_them(corpus: Corpus, client_for: ClientFor, staff: User) -> None:
    client = client_for(staff)

    first = search(client, sort="oldest", page_size=2)
    second = client.get(first["next"]).json()

    assert (first["count"], first["previous"], second["next"]) == (3, None, None)
    assert "page=2" in first["next"]
    assert "page_size=2" in first["next"]
    assert second["previous"] is not None
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert found_ids(first) | found_ids(second) == {corpus.elevator.pk, corpus.parking.pk, corpus.bus.pk}


def test_engine_down_answers_from_the_database_marked_degraded(
    corpus: Corpus, client_for: ClientFor, deputy: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.documents import SearchUnavailable
    from search.engines.tantivy_engine import TantivyBackend

    def down(self: TantivyBackend, query: object) -> None:
        raise SearchUnavailable("stopped for the test")

    monkeypatch.setattr(TantivyBackend, "search", down)
    body = search(client_for(deputy), q="老旧小区")

    assert body["degraded"] is True
    assert found_ids(body) == {corpus.elevator.pk}
    assert body["facets"] == {}


def test_schema_documents_the_search_endpoints(client_for: ClientFor, staff: User) -> None:
    schema = client_for(staff).get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert {"/api/search/proposals/", "/api/search/proposals/similar/", "/api/search/messages/"} <= set(paths)
    assert {"get", "post"} <= set(paths["/api/search/proposals/similar/"])
    names = {p["name"] for p in paths["/api/search/proposals/"]["get"]["parameters"]}
    assert {"q", "sort", "page", "status", "year", "bureau", "outcome_class", "scope"} <= names


# --- /api/search/proposals/similar/ ----------------------------------------------------------------------


def test_similar_lists_earlier_proposals_with_class_and_lead_bureau(
    corpus: Corpus, client_for: ClientFor, deputy: User
) -> None:
    body = similar(client_for(deputy), title="老旧小区加装电梯", body="")

    assert [r["id"] for r in body["results"]] == [corpus.elevator.pk]
    result = body["results"][0]
    assert set(result) == SIMILAR_KEYS
    assert (result["code"], result["outcome_class"], result["lead_bureaus"]) == ("2026-建-0001", "A", ["市交通委"])
    assert result["url"] == f"/proposals/{corpus.elevator.pk}/"
    assert result["reply"] == " ".join(ELEVATOR_REPLY.split())[:140]  # the earlier reply, as the deputy may read it


def test_similar_never_lists_drafts_or_what_the_user_may_not_see(
    corpus: Corpus, client_for: ClientFor, deputy: User, cosigner: User, staff: User
) -> None:
    question = {"title": "老旧小区加装电梯", "body": "老旧小区停车难，加装电梯补贴"}

    assert found_ids(similar(client_for(deputy), **question)) == {corpus.elevator.pk}
    assert found_ids(similar(client_for(cosigner), **question)) == {corpus.parking.pk}  # not its own draft
    assert found_ids(similar(client_for(staff), **question)) == {corpus.elevator.pk, corpus.parking.pk}


def test_similar_excludes_the_proposal_being_written(corpus: Corpus, client_for: ClientFor, staff: User) -> None:
    question = {"title": ELEVATOR_TITLE, "body": ELEVATOR_BODY}

    assert corpus.elevator.pk in found_ids(similar(client_for(staff), **question))
    assert corpus.elevator.pk not in found_ids(similar(client_for(staff), exclude=corpus.elevator.pk, **question))


def test_similar_answers_a_query_string_too(corpus: Corpus, client_for: ClientFor, deputy: User) -> None:
    body = ok(client_for(deputy).get("/api/search/proposals/similar/", {"title": "加装电梯", "exclude": ""}))

    assert found_ids(body) == {corpus.elevator.pk}


def test_similar_needs_two_characters(corpus: Corpus, client_for: ClientFor, deputy: User) -> None:
    assert similar(client_for(deputy), title="梯") == {"results": []}


def test_similar_refuses_a_bad_exclude_naming_it(corpus: Corpus, client_for: ClientFor, deputy: User) -> None:
    response = client_for(deputy).post(
        "/api/search/proposals/similar/", {"title": "加装电梯", "exclude": "this"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"exclude"}


def test_similar_requires_signing_in(client: Client, db: None) -> None:
    assert client.get("/api/search/proposals/similar/", {"title": "加装电梯"}).status_code == 401


# --- /api/search/messages/ ------------------------------------------------------------------------------


def test_deputy_finds_lines_of_own_consultations_only(
    corpus: Corpus, client_for: ClientFor, deputy: User, expert: User
) -> None:
    body = ok(client_for(deputy).get("/api/search/messages/", {"q": "老旧小区"}))

    assert set(body) == {"count", "next", "previous", "degraded", "results"}
    assert [r["consultation"] for r in body["results"]] == [corpus.deputy_chat.pk]
    line = body["results"][0]
    assert set(line) == MESSAGE_KEYS
    assert (line["topic"], line["bureau"], line["sender_name"]) == ("课后服务收费标准", "市教委", "王建国")
    assert line["url"] == f"/desk/consultations/{corpus.deputy_chat.pk}/"
    assert "<mark>老旧小区</mark>" in line["highlights"]["body"]


def test_expert_and_office_find_the_lines_of_every_consultation_they_may_read(
    corpus: Corpus, client_for: ClientFor, expert: User, staff: User, handler: User
) -> None:
    def consultations(user: User) -> set[int]:
        body = ok(client_for(user).get("/api/search/messages/", {"q": "老旧小区"}))
        return {r["consultation"] for r in body["results"]}

    both = {corpus.deputy_chat.pk, corpus.cosigner_chat.pk}
    assert consultations(expert) == both
    assert consultations(staff) == both
    assert consultations(handler) == set()


def test_message_search_filters_by_consultation_and_refuses_a_bad_one(
    corpus: Corpus, client_for: ClientFor, staff: User
) -> None:
    client = client_for(staff)

    body = ok(client.get("/api/search/messages/", {"q": "老旧小区", "consultation": str(corpus.cosigner_chat.pk)}))
    refused = client.get("/api/search/messages/", {"consultation": "first"})

    assert {r["consultation"] for r in body["results"]} == {corpus.cosigner_chat.pk}
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"consultation"}


def test_message_search_requires_signing_in(client: Client, db: None) -> None:
    assert client.get("/api/search/messages/", {"q": "电梯"}).status_code == 401


def test_similar_leaves_out_proposals_sharing_only_generic_words(
    corpus: Corpus, client_for: ClientFor, staff: User
) -> None:
    body = similar(
        client_for(staff), title="关于提高居民公交出行便利的建议", body="建议提高居民出行服务水平，完善公交线路。"
    )

    assert corpus.elevator.pk not in found_ids(body)  # no shared subject: 提高, 居民, 完善 say nothing
