"""The JSON API of the proposal cycle at /api/proposals/: shapes, filters, scoping, every action, error mapping.

The rules themselves are tested at the services (tests/proposals/test_*.py); here we check that each endpoint
goes through ``visible_to``, calls its service and maps its errors to HTTP in the one shared shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from consult.models import Bureau, User
from consult.people.roles import Chamber
from proposals import services
from proposals.models import Assignment, Attachment, Proposal, ProposalSession, Reply, Status
from tests.factories import DeputyProfileFactory
from tests.proposals.conftest import co_of, content, lead_of

ClientFor = Callable[[User], Client]
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
LIST_KEYS = {
    "id",
    "code",
    "kind",
    "title",
    "category",
    "category_label",
    "status",
    "status_label",
    "session",
    "proposer",
    "outcome_class",
    "reply_due",
    "overdue",
    "created_at",
    "updated_at",
}


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def outsider_deputy(db: None) -> User:
    """A deputy of the same chamber who has nothing to do with the proposals below."""
    return DeputyProfileFactory(user__username="other-deputy", user__full_name="钱多多").user


def url(proposal: Proposal | int, action: str = "") -> str:
    pk = proposal if isinstance(proposal, int) else proposal.pk
    return f"/api/proposals/{pk}/" + (f"{action}/" if action else "")


def post(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(path, data=json.dumps(data or {}), content_type="application/json")


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    body: dict[str, Any] = response.json()
    return body


def ids(response: Any) -> set[int]:
    return {item["id"] for item in ok(response)["results"]}


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    body: dict[str, Any] = response.json()
    assert body["message"]
    return body


# --- arranging proposals through the services ---------------------------------------


def accept_both(proposal: Proposal, handler: User, handler_a: User) -> None:
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead_of(proposal).pk)
    services.accept_assignment(actor=handler_a, proposal_id=proposal.pk, assignment_id=co_of(proposal).pk)


def draft_lead_reply(proposal: Proposal, handler: User, outcome_class: str = "A") -> Reply:
    return services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead_of(proposal).pk,
        outcome_class=outcome_class,
        body="区间车已开通，详询13800138001。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )


def submit_lead_reply(proposal: Proposal, handler: User, handler_a: User, outcome_class: str = "A") -> Reply:
    """Accepted by both bureaus, the co-handler's opinion given, the lead's reply awaiting sign-off."""
    accept_both(proposal, handler, handler_a)
    co = co_of(proposal)
    services.submit_opinion(actor=handler_a, proposal_id=proposal.pk, assignment_id=co.pk, body="同意。")
    reply = draft_lead_reply(proposal, handler, outcome_class)
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead_of(proposal).pk)
    return reply


def send_reply(proposal: Proposal, handler: User, handler_a: User, staff: User, outcome_class: str = "A") -> Reply:
    reply = submit_lead_reply(proposal, handler, handler_a, outcome_class)
    services.sign_off_reply(
        actor=handler_a, proposal_id=proposal.pk, reply_id=reply.pk, assignment_id=co_of(proposal).pk
    )
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)
    return Reply.objects.get(pk=reply.pk)


@pytest.fixture
def replied(assigned: Proposal, handler: User, handler_a: User, staff: User) -> Reply:
    """The lead's class-A reply, sent: the proposal waits for the deputy's rating."""
    return send_reply(assigned, handler, handler_a, staff)


def lead_of_any(proposal: Proposal) -> Assignment:
    """The lead assignment whatever its status (``lead_of`` finds open ones only)."""
    return proposal.assignments.get(role="lead")


def _bytes(data: bytes) -> BytesIO:
    return BytesIO(data)


def rate(proposal_id: int, reply_id: int, rater: User, result: str) -> None:
    services.rate_reply(
        actor=rater,
        proposal_id=proposal_id,
        reply_id=reply_id,
        contact="satisfied",
        attitude="satisfied",
        result=result,
        comment="答复未给出时间表" if result == "unsatisfied" else "",
    )


# --- shapes -------------------------------------------------------------------------


def test_list_item_has_the_documented_fields(client_for: ClientFor, deputy: User, registered: Proposal) -> None:
    body = ok(client_for(deputy).get("/api/proposals/"))

    assert body["count"] == 1
    item = body["results"][0]
    assert set(item) == LIST_KEYS
    session = registered.session
    assert item["id"] == registered.pk
    assert item["code"] == "2027-建-0001"
    assert (item["kind"], item["status"], item["category"]) == ("suggestion", "registered", "交通")
    assert item["status_label"] == str(Status.REGISTERED.label)
    assert item["category_label"] == "交通"  # the code's label in the reader's language (Chinese here)
    assert item["session"] == {"id": session.pk, "name": session.name, "year": 2027}
    assert item["proposer"] == {"id": deputy.pk, "name": "王建国"}
    assert (item["outcome_class"], item["reply_due"], item["overdue"]) == ("", None, False)


def test_detail_has_every_part(
    client_for: ClientFor,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    draft: Proposal,
    bureau_a: Bureau,
    bureau_b: Bureau,
    settings: Any,
    tmp_path: Path,
) -> None:
    # given an assigned proposal with a co-signer, an attachment and a communication record
    settings.MEDIA_ROOT = tmp_path
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=draft.pk, sign=True)
    services.attach(actor=deputy, proposal_id=draft.pk, name="调研.txt", size=6, stream=_bytes(b"survey"))
    services.submit(actor=deputy, proposal_id=draft.pk)
    services.register(actor=staff, proposal_id=draft.pk)
    services.assign(actor=staff, proposal_id=draft.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    lead_assignment = lead_of(draft)
    services.accept_assignment(actor=handler, proposal_id=draft.pk, assignment_id=lead_assignment.pk)
    services.record_communication(
        actor=handler,
        proposal_id=draft.pk,
        assignment_id=lead_assignment.pk,
        channel="phone",
        occurred_on=timezone.localdate(),
        summary="电话沟通线路需求。",
    )

    # when the proposer opens it
    item = ok(client_for(deputy).get(url(draft)))

    # then it carries the list fields and every part of the detail
    assert set(item) >= LIST_KEYS
    assert {"body", "publication_consent", "publication_refusal_reason", "wished_lead_bureau"} <= set(item)
    assert (item["body"], item["publication_consent"], item["wished_co_bureaus"]) == (draft.body, True, [])
    assert [(c["name"], c["status"]) for c in item["cosigners"]] == [("张丽", "signed")]
    attachment = Attachment.objects.get(proposal=draft)
    assert item["attachments"] == [
        {
            "id": attachment.pk,
            "name": "调研.txt",
            "size": 6,
            "content_type": "text/plain",
            "url": f"/api/proposals/{draft.pk}/attachments/{attachment.pk}/",
            "uploaded_at": item["attachments"][0]["uploaded_at"],
        }
    ]
    lead = next(a for a in item["assignments"] if a["role"] == "lead")
    assert lead["bureau"] == {"id": bureau_b.pk, "code": "jtw", "name": "市交通委"}
    assert (lead["status"], lead["round"]) == ("accepted", 1)
    assert lead["reply_due"] == lead_assignment.reply_due.isoformat()
    assert {"return_by", "opinion_due", "assigned_at"} <= set(lead)
    assert item["replies"] == []
    assert [(c["channel"], c["summary"]) for c in item["communications"]] == [("phone", "电话沟通线路需求。")]
    actions = [event["action"] for event in item["timeline"]]
    assert actions[:3] == ["create_draft", "invite_cosigner", "cosign"]
    assert "record_communication" in actions
    assert all(event["action_label"] for event in item["timeline"])
    assert item["timeline"][0]["actor"] == {"id": deputy.pk, "name": "王建国"}


def test_list_queries_do_not_grow_with_the_number_of_proposals(
    client_for: ClientFor,
    staff: User,
    deputy: User,
    npc_session: ProposalSession,
    bureau_b: Bureau,
    django_assert_max_num_queries: Any,
) -> None:
    # given a dozen submitted proposals, half of them assigned
    for n in range(12):
        proposal = services.create_draft(actor=deputy, content=content(title=f"建议{n}"))
        services.submit(actor=deputy, proposal_id=proposal.pk)
        if n % 2:
            services.register(actor=staff, proposal_id=proposal.pk)
            services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk)
    client = client_for(staff)

    # then the list costs the same few queries (session, user, count, page) whatever their number
    with django_assert_max_num_queries(5):
        response = client.get("/api/proposals/")
    assert ok(response)["count"] == 12


def test_detail_queries_are_bounded(
    client_for: ClientFor,
    deputy: User,
    replied: Reply,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(deputy)

    with django_assert_max_num_queries(16):
        response = client.get(url(replied.proposal_id))
    assert len(ok(response)["replies"]) == 1


# --- filters --------------------------------------------------------------------------


@pytest.fixture
def catalogue(
    deputy: User,
    cosigner: User,
    member: User,
    staff: User,
    npc_session: ProposalSession,
    cppcc_session: ProposalSession,
    bureau_a: Bureau,
    bureau_b: Bureau,
) -> dict[str, Proposal]:
    """Six proposals that differ in one filterable way each (arranged by services, dates nudged by update).

    The office lists them all but the draft, which stays the proposer's own.
    """
    today = timezone.localdate()
    draft = services.create_draft(actor=deputy, content=content())
    school = services.create_draft(
        actor=deputy, content=content(title="关于学区划分的建议", body="学区划分应公开透明。", category="教育")
    )
    services.submit(actor=deputy, proposal_id=school.pk)
    late, soon = (services.create_draft(actor=deputy, content=content(title=t)) for t in ("迟到的", "快到期的"))
    for proposal, bureau in ((late, bureau_b), (soon, bureau_a)):
        services.submit(actor=deputy, proposal_id=proposal.pk)
        services.register(actor=staff, proposal_id=proposal.pk)
        services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau.pk)
    Proposal.objects.filter(pk=late.pk).update(reply_due=today - timedelta(days=3), outcome_class="B")
    Proposal.objects.filter(pk=soon.pk).update(reply_due=today + timedelta(days=5))
    cppcc = services.create_draft(actor=member, content=content(title="关于社区医疗的提案", category="医疗卫生"))
    services.submit(actor=member, proposal_id=cppcc.pk)
    old_session = ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2026, name="第二次会议", number_prefix="建", is_open=False
    )
    old = services.create_draft(actor=cosigner, content=content(title="去年的建议"))
    services.submit(actor=cosigner, proposal_id=old.pk)
    Proposal.objects.filter(pk=old.pk).update(session=old_session)
    return {"draft": draft, "school": school, "late": late, "soon": soon, "cppcc": cppcc, "old": old}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "draft"}, set()),
        ({"status": "submitted"}, {"school", "cppcc", "old"}),
        ({"status": ["submitted", "assigned"]}, {"school", "cppcc", "late", "soon", "old"}),
        ({"kind": "proposal"}, {"cppcc"}),
        ({"kind": "suggestion"}, {"school", "late", "soon", "old"}),
        ({"year": "2026"}, {"old"}),
        ({"year": "2027"}, {"school", "late", "soon", "cppcc"}),
        ({"bureau": "bureau_a"}, {"soon"}),
        ({"bureau": "bureau_b"}, {"late"}),
        ({"outcome_class": "B"}, {"late"}),
        ({"overdue": "true"}, {"late"}),
        ({"overdue": "false"}, {"school", "soon", "cppcc", "old"}),
        ({"due_within": "7"}, {"soon"}),
        ({"due_within": "1"}, set()),
        ({"proposer": "cosigner"}, {"old"}),
        ({"proposer": "member"}, {"cppcc"}),
        ({"category": "教育"}, {"school"}),
        ({"number": "2027-建-0001"}, {"late"}),
        ({"number": "2027-建-0002"}, {"soon"}),
        ({"number": "2"}, {"soon"}),
        ({"number": "2027-提-0001"}, set()),
    ],
)
def test_list_filters(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    staff: User,
    catalogue: dict[str, Proposal],
    query: dict[str, Any],
    expected: set[str],
) -> None:
    params = dict(query)
    for key in ("bureau", "proposer"):
        if key in params:
            params[key] = request.getfixturevalue(params[key]).pk

    response = client_for(staff).get("/api/proposals/", params)

    assert ids(response) == {catalogue[name].pk for name in expected}


@pytest.fixture
def indexed_catalogue(catalogue: dict[str, Proposal], settings: Any, tmp_path: Any) -> Iterator[dict[str, Proposal]]:
    """The catalogue in a fresh embedded search index (the list's q= asks the engine)."""
    from proposals.search import documents
    from search.backends import get_backend, reset_backend

    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    settings.ELASTICSEARCH_URL = ""
    reset_backend()
    get_backend().index("proposal", documents([proposal.pk for proposal in catalogue.values()]))
    yield catalogue
    reset_backend()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "学区"}, {"school"}),
        ({"q": "社区医疗"}, {"cppcc"}),
        ({"q": "社区医疗", "year": "2026"}, set()),  # the list's filters hold too
    ],
)
def test_list_text_search_goes_through_the_engine(
    client_for: ClientFor,
    staff: User,
    indexed_catalogue: dict[str, Proposal],
    query: dict[str, Any],
    expected: set[str],
) -> None:
    response = client_for(staff).get("/api/proposals/", query)

    assert ids(response) == {indexed_catalogue[name].pk for name in expected}


def test_list_text_search_answers_from_the_database_when_the_engine_is_down(
    client_for: ClientFor, staff: User, indexed_catalogue: dict[str, Proposal], monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.documents import SearchUnavailable
    from search.engines.tantivy_engine import TantivyBackend

    def down(self: TantivyBackend, query: object) -> None:
        raise SearchUnavailable("stopped for the test")

    monkeypatch.setattr(TantivyBackend, "search", down)
    response = client_for(staff).get("/api/proposals/", {"q": "学区"})

    assert ids(response) == {indexed_catalogue["school"].pk}


def test_list_filter_by_session(
    client_for: ClientFor, staff: User, catalogue: dict[str, Proposal], cppcc_session: ProposalSession
) -> None:
    assert ids(client_for(staff).get("/api/proposals/", {"session": cppcc_session.pk})) == {catalogue["cppcc"].pk}


def test_list_orders_by_number(client_for: ClientFor, staff: User, catalogue: dict[str, Proposal]) -> None:
    body = ok(client_for(staff).get("/api/proposals/", {"status": "assigned", "ordering": "-number"}))

    assert [item["code"] for item in body["results"]] == ["2027-建-0002", "2027-建-0001"]


def test_the_proposer_filters_their_own_drafts(
    client_for: ClientFor, deputy: User, catalogue: dict[str, Proposal]
) -> None:
    assert ids(client_for(deputy).get("/api/proposals/", {"status": "draft"})) == {catalogue["draft"].pk}


def test_filters_narrow_the_scope_never_widen_it(
    client_for: ClientFor, member: User, catalogue: dict[str, Proposal]
) -> None:
    assert ids(client_for(member).get("/api/proposals/", {"kind": "suggestion"})) == set()


@pytest.mark.parametrize(("name", "value"), [("status", "lost"), ("year", "soon"), ("due_within", "-1")])
def test_a_bad_filter_value_gives_400_naming_it(
    client_for: ClientFor, staff: User, npc_session: ProposalSession, name: str, value: str
) -> None:
    body = error(client_for(staff).get("/api/proposals/", {name: value}), 400)

    assert body["code"] == "invalid_input"
    assert name in body["fields"]


# --- scoping per persona ----------------------------------------------------------------


@pytest.fixture
def scoped(deputy: User, assigned: Proposal) -> dict[str, Proposal]:
    """The deputy's assigned proposal (lead: bureau B, co: bureau A) and a draft of theirs."""
    return {"assigned": assigned, "draft": services.create_draft(actor=deputy, content=content(title="草稿"))}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("deputy", {"assigned", "draft"}),
        ("outsider_deputy", set()),
        ("handler", {"assigned"}),  # lead bureau B
        ("expert", {"assigned"}),  # bureau A, co-handler
        ("handler_c", set()),  # a bureau with no assignment
        ("staff", {"assigned"}),  # drafts stay the proposer's own
        ("outsider", set()),
    ],
)
def test_each_persona_lists_and_opens_only_what_it_may_see(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    scoped: dict[str, Proposal],
    persona: str,
    expected: set[str],
) -> None:
    client = client_for(request.getfixturevalue(persona))

    assert ids(client.get("/api/proposals/")) == {scoped[name].pk for name in expected}
    for name, proposal in scoped.items():
        response = client.get(url(proposal))
        if name in expected:
            assert ok(response)["id"] == proposal.pk
        else:
            assert error(response, 404)["code"] == "not_found"
            assert proposal.title not in response.content.decode()


def test_office_does_not_see_a_deputys_draft(client_for: ClientFor, staff: User, draft: Proposal) -> None:
    assert error(client_for(staff).get(url(draft)), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/proposals/"), ("get", "/api/proposals/{id}/"), ("post", "/api/proposals/{id}/submit/")],
)
def test_anonymous_visitor_is_refused(client: Client, draft: Proposal, method: str, path: str) -> None:
    response = getattr(client, method)(path.format(id=draft.pk))

    assert error(response, 401)["code"] == "not_authenticated"
    assert Proposal.objects.get(pk=draft.pk).status == Status.DRAFT


@pytest.mark.parametrize(
    ("persona", "action", "data"),
    [
        ("handler_c", "accept-assignment", {"assignment_id": 0}),
        ("outsider_deputy", "rate-reply", {"reply_id": 0}),
        ("outsider_deputy", "cosign", {"sign": True}),
        ("handler", "submit", {}),
    ],
)
def test_actions_on_a_proposal_out_of_scope_give_404(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    scoped: dict[str, Proposal],
    persona: str,
    action: str,
    data: dict[str, Any],
) -> None:
    target = scoped["draft"] if persona == "handler" else scoped["assigned"]
    before = Proposal.objects.get(pk=target.pk).status

    response = post(client_for(request.getfixturevalue(persona)), url(target, action), data)

    assert error(response, 404)["code"] == "not_found"
    assert Proposal.objects.get(pk=target.pk).status == before


def test_a_missing_proposal_gives_404(client_for: ClientFor, staff: User) -> None:
    assert error(post(client_for(staff), url(999999, "register")), 404)["code"] == "not_found"


# --- what each viewer sees of one proposal ------------------------------------------


def test_everyone_who_sees_the_proposal_sees_who_handles_it(
    client_for: ClientFor,
    registered: Proposal,
    staff: User,
    deputy: User,
    handler: User,
    handler_a: User,
    handler_c: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    # given lead B, co-handlers A and C
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk, co=[bureau_a.pk, bureau_c.pk])

    def bureaus_seen_by(user: User) -> set[int]:
        return {a["bureau"]["id"] for a in ok(client_for(user).get(url(registered)))["assignments"]}

    everyone = {bureau_a.pk, bureau_b.pk, bureau_c.pk}
    assert bureaus_seen_by(staff) == everyone
    assert bureaus_seen_by(deputy) == everyone
    # the lead sees its co-handlers and they see each other (proposals.access: active assignments are no secret;
    # returned and withdrawn ones are the office's and that bureau's business, see tests/access)
    assert bureaus_seen_by(handler) == everyone
    assert bureaus_seen_by(handler_a) == everyone
    assert bureaus_seen_by(handler_c) == everyone


def test_office_adds_a_co_handler_to_an_assigned_proposal(
    client_for: ClientFor, staff: User, assigned: Proposal, bureau_c: Bureau
) -> None:
    item = ok(post(client_for(staff), url(assigned, "assign"), {"co": [bureau_c.pk]}))

    assert bureau_c.pk in {a["bureau"]["id"] for a in item["assignments"]}


def test_replies_in_the_making_are_seen_by_the_replying_bureau_and_the_office_only(
    client_for: ClientFor,
    assigned: Proposal,
    deputy: User,
    staff: User,
    handler: User,
    handler_a: User,
) -> None:
    # given the lead bureau's draft reply
    accept_both(assigned, handler, handler_a)
    reply = draft_lead_reply(assigned, handler)

    def replies_seen_by(user: User) -> list[int]:
        return [r["id"] for r in ok(client_for(user).get(url(assigned)))["replies"]]

    # then the draft is the lead's and the office's business
    assert replies_seen_by(handler) == [reply.pk]
    assert replies_seen_by(staff) == [reply.pk]
    assert replies_seen_by(handler_a) == []
    assert replies_seen_by(deputy) == []

    # when it is submitted, the co-handler sees it to sign it off, the deputy still does not
    services.submit_opinion(actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk, body="同意")
    services.submit_reply(actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk)
    assert replies_seen_by(handler_a) == [reply.pk]
    assert replies_seen_by(deputy) == []


def test_the_proposer_sees_the_sent_reply_in_full_but_no_bureau_internals(
    client_for: ClientFor, deputy: User, replied: Reply
) -> None:
    item = ok(client_for(deputy).get(url(replied.proposal_id)))

    (reply,) = item["replies"]
    assert (reply["status"], reply["outcome_class"]) == ("sent", "A")
    assert reply["body"] == "区间车已开通，详询13800138001。"
    assert (reply["contact_person"], reply["contact_phone"]) == ("刘芳", "13800138001")
    assert item["opinions"] == []  # the co-handler's opinion goes to the lead bureau, not to the deputy
    assert all(a["extension_requests"] == [] for a in item["assignments"])


@pytest.mark.parametrize(
    ("persona", "sees"), [("handler", True), ("handler_a", True), ("staff", True), ("deputy", False)]
)
def test_the_co_handlers_opinion_goes_to_the_lead_bureau_and_the_office(
    request: pytest.FixtureRequest, client_for: ClientFor, replied: Reply, bureau_a: Bureau, persona: str, sees: bool
) -> None:
    item = ok(client_for(request.getfixturevalue(persona)).get(url(replied.proposal_id)))

    expected = [("同意。", bureau_a.pk)] if sees else []
    assert [(o["body"], o["bureau"]["id"]) for o in item["opinions"]] == expected


def test_a_deputy_who_sees_it_only_because_it_is_published_gets_the_published_text(
    client_for: ClientFor, outsider_deputy: User, staff: User, replied: Reply
) -> None:
    # given a published reply
    services.publish(actor=staff, proposal_id=replied.proposal_id, reply_id=replied.pk)

    # when another deputy opens the proposal
    item = ok(client_for(outsider_deputy).get(url(replied.proposal_id)))

    # then the reply carries the published text, without contact details
    (reply,) = item["replies"]
    assert reply["body"] == "区间车已开通，详询【已隐去】。"
    assert (reply["contact_person"], reply["contact_phone"]) == ("", "")
    assert "13800138001" not in json.dumps(item, ensure_ascii=False)
    assert {a["role"] for a in item["assignments"]} == {"lead", "co"}  # published: who handled it is public
    assert all(a["return_reason"] == "" and a["extension_requests"] == [] for a in item["assignments"])


# --- every action: the happy paths --------------------------------------------------------


def test_the_whole_cycle_over_http(
    client_for: ClientFor,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    handler_a: User,
    npc_session: ProposalSession,
    bureau_a: Bureau,
    bureau_b: Bureau,
) -> None:
    me, co_signer, office = client_for(deputy), client_for(cosigner), client_for(staff)
    lead_handler, co_handler = client_for(handler), client_for(handler_a)
    # 提出: draft, edit, invite, co-sign, submit
    draft = {"title": "关于优化公交线路的建议", "body": "建议增开区间车。", "category": "交通"}
    created = ok(post(me, "/api/proposals/", draft), 201)
    pk = created["id"]
    assert (created["status"], created["proposer"]["id"]) == ("draft", deputy.pk)
    patched = me.patch(
        url(pk), data=json.dumps({"title": "关于优化早晚高峰公交线路的建议"}), content_type="application/json"
    )
    assert ok(patched)["title"] == "关于优化早晚高峰公交线路的建议"
    assert ok(patched)["body"] == "建议增开区间车。"
    invited = ok(post(me, url(pk, "invite-cosigner"), {"deputy_id": cosigner.pk}))
    assert [(c["name"], c["status"]) for c in invited["cosigners"]] == [("张丽", "invited")]
    assert ok(post(co_signer, url(pk, "cosign"), {"sign": True}))["cosigners"][0]["status"] == "signed"
    assert ok(post(me, url(pk, "submit")))["status"] == "submitted"
    # 立案, 交办
    assert ok(post(office, url(pk, "register")))["code"] == "2027-建-0001"
    assigned = ok(post(office, url(pk, "assign"), {"lead": bureau_b.pk, "co": [bureau_a.pk]}))
    assert assigned["status"] == "assigned"
    lead = next(a["id"] for a in assigned["assignments"] if a["role"] == "lead")
    co = next(a["id"] for a in assigned["assignments"] if a["role"] == "co")
    # 办理: accept, communicate, opinion, extension
    assert ok(post(lead_handler, url(pk, "accept-assignment"), {"assignment_id": lead}))["status"] == "handling"
    ok(post(co_handler, url(pk, "accept-assignment"), {"assignment_id": co}))
    today = timezone.localdate().isoformat()
    talk = {"assignment_id": lead, "channel": "phone", "occurred_on": today, "summary": "电话沟通。"}
    communication = ok(post(lead_handler, url(pk, "record-communication"), talk), 201)
    assert (communication["channel"], communication["bureau"]["id"]) == ("phone", bureau_b.pk)
    opinion = ok(post(co_handler, url(pk, "submit-opinion"), {"assignment_id": co, "body": "同意增开。"}), 201)
    assert opinion["assignment"] == co
    later = (Assignment.objects.get(pk=lead).reply_due + timedelta(days=14)).isoformat()
    asked = {"assignment_id": lead, "requested_due": later, "reason": "需要协调公交公司"}
    extension = ok(post(lead_handler, url(pk, "request-extension"), asked), 201)
    assert extension["status"] == "pending"
    decided = ok(post(office, url(pk, "decide-extension"), {"request_id": extension["id"], "approve": True}))
    assert decided["reply_due"] == later
    # 答复: draft, submit, sign off, review
    answer = {
        "assignment_id": lead,
        "outcome_class": "B",
        "body": "已列入计划。",
        "contact_person": "刘芳",
        "contact_phone": "13800138001",
    }
    reply = ok(post(lead_handler, url(pk, "draft-reply"), answer))
    assert (reply["status"], reply["outcome_class"]) == ("draft", "B")
    assert ok(post(lead_handler, url(pk, "submit-reply"), {"assignment_id": lead}))["status"] == "reply_review"
    signoff = {"reply_id": reply["id"], "assignment_id": co}
    assert ok(post(co_handler, url(pk, "sign-off-reply"), signoff))["replies"] == []  # now the office's to review
    assert Reply.objects.get(pk=reply["id"]).status == "review"
    sent = ok(post(office, url(pk, "review-reply"), {"reply_id": reply["id"], "approve": True}))
    assert (sent["status"], sent["outcome_class"]) == ("replied", "B")
    published = ok(post(office, url(pk, "publish"), {"reply_id": reply["id"]}))
    assert published["published_at"] is not None
    # 反馈: the co-signer is satisfied, the proposer is not; the office confirms → 重新办理
    good = {"reply_id": reply["id"], "contact": "satisfied", "attitude": "satisfied", "result": "satisfied"}
    ok(post(co_signer, url(pk, "rate-reply"), good))
    bad = {**good, "result": "unsatisfied", "comment": "站点问题未解决"}
    assert ok(post(me, url(pk, "rate-reply"), bad))["dissatisfaction_pending"] is True
    review = {"confirm": True, "reason": "需给出时间表"}
    rehandling = ok(post(office, url(pk, "review-dissatisfaction"), review))
    assert (rehandling["status"], rehandling["rehandling_round"]) == ("rehandling", 2)
    second_lead = next(a["id"] for a in rehandling["assignments"] if a["role"] == "lead" and a["round"] == 2)
    # the second round: reply A, rated satisfied by both → closed
    ok(post(lead_handler, url(pk, "accept-assignment"), {"assignment_id": second_lead}))
    second = ok(
        post(lead_handler, url(pk, "draft-reply"), {**answer, "assignment_id": second_lead, "outcome_class": "A"})
    )
    ok(post(lead_handler, url(pk, "submit-reply"), {"assignment_id": second_lead}))
    ok(post(office, url(pk, "review-reply"), {"reply_id": second["id"], "approve": True}))
    ok(post(co_signer, url(pk, "rate-reply"), {**good, "reply_id": second["id"]}))
    closed = ok(post(me, url(pk, "rate-reply"), {**good, "reply_id": second["id"]}))
    assert (closed["status"], closed["outcome_class"]) == ("closed", "A")
    assert closed["timeline"][-1]["action"] == "close"


def test_proposer_drops_an_invited_cosigner(
    client_for: ClientFor, deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    item = ok(post(client_for(deputy), url(draft, "drop-cosigner"), {"deputy_id": cosigner.pk}))

    assert [c["status"] for c in item["cosigners"]] == ["dropped"]


def test_invited_deputy_declines_to_cosign(
    client_for: ClientFor, deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    item = ok(post(client_for(cosigner), url(draft, "cosign"), {"sign": False}))

    assert [c["status"] for c in item["cosigners"]] == ["declined"]


def test_proposer_uploads_downloads_and_removes_an_attachment(
    client_for: ClientFor, deputy: User, cosigner: User, draft: Proposal, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    client = client_for(deputy)

    # when the proposer uploads a PDF
    upload = SimpleUploadedFile("调研报告.pdf", PDF, content_type="application/pdf")
    created = ok(client.post(url(draft, "attachments"), {"file": upload}), 201)

    # then it is listed, and whoever sees the proposal downloads it through the scoped URL
    assert (created["name"], created["size"], created["content_type"]) == ("调研报告.pdf", len(PDF), "application/pdf")
    assert [a["id"] for a in ok(client.get(url(draft)))["attachments"]] == [created["id"]]
    download = client_for(cosigner).get(created["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")

    # when the proposer removes it, it is gone
    assert client.delete(created["url"]).status_code == 204
    assert ok(client.get(url(draft)))["attachments"] == []
    assert error(client.get(created["url"]), 404)["code"] == "not_found"


def test_a_stranger_cannot_download_an_attachment(
    client_for: ClientFor, deputy: User, outsider_deputy: User, draft: Proposal, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    attachment = services.attach(actor=deputy, proposal_id=draft.pk, name="a.pdf", size=len(PDF), stream=_bytes(PDF))

    response = client_for(outsider_deputy).get(f"/api/proposals/{draft.pk}/attachments/{attachment.pk}/")

    assert error(response, 404)["code"] == "not_found"


def test_office_declines_registration(client_for: ClientFor, staff: User, submitted: Proposal) -> None:
    item = ok(post(client_for(staff), url(submitted, "decline-registration"), {"reason": "不属于本级职权"}))

    assert item["status"] == "not_registered"
    assert item["timeline"][-1]["reason"] == "不属于本级职权"


def test_office_merges_a_proposal_into_a_registered_one(
    client_for: ClientFor, staff: User, deputy: User, registered: Proposal
) -> None:
    other = services.create_draft(actor=deputy, content=content(title="同类建议"))
    services.submit(actor=deputy, proposal_id=other.pk)

    item = ok(post(client_for(staff), url(other, "merge"), {"into_id": registered.pk}))

    assert item["status"] == "merged"
    assert Proposal.objects.get(pk=other.pk).merged_into_id == registered.pk


def test_the_proposer_of_a_merged_proposal_reads_the_reply_in_full(
    client_for: ClientFor, staff: User, handler: User, handler_a: User, assigned: Proposal, outsider_deputy: User
) -> None:
    # given another deputy's proposal merged into the assigned one, then the reply sent
    other = services.create_draft(actor=outsider_deputy, content=content(title="同类建议"))
    services.submit(actor=outsider_deputy, proposal_id=other.pk)
    services.merge(actor=staff, proposal_id=other.pk, into_id=assigned.pk)
    send_reply(assigned, handler, handler_a, staff)

    # when that deputy opens the proposal theirs was merged into
    item = ok(client_for(outsider_deputy).get(url(assigned)))

    # then the reply is theirs too, in full
    (reply,) = item["replies"]
    assert (reply["body"], reply["contact_phone"]) == ("区间车已开通，详询13800138001。", "13800138001")


def test_office_turns_a_proposal_into_a_letter(client_for: ClientFor, staff: User, submitted: Proposal) -> None:
    assert ok(post(client_for(staff), url(submitted, "convert-to-letter"), {"reason": "属个人诉求"}))["status"] == (
        "letter"
    )


def test_office_assigns_separate_bureaus(
    client_for: ClientFor, staff: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    item = ok(post(client_for(staff), url(registered, "assign"), {"separate": [bureau_a.pk, bureau_b.pk]}))

    assert sorted(a["role"] for a in item["assignments"]) == ["separate", "separate"]


def test_office_withdraws_an_assignment(client_for: ClientFor, staff: User, assigned: Proposal) -> None:
    data = {"assignment_id": co_of(assigned).pk, "reason": "改由他局会办"}

    item = ok(post(client_for(staff), url(assigned, "withdraw-assignment"), data))

    co = next(a for a in item["assignments"] if a["role"] == "co")
    assert co["status"] == "withdrawn"


def test_lead_bureau_returns_an_assignment(client_for: ClientFor, handler: User, assigned: Proposal) -> None:
    data = {"assignment_id": lead_of(assigned).pk, "reason": "不属于本单位职责"}

    item = ok(post(client_for(handler), url(assigned, "return-assignment"), data))

    assert item["status"] == "registered"
    lead = next(a for a in item["assignments"] if a["role"] == "lead")
    assert (lead["status"], lead["return_reason"]) == ("returned", "不属于本单位职责")


def test_office_refuses_an_extension(client_for: ClientFor, staff: User, handler: User, assigned: Proposal) -> None:
    lead = lead_of(assigned)
    request = services.request_extension(
        actor=handler,
        proposal_id=assigned.pk,
        assignment_id=lead.pk,
        requested_due=lead.reply_due + timedelta(days=7),
        reason="需要调研",
    )

    item = ok(post(client_for(staff), url(assigned, "decide-extension"), {"request_id": request.pk, "approve": False}))

    assert item["reply_due"] == lead.reply_due.isoformat()
    extension = next(a for a in item["assignments"] if a["role"] == "lead")["extension_requests"][0]
    assert extension["status"] == "rejected"


def test_office_returns_a_reply_for_revision(
    client_for: ClientFor, staff: User, handler: User, handler_a: User, assigned: Proposal
) -> None:
    reply = submit_lead_reply(assigned, handler, handler_a)
    services.sign_off_reply(
        actor=handler_a, proposal_id=assigned.pk, reply_id=reply.pk, assignment_id=co_of(assigned).pk
    )

    data = {"reply_id": reply.pk, "approve": False, "note": "请补充时间表"}
    item = ok(post(client_for(staff), url(assigned, "review-reply"), data))

    assert item["status"] == "handling"
    assert item["replies"][0]["status"] == "draft"
    assert item["replies"][0]["review_note"] == "请补充时间表"


def test_office_enters_a_paper_rating(client_for: ClientFor, staff: User, deputy: User, replied: Reply) -> None:
    data = {
        "reply_id": replied.pk,
        "rater_id": deputy.pk,
        "contact": "satisfied",
        "attitude": "satisfied",
        "result": "basically",
    }

    item = ok(post(client_for(staff), url(replied.proposal_id, "record-paper-feedback"), data))

    assert item["status"] == "closed"  # the only rater rated; class A closes
    assert item["timeline"][-2]["action"] == "rate_reply"


def test_office_sets_an_unsatisfied_rating_aside(
    client_for: ClientFor, staff: User, deputy: User, replied: Reply
) -> None:
    rate(replied.proposal_id, replied.pk, deputy, "unsatisfied")

    data = {"confirm": False, "reason": "答复已充分"}
    item = ok(post(client_for(staff), url(replied.proposal_id, "review-dissatisfaction"), data))

    assert (item["status"], item["dissatisfaction_pending"]) == ("closed", False)


def test_lead_bureau_sends_the_follow_up_reply(
    client_for: ClientFor, deputy: User, staff: User, handler: User, handler_a: User, assigned: Proposal
) -> None:
    # given a class-B reply the deputy is satisfied with: follow-up (跟踪办理)
    reply = send_reply(assigned, handler, handler_a, staff, outcome_class="B")
    rate(assigned.pk, reply.pk, deputy, "satisfied")
    assert Proposal.objects.get(pk=assigned.pk).status == Status.FOLLOW_UP

    data = {"assignment_id": lead_of_any(assigned).pk, "body": "区间车已于本月开通。"}
    item = ok(post(client_for(handler), url(assigned, "send-follow-up-reply"), data))

    assert (item["status"], item["outcome_class"]) == ("closed", "A")
    assert [r["kind"] for r in item["replies"]] == ["answer", "follow_up"]


def test_office_closes_a_replied_proposal(client_for: ClientFor, staff: User, replied: Reply) -> None:
    item = ok(post(client_for(staff), url(replied.proposal_id, "close"), {"reason": "反馈期满"}))

    assert item["status"] == "closed"


# --- error mapping ------------------------------------------------------------------------


def _assigned_lead(p: Proposal) -> dict[str, Any]:
    return {"assignment_id": lead_of(p).pk}


def _assigned_co_reply(p: Proposal) -> dict[str, Any]:
    return {
        "assignment_id": co_of(p).pk,
        "outcome_class": "A",
        "body": "答复",
        "contact_person": "孙悦",
        "contact_phone": "13800000000",
    }


@pytest.mark.parametrize(
    ("persona", "stage", "action", "data"),
    [
        ("deputy", "submitted", "register", {}),
        ("handler", "assigned", "close", {"reason": "x"}),
        ("handler", "assigned", "withdraw-assignment", lambda p: {**_assigned_lead(p), "reason": "x"}),
        ("deputy", "assigned", "accept-assignment", _assigned_lead),
        ("handler_a", "handling", "draft-reply", _assigned_co_reply),
        ("cosigner", "invited", "submit", {}),
        ("cosigner", "invited", "invite-cosigner", lambda p: {"deputy_id": p.proposer_id}),
    ],
)
def test_the_wrong_role_gets_403_not_allowed(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    persona: str,
    stage: str,
    action: str,
    data: dict[str, Any] | Callable[[Proposal], dict[str, Any]],
) -> None:
    proposal = _at_stage(request, stage)
    payload = data(proposal) if callable(data) else data
    before = Proposal.objects.get(pk=proposal.pk).status

    response = post(client_for(request.getfixturevalue(persona)), url(proposal, action), payload)

    assert error(response, 403)["code"] == "not_allowed"
    assert Proposal.objects.get(pk=proposal.pk).status == before


def _at_stage(request: pytest.FixtureRequest, stage: str) -> Proposal:
    if stage == "handling":
        assigned: Proposal = request.getfixturevalue("assigned")
        accept_both(assigned, request.getfixturevalue("handler"), request.getfixturevalue("handler_a"))
        return assigned
    if stage == "invited":
        draft: Proposal = request.getfixturevalue("draft")
        deputy, cosigner = request.getfixturevalue("deputy"), request.getfixturevalue("cosigner")
        services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
        return draft
    proposal: Proposal = request.getfixturevalue(stage)
    return proposal


def test_bureaus_never_rate_for_the_deputy(client_for: ClientFor, handler: User, replied: Reply) -> None:
    data = {"reply_id": replied.pk, "contact": "satisfied", "attitude": "satisfied", "result": "satisfied"}

    response = post(client_for(handler), url(replied.proposal_id, "rate-reply"), data)

    assert error(response, 403)["code"] == "not_allowed"


def test_only_deputies_create_proposals(client_for: ClientFor, staff: User, npc_session: ProposalSession) -> None:
    data = {"title": "标题", "body": "正文", "category": "交通"}

    assert error(post(client_for(staff), "/api/proposals/", data), 403)["code"] == "not_allowed"
    assert not Proposal.objects.exists()


def test_only_the_proposer_edits_the_draft(
    client_for: ClientFor, deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    response = client_for(cosigner).patch(url(draft), data=json.dumps({"title": "改"}), content_type="application/json")

    assert error(response, 403)["code"] == "not_allowed"
    assert Proposal.objects.get(pk=draft.pk).title == draft.title


@pytest.mark.parametrize(
    ("persona", "stage", "action", "data", "code"),
    [
        ("staff", "registered", "register", {}, "invalid_transition:register"),
        ("deputy", "submitted", "submit", {}, "invalid_transition:submit"),
        ("deputy", "submitted", "invite-cosigner", {"deputy_id": 1}, "invalid_transition:invite_cosigner"),
        ("staff", "submitted", "assign", {"lead": 1}, "invalid_transition:assign"),
        ("staff", "assigned", "close", {"reason": "x"}, "invalid_transition:close"),
        ("staff", "assigned", "review-reply", {"reply_id": 1, "approve": True}, "invalid_transition:review_reply"),
        ("staff", "registered", "decline-registration", {"reason": "x"}, "invalid_transition:decline_registration"),
    ],
)
def test_an_action_in_the_wrong_state_gives_409(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    persona: str,
    stage: str,
    action: str,
    data: dict[str, Any],
    code: str,
) -> None:
    proposal = _at_stage(request, stage)

    body = error(post(client_for(request.getfixturevalue(persona)), url(proposal, action), data), 409)

    assert body["code"] == code


def test_editing_a_submitted_proposal_gives_409(client_for: ClientFor, deputy: User, submitted: Proposal) -> None:
    response = client_for(deputy).patch(
        url(submitted), data=json.dumps({"title": "改"}), content_type="application/json"
    )

    assert error(response, 409)["code"] == "invalid_transition:update_draft"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "正文", "category": "交通"}, "title"),
        ({"title": "  ", "body": "正文", "category": "交通"}, "title"),
        ({"title": "标题", "category": "交通"}, "body"),
        ({"title": "标题", "body": "正文", "category": "天文"}, "category"),
        (
            {"title": "标题", "body": "正文", "category": "交通", "wished_co_bureau_ids": [999999]},
            "wished_co_bureau_ids",
        ),
        (
            {"title": "标题", "body": "正文", "category": "交通", "publication_consent": False},
            "publication_refusal_reason",
        ),
    ],
)
def test_creating_with_bad_input_gives_400_naming_the_field(
    client_for: ClientFor, deputy: User, npc_session: ProposalSession, data: dict[str, Any], field: str
) -> None:
    body = error(post(client_for(deputy), "/api/proposals/", data), 400)

    assert body["code"] == "invalid_input"
    assert field in body["fields"]
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("persona", "stage", "action", "data", "field"),
    [
        ("cosigner", "invited", "cosign", {}, "sign"),
        ("deputy", "draft", "invite-cosigner", {"deputy_id": "abc"}, "deputy_id"),
        ("deputy", "draft", "invite-cosigner", lambda p: {"deputy_id": p.proposer_id}, "deputy_id"),
        ("staff", "submitted", "decline-registration", {"reason": "   "}, "reason"),
        ("staff", "submitted", "merge", lambda p: {"into_id": p.pk}, "into_id"),
        ("staff", "registered", "assign", {}, "lead"),
        ("staff", "registered", "assign", {"lead": "abc"}, "lead"),
        ("staff", "registered", "assign", {"separate": [999999]}, "separate"),
        ("handler", "assigned", "return-assignment", lambda p: {"assignment_id": lead_of(p).pk}, "reason"),
        ("handler", "assigned", "record-communication", lambda p: _talk(p, channel="fax"), "channel"),
        ("handler", "assigned", "record-communication", lambda p: _talk(p, days=1), "occurred_on"),
        ("handler", "assigned", "request-extension", lambda p: _extension(p, days=-1), "requested_due"),
        ("handler", "assigned", "draft-reply", lambda p: {**_assigned_lead(p), "outcome_class": "E"}, "outcome_class"),
    ],
)
def test_an_action_with_bad_input_gives_400_naming_the_field(
    request: pytest.FixtureRequest,
    client_for: ClientFor,
    persona: str,
    stage: str,
    action: str,
    data: dict[str, Any] | Callable[[Proposal], dict[str, Any]],
    field: str,
) -> None:
    proposal = _at_stage(request, stage)
    payload = data(proposal) if callable(data) else data

    body = error(post(client_for(request.getfixturevalue(persona)), url(proposal, action), payload), 400)

    assert body["code"] == "invalid_input"
    assert field in body["fields"]


def _talk(proposal: Proposal, *, channel: str = "phone", days: int = 0) -> dict[str, Any]:
    day = timezone.localdate() + timedelta(days=days)
    return {"assignment_id": lead_of(proposal).pk, "channel": channel, "occurred_on": day.isoformat(), "summary": "谈"}


def _extension(proposal: Proposal, *, days: int) -> dict[str, Any]:
    lead = lead_of(proposal)
    due = lead.reply_due + timedelta(days=days)
    return {"assignment_id": lead.pk, "requested_due": due.isoformat(), "reason": "需要时间"}


def test_rating_with_an_unknown_word_gives_400_naming_it(client_for: ClientFor, deputy: User, replied: Reply) -> None:
    data = {"reply_id": replied.pk, "contact": "satisfied", "attitude": "satisfied", "result": "great"}

    body = error(post(client_for(deputy), url(replied.proposal_id, "rate-reply"), data), 400)

    assert set(body["fields"]) == {"result"}


def test_submitting_before_every_cosigner_answered_gives_400_cosignature_missing(
    client_for: ClientFor, deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    body = error(post(client_for(deputy), url(draft, "submit")), 400)

    assert body["code"] == "cosignature_missing"
    assert "cosigners" in body["fields"]
    assert "张丽" in body["message"]
    assert Proposal.objects.get(pk=draft.pk).status == Status.DRAFT


def test_submitting_the_reply_before_the_co_handlers_opinion_gives_400_opinions_missing(
    client_for: ClientFor, handler: User, handler_a: User, assigned: Proposal
) -> None:
    accept_both(assigned, handler, handler_a)
    draft_lead_reply(assigned, handler)

    body = error(post(client_for(handler), url(assigned, "submit-reply"), _assigned_lead(assigned)), 400)

    assert body["code"] == "opinions_missing"


def test_an_oversize_upload_gives_400_naming_file(
    client_for: ClientFor, deputy: User, draft: Proposal, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.PROPOSAL_RULES = {"attachment_max_bytes": 100}
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 200, content_type="application/pdf")

    body = error(client_for(deputy).post(url(draft, "attachments"), {"file": upload}), 400)

    assert body["code"] == "invalid_input"
    assert set(body["fields"]) == {"file"}
    assert not Attachment.objects.exists()
    assert list(tmp_path.rglob("*.pdf")) == []


@pytest.mark.parametrize(
    "upload",
    [
        None,
        SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
        SimpleUploadedFile("fake.pdf", b"not a pdf at all", content_type="application/pdf"),
    ],
    ids=["missing", "type", "content"],
)
def test_a_bad_upload_gives_400_naming_file(
    client_for: ClientFor,
    deputy: User,
    draft: Proposal,
    settings: Any,
    tmp_path: Path,
    upload: SimpleUploadedFile | None,
) -> None:
    settings.MEDIA_ROOT = tmp_path

    response = client_for(deputy).post(url(draft, "attachments"), {"file": upload} if upload else {})

    assert set(error(response, 400)["fields"]) == {"file"}


def test_only_the_proposer_removes_an_attachment(
    client_for: ClientFor, deputy: User, cosigner: User, draft: Proposal, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    attachment = services.attach(actor=deputy, proposal_id=draft.pk, name="a.pdf", size=len(PDF), stream=_bytes(PDF))

    response = client_for(cosigner).delete(f"/api/proposals/{draft.pk}/attachments/{attachment.pk}/")

    assert error(response, 403)["code"] == "not_allowed"
    assert Attachment.objects.filter(pk=attachment.pk).exists()


# --- metrics ---------------------------------------------------------------------------------


def test_office_reads_the_metrics_overall_and_per_bureau(
    client_for: ClientFor, staff: User, deputy: User, replied: Reply, bureau_b: Bureau
) -> None:
    rate(replied.proposal_id, replied.pk, deputy, "satisfied")

    body = ok(client_for(staff).get("/api/proposals/metrics/", {"year": 2027}))

    overall = body["overall"]
    assert (overall["assigned"], overall["replied"], overall["on_time"]) == (1, 1, 1)
    assert (overall["reply_rate"], overall["satisfaction_rate"], overall["communication_rate"]) == (1.0, 1.0, 0.0)
    assert overall["classes"] == {"A": 1, "B": 0, "C": 0, "D": 0}
    (row,) = body["per_bureau"]
    assert (row["bureau_id"], row["bureau_name"]) == (bureau_b.pk, "市交通委")
    assert row["figures"]["replied"] == 1


def test_metrics_of_another_year_or_session_are_empty(
    client_for: ClientFor, staff: User, replied: Reply, npc_session: ProposalSession
) -> None:
    client = client_for(staff)

    assert ok(client.get("/api/proposals/metrics/", {"year": 2026}))["overall"]["assigned"] == 0
    assert ok(client.get("/api/proposals/metrics/", {"session": npc_session.pk}))["overall"]["assigned"] == 1
    assert ok(client.get("/api/proposals/metrics/", {"session": npc_session.pk + 1}))["per_bureau"] == []


@pytest.mark.parametrize("persona", ["deputy", "handler", "expert", "outsider"])
def test_metrics_are_for_the_office_only(
    request: pytest.FixtureRequest, client_for: ClientFor, persona: str, replied: Reply
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/proposals/metrics/")

    assert error(response, 403)["code"] == "not_allowed"


def test_metrics_refuse_an_anonymous_visitor(client: Client, db: None) -> None:
    assert error(client.get("/api/proposals/metrics/"), 401)["code"] == "not_authenticated"


def test_metrics_with_a_bad_year_give_400_naming_year(client_for: ClientFor, staff: User) -> None:
    assert "year" in error(client_for(staff).get("/api/proposals/metrics/", {"year": "next"}), 400)["fields"]


# --- schema ------------------------------------------------------------------------------------


def test_schema_stays_valid_and_documents_the_proposal_api(client_for: ClientFor, staff: User) -> None:
    schema = json.loads(client_for(staff).get("/api/schema/", {"format": "json"}).content)

    validate(schema)
    paths = schema["paths"]
    actions = [
        "submit",
        "invite-cosigner",
        "cosign",
        "drop-cosigner",
        "attachments",
        "register",
        "decline-registration",
        "merge",
        "convert-to-letter",
        "assign",
        "withdraw-assignment",
        "accept-assignment",
        "return-assignment",
        "record-communication",
        "submit-opinion",
        "request-extension",
        "decide-extension",
        "draft-reply",
        "submit-reply",
        "sign-off-reply",
        "review-reply",
        "publish",
        "rate-reply",
        "record-paper-feedback",
        "review-dissatisfaction",
        "send-follow-up-reply",
        "close",
    ]
    assert {f"/api/proposals/{{id}}/{name}/" for name in actions} <= set(paths)
    assert {"get", "patch"} <= set(paths["/api/proposals/{id}/"])
    assert {"get", "delete"} <= set(paths["/api/proposals/{id}/attachments/{attachment_id}/"])
    assert {"get", "post"} <= set(paths["/api/proposals/"])
    assert "/api/proposals/metrics/" in paths
    filters = {p["name"] for p in paths["/api/proposals/"]["get"]["parameters"]}
    assert {"status", "kind", "year", "bureau", "outcome_class", "overdue", "due_within", "number", "q"} <= filters
    upload = paths["/api/proposals/{id}/attachments/"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
