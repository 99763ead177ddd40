"""The consultation desk's JSON API: shapes, scoping per persona, each action's happy path and its errors.

The rules themselves (routing, transitions, who may act) are tested with the services; here we check that
each endpoint goes through the scope (404 outside it), calls its service and maps its errors to HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consult.desk import services as desk
from consult.models import (
    Bureau,
    Consultation,
    ConsultationPeriod,
    ConsultationStatus,
    ExpertPresence,
    Outcome,
    PresenceStatus,
    User,
)
from proposals.models import Proposal, ProposalSession
from tests.factories import BureauFactory, ExpertProfileFactory

ClientFor = Callable[[User], Client]

DETAIL_KEYS = {
    "id",
    "topic",
    "status",
    "status_label",
    "deputy",
    "bureau",
    "expert",
    "requested_expert",
    "proposal",
    "queue_position",
    "created_at",
    "assigned_at",
    "ended_at",
    "outcome",
    "outcome_label",
    "rating",
    "last_seq",
    "outcome_note",
    "rating_comment",
    "ended_by",
    "transfers",
    "can_post",
    "proposal_draft_url",
}


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def online(user: User) -> None:
    ExpertPresence.objects.update_or_create(
        expert=user.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )


def start(deputy: User, bureau: Bureau, topic: str = "东湖区小学学区划分调整") -> Consultation:
    consultation = desk.start_consultation(actor=deputy, bureau_id=bureau.pk, topic=topic)
    desk.route_bureau(bureau_id=bureau.pk)
    consultation.refresh_from_db()
    return consultation


@pytest.fixture
def colleague(bureau_a: Bureau) -> User:
    """A second expert of bureau A (市教委)."""
    return ExpertProfileFactory(user__username="colleague", user__full_name="孙丽", bureau=bureau_a).user


@pytest.fixture
def active(deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    """王建国 consults 市教委; 陈志远 is online and takes it."""
    online(expert)
    consultation = start(deputy, bureau_a)
    assert consultation.status == ConsultationStatus.ACTIVE
    return consultation


@pytest.fixture
def ended(active: Consultation, deputy: User) -> Consultation:
    return desk.end_consultation(actor=deputy, consultation_id=active.pk)


def error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert {"code", "message"} <= set(body)
    if code is not None:
        assert body["code"] == code
    return body


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


# --- anonymous visitors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/desk/bureaus/"),
        ("get", "/api/consultations/"),
        ("post", "/api/consultations/"),
        ("get", "/api/desk/workbench/"),
        ("post", "/api/desk/presence/"),
        ("get", "/api/desk/statistics/"),
    ],
)
def test_anonymous_visitor_is_refused(client: Client, db: None, method: str, url: str) -> None:
    response = getattr(client, method)(url)

    error(response, 401, "not_authenticated")


# --- bureaus and experts -----------------------------------------------------------------------


def test_desk_bureaus_show_experts_online_and_queue_length(
    client_for: ClientFor, deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    online(expert)
    start(deputy, bureau_b, "公交线路加密")  # nobody of bureau B is online: it waits

    response = client_for(deputy).get("/api/desk/bureaus/")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert set(rows[bureau_a.pk]) == {"id", "code", "name", "full_name", "topics", "online_experts", "queue_length"}
    assert (rows[bureau_a.pk]["online_experts"], rows[bureau_a.pk]["queue_length"]) == (1, 0)
    assert (rows[bureau_b.pk]["online_experts"], rows[bureau_b.pk]["queue_length"]) == (0, 1)


def test_inactive_bureaus_are_not_offered_to_deputies(client_for: ClientFor, deputy: User, bureau_a: Bureau) -> None:
    closed = BureauFactory(is_active=False)

    ids = {row["id"] for row in client_for(deputy).get("/api/desk/bureaus/").json()}

    assert bureau_a.pk in ids
    assert closed.pk not in ids
    error(client_for(deputy).get(f"/api/desk/bureaus/{closed.pk}/experts/"), 404, "not_found")


def test_bureau_experts_show_who_is_online_for_naming_one(
    client_for: ClientFor, deputy: User, expert: User, colleague: User, bureau_a: Bureau
) -> None:
    online(expert)

    response = client_for(deputy).get(f"/api/desk/bureaus/{bureau_a.pk}/experts/")

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert set(rows) == {"陈志远", "孙丽"}
    assert rows["陈志远"]["online"] is True
    assert rows["孙丽"]["online"] is False
    assert rows["陈志远"]["id"] == expert.pk  # one id per person in the API: the user id
    assert set(rows["陈志远"]) == {"id", "name", "title", "department", "expertise", "online"}


def test_experts_of_an_unknown_bureau_are_404(client_for: ClientFor, deputy: User) -> None:
    error(client_for(deputy).get("/api/desk/bureaus/999999/experts/"), 404, "not_found")


# --- starting -------------------------------------------------------------------------------------


def test_deputy_starts_a_consultation_and_sees_the_queue_position(
    client_for: ClientFor, deputy: User, cosigner: User, bureau_a: Bureau
) -> None:
    start(cosigner, bureau_a, "课后服务")  # already waiting ahead

    response = post(client_for(deputy), "/api/consultations/", {"bureau_id": bureau_a.pk, "topic": "学区划分"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["status"] == "queued"
    assert body["queue_position"] == 2
    assert body["expert"] is None
    assert body["deputy"] == {"id": deputy.pk, "name": "王建国"}
    assert body["bureau"]["id"] == bureau_a.pk
    assert body["can_post"] is True
    assert body["last_seq"] == 1  # the "started" line


def test_deputy_names_an_expert(client_for: ClientFor, deputy: User, colleague: User, bureau_a: Bureau) -> None:
    response = post(
        client_for(deputy),
        "/api/consultations/",
        {"bureau_id": bureau_a.pk, "topic": "学区划分", "expert_id": colleague.pk},
    )

    assert response.status_code == 201, response.content
    assert response.json()["requested_expert"] == {
        "id": colleague.pk,
        "name": "孙丽",
        "title": "处长",
    }


def test_a_started_consultation_goes_to_an_online_expert(
    client_for: ClientFor,
    deputy: User,
    expert: User,
    bureau_a: Bureau,
    django_capture_on_commit_callbacks: Any,
) -> None:
    online(expert)
    client = client_for(deputy)

    with django_capture_on_commit_callbacks(execute=True):
        created = post(client, "/api/consultations/", {"bureau_id": bureau_a.pk, "topic": "学区划分"}).json()
    detail = client.get(f"/api/consultations/{created['id']}/").json()

    assert detail["status"] == "active"
    assert detail["expert"]["id"] == expert.pk
    assert detail["queue_position"] is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"topic": "学区划分"}, "bureau_id"),
        ({"bureau_id": 999999, "topic": "学区划分"}, "bureau_id"),
        ({"bureau_id": "BUREAU", "topic": ""}, "topic"),
        ({"bureau_id": "BUREAU", "topic": "学区划分", "expert_id": 999999}, "expert_id"),
        ({"bureau_id": "BUREAU", "topic": "学区划分", "proposal_id": 999999}, "proposal_id"),
    ],
)
def test_starting_with_bad_input_gives_400_naming_the_field(
    client_for: ClientFor, deputy: User, bureau_a: Bureau, data: dict[str, Any], field: str
) -> None:
    data = {key: bureau_a.pk if value == "BUREAU" else value for key, value in data.items()}

    body = error(post(client_for(deputy), "/api/consultations/", data), 400, "invalid_input")

    assert field in body["fields"]
    assert not Consultation.objects.exists()


def test_only_deputies_start_consultations(client_for: ClientFor, expert: User, bureau_a: Bureau) -> None:
    response = post(client_for(expert), "/api/consultations/", {"bureau_id": bureau_a.pk, "topic": "学区划分"})

    error(response, 403, "not_allowed")


# --- reading: scoping per persona ---------------------------------------------------------------


@pytest.fixture
def landscape(active: Consultation, cosigner: User, bureau_b: Bureau) -> dict[str, Consultation]:
    """The deputy's consultation handled by the expert, and another deputy's waiting at bureau B."""
    return {"active": active, "other": start(cosigner, bureau_b, "公交线路加密")}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("deputy", {"active"}),
        ("cosigner", {"other"}),
        ("expert", {"active"}),
        ("staff", {"active", "other"}),
        ("outsider", set()),
        ("handler", set()),
    ],
)
def test_consultation_list_is_scoped_per_persona(
    client_for: ClientFor,
    landscape: dict[str, Consultation],
    request: pytest.FixtureRequest,
    persona: str,
    expected: set[str],
) -> None:
    user = request.getfixturevalue(persona)

    response = client_for(user).get("/api/consultations/")

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {landscape[name].pk for name in expected}


@pytest.mark.parametrize("persona", ["cosigner", "outsider", "handler", "colleague"])
def test_a_consultation_outside_the_scope_is_404(
    client_for: ClientFor, active: Consultation, request: pytest.FixtureRequest, persona: str
) -> None:
    user = request.getfixturevalue(persona)

    error(client_for(user).get(f"/api/consultations/{active.pk}/"), 404, "not_found")


def test_consultation_list_filters_by_status_and_bureau(
    client_for: ClientFor, staff: User, landscape: dict[str, Consultation], bureau_b: Bureau
) -> None:
    client = client_for(staff)

    def ids(query: dict[str, Any]) -> set[int]:
        return {row["id"] for row in client.get("/api/consultations/", query).json()["results"]}

    assert ids({"status": "queued"}) == {landscape["other"].pk}
    assert ids({"status": "active"}) == {landscape["active"].pk}
    assert ids({"bureau": bureau_b.pk}) == {landscape["other"].pk}
    body = error(client.get("/api/consultations/", {"status": "lost"}), 400, "invalid_input")
    assert "status" in body["fields"]


def test_office_reads_but_cannot_post(client_for: ClientFor, staff: User, active: Consultation) -> None:
    body = client_for(staff).get(f"/api/consultations/{active.pk}/").json()

    assert body["can_post"] is False
    assert body["expert"]["name"] == "陈志远"


# --- ending ----------------------------------------------------------------------------------------


def test_deputy_ends_the_consultation_once(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    client = client_for(deputy)

    response = post(client, f"/api/consultations/{active.pk}/end/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ended"
    assert body["ended_by"] == {"id": deputy.pk, "name": "王建国"}
    assert body["can_post"] is False
    error(post(client, f"/api/consultations/{active.pk}/end/"), 409, "invalid_transition:end")


def test_a_stranger_cannot_end_it_and_learns_nothing(
    client_for: ClientFor, outsider: User, active: Consultation
) -> None:
    error(post(client_for(outsider), f"/api/consultations/{active.pk}/end/"), 404, "not_found")

    active.refresh_from_db()
    assert active.status == ConsultationStatus.ACTIVE


def test_office_may_read_but_not_end(client_for: ClientFor, staff: User, active: Consultation) -> None:
    error(post(client_for(staff), f"/api/consultations/{active.pk}/end/"), 403, "not_allowed")


# --- transferring ------------------------------------------------------------------------------------


def test_expert_transfers_to_a_colleague_with_a_note(
    client_for: ClientFor, expert: User, colleague: User, deputy: User, active: Consultation
) -> None:
    response = post(
        client_for(expert),
        f"/api/consultations/{active.pk}/transfer/",
        {"note": "学区划分由基础教育处负责", "to_expert_id": colleague.pk},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["expert"] is None
    assert body["requested_expert"]["id"] == colleague.pk
    [transfer] = body["transfers"]
    assert transfer["note"] == "学区划分由基础教育处负责"
    assert transfer["from_expert"]["id"] == expert.pk
    assert transfer["to_expert"]["id"] == colleague.pk
    assert set(transfer) == {"id", "from_expert", "to_bureau", "to_expert", "note", "at"}
    # the expert who handed it on still reads it, but may no longer act on it
    assert client_for(expert).get(f"/api/consultations/{active.pk}/").status_code == 200
    error(post(client_for(expert), f"/api/consultations/{active.pk}/end/"), 403, "not_allowed")


def test_expert_transfers_to_another_bureau(
    client_for: ClientFor, expert: User, active: Consultation, bureau_b: Bureau
) -> None:
    response = post(
        client_for(expert),
        f"/api/consultations/{active.pk}/transfer/",
        {"note": "属交通委职责", "to_bureau_id": bureau_b.pk},
    )

    assert response.status_code == 200, response.content
    assert response.json()["bureau"]["id"] == bureau_b.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "note"),
        ({"note": "x", "to_expert_id": 1, "to_bureau_id": 1}, "to_bureau_id"),
        ({"note": "x", "to_bureau_id": 999999}, "to_bureau_id"),
    ],
)
def test_transfer_with_bad_input_gives_400_naming_the_field(
    client_for: ClientFor, expert: User, active: Consultation, data: dict[str, Any], field: str
) -> None:
    body = error(post(client_for(expert), f"/api/consultations/{active.pk}/transfer/", data), 400, "invalid_input")

    assert field in body["fields"]


def test_deputy_cannot_transfer(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    response = post(client_for(deputy), f"/api/consultations/{active.pk}/transfer/", {"note": "换人"})

    error(response, 403, "not_allowed")


def test_an_ended_consultation_cannot_be_transferred(client_for: ClientFor, expert: User, ended: Consultation) -> None:
    response = post(client_for(expert), f"/api/consultations/{ended.pk}/transfer/", {"note": "换人"})

    error(response, 409, "invalid_transition:transfer")


# --- outcome and rating ----------------------------------------------------------------------------


def test_outcome_proposal_links_to_a_proposal_draft(client_for: ClientFor, expert: User, ended: Consultation) -> None:
    response = post(
        client_for(expert),
        f"/api/consultations/{ended.pk}/outcome/",
        {"outcome": "proposal", "note": "建议提出书面建议"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == Outcome.PROPOSAL
    assert body["outcome_note"] == "建议提出书面建议"
    assert body["proposal_draft_url"] == f"/proposals/new/?consultation={ended.pk}"


def test_other_outcomes_have_no_draft_link(client_for: ClientFor, expert: User, active: Consultation) -> None:
    response = post(client_for(expert), f"/api/consultations/{active.pk}/outcome/", {"outcome": "answered"})

    assert response.status_code == 200, response.content
    assert response.json()["proposal_draft_url"] is None
    assert response.json()["outcome_label"]


def test_deputy_cannot_record_the_outcome(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    error(post(client_for(deputy), f"/api/consultations/{active.pk}/outcome/", {"outcome": "answered"}), 403)


def test_an_unknown_outcome_gives_400_naming_outcome(client_for: ClientFor, expert: User, active: Consultation) -> None:
    body = error(post(client_for(expert), f"/api/consultations/{active.pk}/outcome/", {"outcome": "won"}), 400)

    assert "outcome" in body["fields"]


def test_deputy_rates_the_ended_consultation(client_for: ClientFor, deputy: User, ended: Consultation) -> None:
    response = post(client_for(deputy), f"/api/consultations/{ended.pk}/rate/", {"rating": 5, "comment": "很专业"})

    assert response.status_code == 200, response.content
    assert (response.json()["rating"], response.json()["rating_comment"]) == (5, "很专业")


def test_rating_before_the_end_is_409(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    error(
        post(client_for(deputy), f"/api/consultations/{active.pk}/rate/", {"rating": 4}), 409, "invalid_transition:rate"
    )


@pytest.mark.parametrize("rating", [0, 6, "five"])
def test_rating_out_of_range_gives_400_naming_rating(
    client_for: ClientFor, deputy: User, ended: Consultation, rating: object
) -> None:
    body = error(post(client_for(deputy), f"/api/consultations/{ended.pk}/rate/", {"rating": rating}), 400)

    assert "rating" in body["fields"]


def test_expert_cannot_rate(client_for: ClientFor, expert: User, ended: Consultation) -> None:
    error(post(client_for(expert), f"/api/consultations/{ended.pk}/rate/", {"rating": 5}), 403, "not_allowed")


# --- the expert's workbench and presence ---------------------------------------------------------


def test_workbench_shows_active_consultations_queue_and_presence(
    client_for: ClientFor, expert: User, active: Consultation, cosigner: User, bureau_a: Bureau
) -> None:
    ExpertPresence.objects.filter(expert__user=expert).update(status=PresenceStatus.AWAY)
    waiting = start(cosigner, bureau_a, "课后服务")

    response = client_for(expert).get("/api/desk/workbench/")

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["active"]] == [active.pk]
    assert [(row["id"], row["position"]) for row in body["queue"]] == [(waiting.pk, 1)]
    assert body["queue"][0]["deputy"]["name"] == "张丽"
    assert body["presence"]["status"] == "away"
    assert set(body["presence"]) == {"status", "connections", "last_seen", "present"}


def test_workbench_is_for_experts_only(client_for: ClientFor, deputy: User) -> None:
    error(client_for(deputy).get("/api/desk/workbench/"), 403, "not_allowed")


def test_expert_chooses_away_and_online(client_for: ClientFor, expert: User) -> None:
    client = client_for(expert)

    assert post(client, "/api/desk/presence/", {"status": "away"}).json()["status"] == "away"
    assert post(client, "/api/desk/presence/", {"status": "online"}).json()["status"] == "online"
    body = error(post(client, "/api/desk/presence/", {"status": "offline"}), 400, "invalid_input")
    assert "status" in body["fields"]


def test_presence_is_for_experts_only(client_for: ClientFor, deputy: User) -> None:
    error(post(client_for(deputy), "/api/desk/presence/", {"status": "online"}), 403, "not_allowed")


# --- the deputy's history beside the chat ----------------------------------------------------------


@pytest.fixture
def earlier(deputy: User, bureau_b: Bureau) -> Consultation:
    return start(deputy, bureau_b, "公交线路加密")


@pytest.fixture
def proposal(deputy: User) -> Proposal:
    session = ProposalSession.objects.create(
        chamber="npc", year=2027, name="海滨市第十六届人民代表大会第三次会议", number_prefix="建", is_open=True
    )
    return Proposal.objects.create(
        session=session,
        kind="suggestion",
        title="关于学区划分的建议",
        body="…",
        category="教育",
        proposer=deputy,
        status="submitted",
    )


def test_assigned_expert_sees_the_deputys_history(
    client_for: ClientFor, expert: User, active: Consultation, earlier: Consultation, proposal: Proposal
) -> None:
    response = client_for(expert).get(f"/api/desk/history/{active.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["deputy"]["name"] == "王建国"
    assert [row["id"] for row in body["consultations"]] == [earlier.pk]
    assert [row["title"] for row in body["proposals"]] == ["关于学区划分的建议"]
    assert set(body["proposals"][0]) >= {"id", "code", "title", "status", "status_label", "session"}


def test_office_sees_the_history_too(client_for: ClientFor, staff: User, active: Consultation) -> None:
    assert client_for(staff).get(f"/api/desk/history/{active.pk}/").status_code == 200


def test_the_deputy_does_not_read_the_history_panel(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    error(client_for(deputy).get(f"/api/desk/history/{active.pk}/"), 403, "not_allowed")


def test_history_outside_the_scope_is_404(client_for: ClientFor, colleague: User, active: Consultation) -> None:
    error(client_for(colleague).get(f"/api/desk/history/{active.pk}/"), 404, "not_found")


# --- the office -----------------------------------------------------------------------------------------


def test_office_opens_a_duty_period(client_for: ClientFor, staff: User, expert: User, bureau_a: Bureau) -> None:
    data = {
        "name": "2027年两会在线咨询",
        "starts_at": "2027-01-11T09:00:00+08:00",
        "ends_at": "2027-01-11T17:00:00+08:00",
        "bureau_ids": [bureau_a.pk],
        "expert_ids": [expert.pk],
    }

    response = post(client_for(staff), "/api/desk/periods/", data)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["bureaus"], body["experts"]) == (data["name"], [bureau_a.pk], [expert.pk])
    assert ConsultationPeriod.objects.count() == 1


def test_period_ending_before_it_starts_gives_400_naming_ends_at(
    client_for: ClientFor, staff: User, bureau_a: Bureau
) -> None:
    data = {
        "name": "两会",
        "starts_at": "2027-01-11T17:00:00+08:00",
        "ends_at": "2027-01-11T09:00:00+08:00",
        "bureau_ids": [bureau_a.pk],
    }

    body = error(post(client_for(staff), "/api/desk/periods/", data), 400, "invalid_input")

    assert "ends_at" in body["fields"]


def test_only_the_office_opens_periods(client_for: ClientFor, deputy: User, bureau_a: Bureau) -> None:
    data = {"name": "两会", "starts_at": "2027-01-11T09:00:00+08:00", "ends_at": "2027-01-11T17:00:00+08:00"}

    error(post(client_for(deputy), "/api/desk/periods/", {**data, "bureau_ids": [bureau_a.pk]}), 403, "not_allowed")


def test_statistics_give_the_days_figures_overall_and_per_bureau(
    client_for: ClientFor, staff: User, active: Consultation, cosigner: User, bureau_b: Bureau, bureau_a: Bureau
) -> None:
    start(cosigner, bureau_b, "公交线路加密")  # waiting
    Consultation.objects.filter(pk=active.pk).update(
        outcome=Outcome.ANSWERED, assigned_at=active.created_at + timedelta(seconds=90)
    )
    yesterday = timezone.localdate() - timedelta(days=1)

    response = client_for(staff).get("/api/desk/statistics/", {"date": timezone.localdate().isoformat()})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["overall"] == {
        "deputies_served": 2,
        "consultations": 2,
        "answered_on_the_spot": 1,
        "waiting_now": 1,
        "average_wait_seconds": 90.0,
        "active_now": 1,
        "ended": 0,
    }
    per_bureau = {row["bureau_id"]: row["figures"] for row in body["per_bureau"]}
    assert per_bureau[bureau_a.pk]["answered_on_the_spot"] == 1
    assert per_bureau[bureau_b.pk]["waiting_now"] == 1
    other_day = client_for(staff).get("/api/desk/statistics/", {"date": yesterday.isoformat()}).json()
    assert other_day["overall"]["consultations"] == 0


def test_statistics_are_for_the_office_only(client_for: ClientFor, expert: User) -> None:
    error(client_for(expert).get("/api/desk/statistics/"), 403, "not_allowed")


def test_statistics_with_a_bad_date_give_400_naming_date(client_for: ClientFor, staff: User) -> None:
    body = error(client_for(staff).get("/api/desk/statistics/", {"date": "2026-13-40"}), 400, "invalid_input")

    assert "date" in body["fields"]


# --- the schema -------------------------------------------------------------------------------------


def test_schema_lists_the_desk_and_chat_endpoints(client_for: ClientFor, staff: User) -> None:
    paths = set(client_for(staff).get("/api/schema/", {"format": "json"}).json()["paths"])

    assert {
        "/api/desk/bureaus/",
        "/api/desk/bureaus/{bureau_id}/experts/",
        "/api/consultations/",
        "/api/consultations/{id}/",
        "/api/consultations/{id}/end/",
        "/api/consultations/{id}/transfer/",
        "/api/consultations/{id}/outcome/",
        "/api/consultations/{id}/rate/",
        "/api/consultations/{consultation_id}/messages/",
        "/api/consultations/{consultation_id}/files/",
        "/api/consultations/{consultation_id}/files/{message_id}/",
        "/api/desk/workbench/",
        "/api/desk/presence/",
        "/api/desk/history/{consultation_id}/",
        "/api/desk/periods/",
        "/api/desk/statistics/",
    } <= paths


def test_the_list_costs_the_same_few_queries_however_long_it_is(
    client_for: ClientFor,
    staff: User,
    active: Consultation,
    cosigner: User,
    bureau_a: Bureau,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(staff)
    for n in range(8):
        desk.end_consultation(actor=cosigner, consultation_id=start(cosigner, bureau_a, f"课后服务{n}").pk)

    with django_assert_max_num_queries(8):
        response = client.get("/api/consultations/")

    assert response.json()["count"] == 9
