"""立案 and 交办: numbering, declining, merging, assigning to bureaus, deadlines, acceptance and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from consult.kernel.exceptions import InvalidInput, NotAllowed
from consult.models import Bureau, Notification, User
from proposals import services
from proposals.access import recipients_of
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CalendarDay,
    DayKind,
    Proposal,
    ProposalSession,
    Status,
)
from tests.factories import BureauFactory, DeputyProfileFactory
from tests.proposals.conftest import co_of, content, lead_of


def submit_new(proposer: User, title: str = "关于增设社区养老服务站的建议") -> Proposal:
    proposal = services.create_draft(actor=proposer, content=content(title=title))
    return services.submit(actor=proposer, proposal_id=proposal.pk)


def register_new(proposer: User, staff: User, title: str = "关于增设社区养老服务站的建议") -> Proposal:
    proposal = submit_new(proposer, title)
    return services.register(actor=staff, proposal_id=proposal.pk)


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


def actions_of(proposal: Proposal) -> list[str]:
    return list(proposal.events.order_by("id").values_list("action", flat=True))


def snapshot(proposal: Proposal) -> tuple[object, ...]:
    """What a refused action must leave alone."""
    proposal = fresh(proposal)
    assignments = list(proposal.assignments.order_by("id").values_list("id", "status", "return_reason"))
    return proposal.status, proposal.number, proposal.reply_due, assignments, actions_of(proposal)


def working(day: date) -> bool:
    """Independent of proposals.workdays: Monday to Friday, minus stored holidays, plus make-up days."""
    kind = CalendarDay.objects.filter(date=day).values_list("kind", flat=True).first()
    return kind == DayKind.WORKDAY if kind else day.weekday() < 5


def nth_working_day_after(start: date, n: int) -> date:
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += working(day)
    return day


def on_or_after_working(day: date) -> date:
    while not working(day):
        day += timedelta(days=1)
    return day


def holiday(day: date, name: str = "测试假日") -> None:
    CalendarDay.objects.update_or_create(date=day, defaults={"kind": DayKind.HOLIDAY, "name": name})


# --- 立案: registration and numbering ---------------------------------------------


def test_registration_numbers_each_session_from_one_independently(
    deputy: User, member: User, staff: User, npc_session: ProposalSession, cppcc_session: ProposalSession
) -> None:
    npc = [submit_new(deputy, f"建议{i}") for i in range(3)]
    cppcc = [submit_new(member, f"提案{i}") for i in range(3)]

    for suggestion, proposal in zip(npc, cppcc, strict=True):  # interleaved on purpose
        services.register(actor=staff, proposal_id=suggestion.pk)
        services.register(actor=staff, proposal_id=proposal.pk)

    assert [fresh(p).number for p in npc] == [1, 2, 3]
    assert [fresh(p).number for p in cppcc] == [1, 2, 3]
    assert [fresh(p).code for p in npc] == ["2027-建-0001", "2027-建-0002", "2027-建-0003"]
    assert [fresh(p).code for p in cppcc] == ["2027-提-0001", "2027-提-0002", "2027-提-0003"]


def test_a_number_is_never_reused_after_a_proposal_leaves_the_cycle(
    deputy: User, staff: User, npc_session: ProposalSession
) -> None:
    first = register_new(deputy, staff, "建议一")
    services.convert_to_letter(actor=staff, proposal_id=first.pk, reason="属于个人诉求，转来信办理")

    second = register_new(deputy, staff, "建议二")

    assert (fresh(first).number, second.number) == (1, 2)


def test_registering_moves_the_proposal_on_and_tells_the_proposer(
    deputy: User, staff: User, submitted: Proposal
) -> None:
    services.register(actor=staff, proposal_id=submitted.pk)

    proposal = fresh(submitted)
    assert proposal.status == Status.REGISTERED
    assert proposal.registered_at is not None
    event = proposal.events.order_by("id").last()
    assert (event.action, event.from_status, event.to_status, event.reason) == (
        "register",
        Status.SUBMITTED,
        Status.REGISTERED,
        "2027-建-0001",
    )
    assert Notification.objects.filter(user=deputy, kind="proposal.registered").count() == 1


@pytest.mark.parametrize("service", ["decline_registration", "convert_to_letter"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_declining_or_turning_into_a_letter_needs_a_reason(
    staff: User, submitted: Proposal, service: str, reason: str
) -> None:
    before = snapshot(submitted)

    with pytest.raises(InvalidInput) as refused:
        getattr(services, service)(actor=staff, proposal_id=submitted.pk, reason=reason)

    assert refused.value.field == "reason"
    assert snapshot(submitted) == before


@pytest.mark.parametrize(
    ("service", "status", "kind"),
    [
        ("decline_registration", Status.NOT_REGISTERED, "proposal.not_registered"),
        ("convert_to_letter", Status.LETTER, "proposal.letter"),
    ],
)
def test_declining_or_turning_into_a_letter_records_the_reason_for_the_proposer(
    deputy: User, staff: User, submitted: Proposal, service: str, status: Status, kind: str
) -> None:
    getattr(services, service)(actor=staff, proposal_id=submitted.pk, reason="  与上年度建议重复  ")

    proposal = fresh(submitted)
    assert (proposal.status, proposal.number) == (status, None)
    assert proposal.events.order_by("id").last().reason == "与上年度建议重复"
    assert Notification.objects.filter(user=deputy, kind=kind).count() == 1


# --- 并案: merging ---------------------------------------------------------------------


def test_merging_into_a_registered_proposal_makes_its_proposer_and_co_signers_raters_of_the_reply(
    deputy: User, cosigner: User, staff: User, registered: Proposal
) -> None:
    third = DeputyProfileFactory(user__username="third-deputy", user__full_name="钱多多").user
    duplicate = services.create_draft(actor=cosigner, content=content(title="关于公交线路的另一件建议"))
    services.invite_cosigner(actor=cosigner, proposal_id=duplicate.pk, deputy_id=third.pk)
    services.cosign(actor=third, proposal_id=duplicate.pk, sign=True)
    services.submit(actor=cosigner, proposal_id=duplicate.pk)

    services.merge(actor=staff, proposal_id=duplicate.pk, into_id=registered.pk)

    merged = fresh(duplicate)
    assert (merged.status, merged.merged_into_id) == (Status.MERGED, registered.pk)
    assert merged.events.order_by("id").last().reason == "2027-建-0001"
    assert recipients_of(fresh(registered)) == {deputy.pk, cosigner.pk, third.pk}
    assert Notification.objects.filter(user=cosigner, kind="proposal.merged").count() == 1


def test_a_proposal_is_not_merged_into_one_that_is_not_registered(
    deputy: User, cosigner: User, staff: User, submitted: Proposal
) -> None:
    other = submit_new(cosigner)
    before = snapshot(other)

    with pytest.raises(InvalidInput) as refused:
        services.merge(actor=staff, proposal_id=other.pk, into_id=submitted.pk)

    assert refused.value.field == "into_id"
    assert snapshot(other) == before


def test_a_proposal_is_not_merged_into_itself(staff: User, registered: Proposal) -> None:
    before = snapshot(registered)

    with pytest.raises(InvalidInput) as refused:
        services.merge(actor=staff, proposal_id=registered.pk, into_id=registered.pk)

    assert refused.value.field == "into_id"
    assert snapshot(registered) == before


def test_a_cppcc_proposal_is_not_merged_into_an_npc_suggestion(
    member: User, staff: User, registered: Proposal, cppcc_session: ProposalSession
) -> None:
    proposal = submit_new(member, "关于完善基层医疗的提案")
    before = snapshot(proposal)

    with pytest.raises(InvalidInput) as refused:
        services.merge(actor=staff, proposal_id=proposal.pk, into_id=registered.pk)

    assert refused.value.field == "into_id"
    assert snapshot(proposal) == before


def test_proposers_merged_earlier_still_get_the_reply_when_their_primary_is_merged_again(
    deputy: User, cosigner: User, staff: User, registered: Proposal
) -> None:
    third = DeputyProfileFactory(user__username="third-deputy").user
    middle = register_new(cosigner, staff, "中间那件")
    first = submit_new(third, "最早并入的那件")
    services.merge(actor=staff, proposal_id=first.pk, into_id=middle.pk)

    services.merge(actor=staff, proposal_id=middle.pk, into_id=registered.pk)

    assert recipients_of(fresh(registered)) == {deputy.pk, cosigner.pk, third.pk}


# --- 交办: assignment ------------------------------------------------------------------


def test_assigning_a_lead_and_a_co_handler_tells_both_bureaus(
    staff: User, handler: User, handler_a: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    created = services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk, co=[bureau_a.pk])

    proposal = fresh(registered)
    assert {(a.bureau_id, a.role, a.status) for a in created} == {
        (bureau_b.pk, AssignmentRole.LEAD, AssignmentStatus.PENDING),
        (bureau_a.pk, AssignmentRole.CO, AssignmentStatus.PENDING),
    }
    assert proposal.status == Status.ASSIGNED
    assert proposal.assigned_at is not None
    assert actions_of(proposal)[-1] == "assign"
    assert Notification.objects.filter(user__in=[handler, handler_a], kind="assignment.new").count() == 2


def test_separate_assignment_gives_each_bureau_its_own_reply_deadline(
    staff: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    created = services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_a.pk, bureau_b.pk])

    assert {a.role for a in created} == {AssignmentRole.SEPARATE}
    assert all(a.reply_due is not None and a.opinion_due is None for a in created)
    assert fresh(registered).status == Status.ASSIGNED


INVALID_PLANS = {
    "co without lead": (lambda a, b, c, off: {"co": [a]}, "lead"),
    "nobody": (lambda a, b, c, off: {}, "lead"),
    "lead and separate": (lambda a, b, c, off: {"lead": a, "separate": [b]}, "separate"),
    "lead also co": (lambda a, b, c, off: {"lead": a, "co": [a]}, "co"),
    "co twice": (lambda a, b, c, off: {"lead": a, "co": [b, b]}, "co"),
    "inactive lead": (lambda a, b, c, off: {"lead": off, "co": [a]}, "lead"),
    "unknown lead": (lambda a, b, c, off: {"lead": 987654}, "lead"),
}


@pytest.mark.parametrize(("plan", "field"), INVALID_PLANS.values(), ids=INVALID_PLANS.keys())
def test_an_invalid_plan_is_refused_naming_the_field(
    staff: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau, bureau_c: Bureau, plan, field: str
) -> None:
    inactive = BureauFactory(is_active=False)
    before = snapshot(registered)

    with pytest.raises(InvalidInput) as refused:
        services.assign(
            actor=staff, proposal_id=registered.pk, **plan(bureau_a.pk, bureau_b.pk, bureau_c.pk, inactive.pk)
        )

    assert refused.value.field == field
    assert snapshot(registered) == before
    assert not Assignment.objects.exists()


MISNAMED_PLANS = {
    "inactive co": (lambda a, off: {"lead": a, "co": [off]}, "co"),
    "inactive separate": (lambda a, off: {"separate": [a, off]}, "separate"),
    "separate twice": (lambda a, off: {"separate": [a, a]}, "separate"),
}


@pytest.mark.parametrize(("plan", "field"), MISNAMED_PLANS.values(), ids=MISNAMED_PLANS.keys())
def test_the_list_holding_the_bad_bureau_is_the_field_named(
    staff: User, registered: Proposal, bureau_a: Bureau, plan, field: str
) -> None:
    inactive = BureauFactory(is_active=False)

    with pytest.raises(InvalidInput) as refused:
        services.assign(actor=staff, proposal_id=registered.pk, **plan(bureau_a.pk, inactive.pk))

    assert refused.value.field == field


@pytest.mark.parametrize("first", ["lead", "separate"])
def test_a_later_assignment_does_not_mix_a_lead_with_separate_bureaus(
    staff: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau, bureau_c: Bureau, first: str
) -> None:
    if first == "lead":
        services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk, co=[bureau_a.pk])
        mixing: dict[str, object] = {"separate": [bureau_c.pk]}
    else:
        services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_a.pk, bureau_b.pk])
        mixing = {"lead": bureau_c.pk}
    before = snapshot(registered)

    with pytest.raises(InvalidInput):
        services.assign(actor=staff, proposal_id=registered.pk, **mixing)

    assert snapshot(registered) == before


def test_deadlines_count_working_days_and_move_off_days_off(
    staff: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    today = timezone.localdate()
    # a statutory holiday inside the return window, and one on the day three months from now
    holiday(nth_working_day_after(today, 2))
    three_months = today + relativedelta(months=3)
    holiday(three_months)
    one_month = today + relativedelta(months=1)
    holiday(one_month)

    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk, co=[bureau_a.pk])

    proposal = fresh(registered)
    lead, co = lead_of(proposal), co_of(proposal)
    assert lead.return_by == co.return_by == nth_working_day_after(today, 7)
    assert lead.reply_due == on_or_after_working(three_months) > three_months
    assert lead.opinion_due is None
    assert co.opinion_due == on_or_after_working(one_month) > one_month
    assert co.reply_due is None
    assert proposal.reply_due == lead.reply_due


def test_deadlines_follow_the_configured_rules(staff: User, registered: Proposal, bureau_b: Bureau, settings) -> None:
    settings.PROPOSAL_RULES = {"reply_months": 2, "return_window_working_days": 3}
    today = timezone.localdate()

    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)

    lead = lead_of(fresh(registered))
    assert lead.return_by == nth_working_day_after(today, 3)
    assert lead.reply_due == on_or_after_working(today + relativedelta(months=2))


def test_the_proposals_reply_due_is_the_earliest_open_replying_deadline(
    staff: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau, bureau_c: Bureau, handler: User
) -> None:
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_a.pk, bureau_b.pk])
    sooner, later = timezone.localdate() + timedelta(days=20), timezone.localdate() + timedelta(days=200)
    Assignment.objects.filter(bureau=bureau_a).update(reply_due=later)
    Assignment.objects.filter(bureau=bureau_b).update(reply_due=sooner)

    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_c.pk])

    assert fresh(registered).reply_due == sooner
    b = Assignment.objects.get(bureau=bureau_b)
    services.return_assignment(actor=handler, proposal_id=registered.pk, assignment_id=b.pk, reason="不属于我委职责")
    c = Assignment.objects.get(bureau=bureau_c)
    assert fresh(registered).reply_due == c.reply_due  # the returned one no longer counts


def test_a_bureau_already_holding_the_proposal_or_a_second_lead_is_refused(
    staff: User, assigned: Proposal, bureau_a: Bureau, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    before = snapshot(assigned)

    for plan in ({"co": [bureau_a.pk]}, {"lead": bureau_c.pk}):
        with pytest.raises(InvalidInput) as refused:
            services.assign(actor=staff, proposal_id=assigned.pk, **plan)
        assert refused.value.code == "already_assigned"

    assert snapshot(assigned) == before


# --- 签收: acceptance -------------------------------------------------------------------


def test_the_lead_accepting_starts_handling(handler: User, assigned: Proposal) -> None:
    lead = lead_of(assigned)

    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)

    lead.refresh_from_db()
    assert (lead.status, fresh(assigned).status) == (AssignmentStatus.ACCEPTED, Status.HANDLING)
    assert lead.accepted_at is not None


def test_a_co_handler_accepting_does_not_start_handling(handler_a: User, assigned: Proposal) -> None:
    co = co_of(assigned)

    services.accept_assignment(actor=handler_a, proposal_id=assigned.pk, assignment_id=co.pk)

    co.refresh_from_db()
    assert (co.status, fresh(assigned).status) == (AssignmentStatus.ACCEPTED, Status.ASSIGNED)
    assert actions_of(assigned)[-1] == "accept_assignment"


def test_a_separate_bureau_accepting_starts_handling(
    staff: User, handler: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_a.pk, bureau_b.pk])
    mine = Assignment.objects.get(bureau=bureau_b)

    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=mine.pk)

    assert fresh(registered).status == Status.HANDLING


def test_accepting_twice_changes_nothing(handler: User, assigned: Proposal) -> None:
    lead = lead_of(assigned)
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    before = snapshot(assigned)

    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)

    assert snapshot(assigned) == before


@pytest.mark.parametrize(
    ("persona", "which"),
    [
        ("expert", "co"),  # an expert of the co-handling bureau A: experts answer consultations only
        ("handler_c", "lead"),  # a handler of a bureau that holds nothing
        ("handler", "co"),  # the lead's handler, on the co-handler's assignment
        ("handler_a", "lead"),
        ("staff", "lead"),
        ("deputy", "lead"),
    ],
)
@pytest.mark.parametrize("service", ["accept_assignment", "return_assignment"])
def test_only_a_handler_of_the_assigned_bureau_accepts_or_returns(
    request: pytest.FixtureRequest, assigned: Proposal, handler_c: User, persona: str, which: str, service: str
) -> None:
    actor = request.getfixturevalue(persona)
    assignment = lead_of(assigned) if which == "lead" else co_of(assigned)
    extra = {"reason": "不属于本单位职责"} if service == "return_assignment" else {}
    before = snapshot(assigned)

    with pytest.raises(NotAllowed):
        getattr(services, service)(actor=actor, proposal_id=assigned.pk, assignment_id=assignment.pk, **extra)

    assert snapshot(assigned) == before


# --- 退办: returns ---------------------------------------------------------------------------


def test_the_lead_returning_in_time_sends_the_proposal_back_to_the_office(
    staff: User, handler: User, assigned: Proposal
) -> None:
    lead = lead_of(assigned)

    services.return_assignment(
        actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk, reason=" 属于市规划委职责 "
    )

    lead.refresh_from_db()
    proposal = fresh(assigned)
    assert (lead.status, lead.return_reason) == (AssignmentStatus.RETURNED, "属于市规划委职责")
    assert lead.returned_at is not None
    assert (proposal.status, proposal.reply_due) == (Status.REGISTERED, None)
    assert actions_of(proposal)[-2:] == ["return_assignment", "awaiting_reassignment"]
    assert co_of(proposal).status == AssignmentStatus.PENDING  # the co-handler keeps its part
    assert Notification.objects.filter(user=staff, kind="assignment.returned").count() == 1


def test_after_a_return_the_office_assigns_another_lead(
    staff: User, handler: User, handler_c: User, assigned: Proposal, bureau_c: Bureau
) -> None:
    services.return_assignment(
        actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk, reason="属于市发改委职责"
    )

    services.assign(actor=staff, proposal_id=assigned.pk, lead=bureau_c.pk)

    proposal = fresh(assigned)
    assert proposal.status == Status.ASSIGNED
    assert lead_of(proposal).bureau == bureau_c
    assert proposal.reply_due == lead_of(proposal).reply_due


def test_a_co_handler_returning_leaves_the_lead_handling(handler_a: User, assigned: Proposal) -> None:
    co = co_of(assigned)

    services.return_assignment(actor=handler_a, proposal_id=assigned.pk, assignment_id=co.pk, reason="与我委无关")

    co.refresh_from_db()
    assert co.status == AssignmentStatus.RETURNED
    assert fresh(assigned).status == Status.ASSIGNED


def test_after_a_co_handler_returns_the_office_adds_another_co_handler(
    staff: User, handler_a: User, assigned: Proposal, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    services.return_assignment(
        actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk, reason="与我委无关"
    )

    services.assign(actor=staff, proposal_id=assigned.pk, co=[bureau_c.pk])

    proposal = fresh(assigned)
    assert (lead_of(proposal).bureau, co_of(proposal).bureau) == (bureau_b, bureau_c)


def test_with_separate_bureaus_the_proposal_waits_until_the_last_one_returns(
    staff: User, handler: User, handler_a: User, registered: Proposal, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_a.pk, bureau_b.pk])
    a, b = Assignment.objects.get(bureau=bureau_a), Assignment.objects.get(bureau=bureau_b)

    services.return_assignment(actor=handler, proposal_id=registered.pk, assignment_id=b.pk, reason="非我委职责")
    assert fresh(registered).status == Status.ASSIGNED

    services.return_assignment(actor=handler_a, proposal_id=registered.pk, assignment_id=a.pk, reason="非我委职责")
    assert fresh(registered).status == Status.REGISTERED


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_return_needs_a_reason(handler: User, assigned: Proposal, reason: str) -> None:
    before = snapshot(assigned)

    with pytest.raises(InvalidInput) as refused:
        services.return_assignment(
            actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk, reason=reason
        )

    assert refused.value.field == "reason"
    assert snapshot(assigned) == before


def test_a_return_on_the_last_day_of_the_window_is_accepted(handler: User, assigned: Proposal) -> None:
    lead = lead_of(assigned)
    Assignment.objects.filter(pk=lead.pk).update(return_by=timezone.localdate())

    services.return_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk, reason="非我委职责")

    lead.refresh_from_db()
    assert lead.status == AssignmentStatus.RETURNED


@pytest.mark.parametrize("accepted", [False, True], ids=["pending", "accepted"])
def test_a_return_after_the_window_is_refused_and_changes_nothing(
    handler: User, staff: User, assigned: Proposal, accepted: bool
) -> None:
    lead = lead_of(assigned)
    if accepted:
        services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    Assignment.objects.filter(pk=lead.pk).update(return_by=timezone.localdate() - timedelta(days=1))
    before = snapshot(assigned)

    with pytest.raises(InvalidInput) as refused:
        services.return_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk, reason="非我委职责")

    assert refused.value.code == "return_window_closed"
    assert snapshot(assigned) == before
    assert not Notification.objects.filter(user=staff, kind="assignment.returned").exists()


# --- withdrawal by the office ---------------------------------------------------------------------


def test_withdrawing_the_lead_sends_the_proposal_back_for_reassignment(staff: User, assigned: Proposal) -> None:
    lead = lead_of(assigned)

    services.withdraw_assignment(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk, reason="改由市发改委主办")

    lead.refresh_from_db()
    assert (lead.status, fresh(assigned).status) == (AssignmentStatus.WITHDRAWN, Status.REGISTERED)
    assert lead.completed_at is not None
    event = assigned.events.get(action="withdraw_assignment")
    assert (event.audience, event.reason) == ("office", "改由市发改委主办")


def test_withdrawing_needs_a_reason(staff: User, assigned: Proposal) -> None:
    before = snapshot(assigned)

    with pytest.raises(InvalidInput) as refused:
        services.withdraw_assignment(
            actor=staff, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk, reason=""
        )

    assert refused.value.field == "reason"
    assert snapshot(assigned) == before


# --- only the office registers, assigns and withdraws --------------------------------------------------


@dataclass(frozen=True)
class Given:
    assigned: Proposal
    submitted: Proposal
    spare_bureau: Bureau


OFFICE_ACTIONS: dict[str, Callable[[User, Given], object]] = {
    "register": lambda actor, g: services.register(actor=actor, proposal_id=g.submitted.pk),
    "decline": lambda actor, g: services.decline_registration(actor=actor, proposal_id=g.submitted.pk, reason="重复"),
    "letter": lambda actor, g: services.convert_to_letter(actor=actor, proposal_id=g.submitted.pk, reason="个人诉求"),
    "merge": lambda actor, g: services.merge(actor=actor, proposal_id=g.submitted.pk, into_id=g.assigned.pk),
    "assign": lambda actor, g: services.assign(actor=actor, proposal_id=g.assigned.pk, separate=[g.spare_bureau.pk]),
    "withdraw": lambda actor, g: services.withdraw_assignment(
        actor=actor, proposal_id=g.assigned.pk, assignment_id=lead_of(g.assigned).pk, reason="改派"
    ),
}


@pytest.mark.parametrize("persona", ["deputy", "cosigner", "member", "expert", "handler", "handler_a", "outsider"])
@pytest.mark.parametrize("action", OFFICE_ACTIONS.keys())
def test_only_the_office_registers_assigns_and_withdraws(
    request: pytest.FixtureRequest, assigned: Proposal, cosigner: User, bureau_c: Bureau, persona: str, action: str
) -> None:
    given = Given(assigned, submit_new(cosigner, "待立案的另一件"), bureau_c)
    before = (snapshot(given.assigned), snapshot(given.submitted))

    with pytest.raises(NotAllowed):
        OFFICE_ACTIONS[action](request.getfixturevalue(persona), given)

    assert (snapshot(given.assigned), snapshot(given.submitted)) == before


def test_an_administrator_acts_for_the_office(admin_user: User, submitted: Proposal) -> None:
    services.register(actor=admin_user, proposal_id=submitted.pk)

    assert fresh(submitted).status == Status.REGISTERED
