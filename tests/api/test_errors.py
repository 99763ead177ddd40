"""Input the API must refuse with a clean 400 or 409 in the one error shape, never a 500 or a 404.

Each case was found by hand or by the contract run (``test_contract.py``) and stays here as a plain test.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from consult.models import Bureau, ConsultationPeriod, User
from proposals import services
from proposals.models import ExtensionRequest, ExtensionStatus, Proposal
from tests.api.conftest import ClientFor
from tests.proposals.conftest import co_of, lead_of


def post(client: Client, path: str, data: Any) -> Any:
    return client.post(path, data=json.dumps(data), content_type="application/json")


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


# --- 400 naming the field -------------------------------------------------------------------------


def test_a_due_date_window_past_any_calendar_is_a_400_naming_the_field(client_for: ClientFor, staff: User) -> None:
    response = client_for(staff).get("/api/proposals/", {"due_within": "3000000"})

    assert "due_within" in error(response, 400, "invalid_input")["fields"]


def test_json_nested_a_thousand_levels_deep_is_a_400_not_a_recursion_error(client_for: ClientFor, deputy: User) -> None:
    body = '{"title": ' + "[" * 1000 + "]" * 1000 + "}"

    response = client_for(deputy).post("/api/proposals/", data=body, content_type="application/json")

    assert "32" in error(response, 400, "parse_error")["message"]  # the limit, named in the site's language


def test_json_nested_deeper_than_the_limit_is_refused_even_when_python_could_parse_it(
    client_for: ClientFor, deputy: User
) -> None:
    body = '{"title": ' + "[" * 100 + "]" * 100 + "}"

    response = client_for(deputy).post("/api/proposals/", data=body, content_type="application/json")

    error(response, 400, "parse_error")


def test_nested_field_errors_are_named_with_dots(client_for: ClientFor, staff: User, bureau_a: Bureau) -> None:
    data = {**PERIOD, "bureau_ids": [bureau_a.pk], "expert_ids": ["x"]}

    body = error(post(client_for(staff), "/api/desk/periods/", data), 400, "invalid_input")

    assert set(body["fields"]) == {"expert_ids.0"}
    assert all(isinstance(message, str) for message in body["fields"]["expert_ids.0"])


# --- duty periods ----------------------------------------------------------------------------------

PERIOD = {
    "name": "2027年两会在线咨询",
    "starts_at": "2027-01-11T09:00:00+08:00",
    "ends_at": "2027-01-11T17:00:00+08:00",
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "0799-01-11T09:00:00+08:00"}, "starts_at"),
        ({"ends_at": "9999-01-11T09:00:00Z"}, "ends_at"),
        ({"name": "两会\x00咨询"}, "name"),
        ({"name": "两会\x1b[31m咨询"}, "name"),
        ({"bureau_ids": [-1]}, "bureau_ids.0"),
        ({"bureau_ids": [999999]}, "bureau_ids"),
        ({"expert_ids": [999999]}, "expert_ids.0"),
        ({"expert_ids": [-5]}, "expert_ids.0"),
    ],
)
def test_office_cannot_open_a_period_with_impossible_input(
    client_for: ClientFor, staff: User, bureau_a: Bureau, change: dict[str, Any], field: str
) -> None:
    data = {**PERIOD, "bureau_ids": [bureau_a.pk], **change}

    body = error(post(client_for(staff), "/api/desk/periods/", data), 400, "invalid_input")

    assert field in body["fields"]
    assert not ConsultationPeriod.objects.exists()


def test_a_period_answers_with_the_plain_eight_hour_offset(
    client_for: ClientFor, staff: User, bureau_a: Bureau, expert: User
) -> None:
    data = {**PERIOD, "bureau_ids": [bureau_a.pk], "expert_ids": [expert.pk], "name": "两会\n在线咨询"}

    response = post(client_for(staff), "/api/desk/periods/", data)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["starts_at"], body["name"], body["experts"]) == (
        "2027-01-11T09:00:00+08:00",
        data["name"],
        [expert.pk],
    )


# --- 409 for an action in the wrong state ---------------------------------------------------------


def test_deciding_an_extension_twice_is_a_409(
    client_for: ClientFor, staff: User, handler: User, assigned: Proposal
) -> None:
    lead = lead_of(assigned)
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    request = services.request_extension(
        actor=handler,
        proposal_id=assigned.pk,
        assignment_id=lead.pk,
        requested_due=lead.reply_due + timedelta(days=14),
        reason="需要调研",
    )
    office = client_for(staff)
    url = f"/api/proposals/{assigned.pk}/decide-extension/"
    assert post(office, url, {"request_id": request.pk, "approve": True}).status_code == 200

    error(post(office, url, {"request_id": request.pk, "approve": False}), 409, "invalid_transition")
    assert ExtensionRequest.objects.get(pk=request.pk).status == ExtensionStatus.APPROVED


def test_returning_an_assignment_twice_is_a_409(
    client_for: ClientFor, handler_a: User, handler: User, assigned: Proposal
) -> None:
    co = co_of(assigned)
    url = f"/api/proposals/{assigned.pk}/return-assignment/"
    data = {"assignment_id": co.pk, "reason": "不属于本单位职责"}
    assert post(client_for(handler_a), url, data).status_code == 200

    error(post(client_for(handler_a), url, data), 409, "invalid_transition")


def test_reviewing_a_reply_that_awaits_sign_off_is_a_409(
    client_for: ClientFor, staff: User, handler: User, handler_a: User, assigned: Proposal
) -> None:
    lead, co = lead_of(assigned), co_of(assigned)
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    services.accept_assignment(actor=handler_a, proposal_id=assigned.pk, assignment_id=co.pk)
    services.submit_opinion(actor=handler_a, proposal_id=assigned.pk, assignment_id=co.pk, body="同意。")
    reply = services.draft_reply(
        actor=handler,
        proposal_id=assigned.pk,
        assignment_id=lead.pk,
        outcome_class="B",
        body="已列入计划。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)

    response = post(
        client_for(staff), f"/api/proposals/{assigned.pk}/review-reply/", {"reply_id": reply.pk, "approve": True}
    )

    error(response, 409, "invalid_transition")


def test_an_unknown_extension_request_is_still_a_404(client_for: ClientFor, staff: User, assigned: Proposal) -> None:
    response = post(
        client_for(staff), f"/api/proposals/{assigned.pk}/decide-extension/", {"request_id": 999999, "approve": True}
    )

    error(response, 404, "not_found")


def test_a_period_with_too_many_experts_is_refused_before_any_lookup(
    client_for: ClientFor, staff: User, bureau_a: Bureau, django_assert_max_num_queries: Any
) -> None:
    data = {**PERIOD, "bureau_ids": [bureau_a.pk], "expert_ids": list(range(1, 5002))}

    with django_assert_max_num_queries(40):  # session, user, throttles…; never one per listed id (5 001)
        response = client_for(staff).post("/api/desk/periods/", data, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"expert_ids"}
