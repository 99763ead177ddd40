"""公开: a sent reply is due for publication within ``publication_working_days`` working days (when the proposer
agreed), the office is reminded as it comes due and when it is late, the supervision desk lists the late ones,
publishing twice is one publication, and published wording carries no contact details in any spelling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from consult.kernel.exceptions import InvalidTransition
from consult.models import Bureau, Notification, User
from proposals import services, workdays
from proposals.masking import strip_contact_details
from proposals.models import CalendarDay, DayKind, Proposal, ProposalEvent, PublicationReminder, Reply
from proposals.rules import current_rules
from tests.proposals.conftest import lead_of
from tests.proposals.test_reply import approve, reply_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_calendar_cache() -> Iterator[None]:
    workdays.clear_cache()
    yield
    workdays.clear_cache()


@pytest.fixture
def lead_only(registered: Proposal, staff: User, handler: User, bureau_b: Bureau) -> Proposal:
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=lead_of(registered).pk)
    return Proposal.objects.get(pk=registered.pk)


def sent_reply(
    proposal: Proposal, handler: User, staff: User, body: str = "已列入计划，联系电话13800138000。"
) -> Reply:
    reply = reply_of(handler, proposal, lead_of(proposal), body=body)
    return Reply.objects.get(pk=approve(staff, proposal, reply).pk)


def by_hand(start: date, count: int, holidays: set[date]) -> date:
    """``count`` working days after ``start``, counted here without the library: weekdays that are not holidays."""
    day = start
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            count -= 1
    return day


def office_reminders(user: User) -> list[str]:
    kinds = Notification.objects.filter(user=user, kind__startswith="publication.").values_list("kind", flat=True)
    return sorted(kinds)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


# --- the due date ---------------------------------------------------------------------------------------


def test_publication_due_counts_working_days_on_a_hand_edited_calendar(
    lead_only: Proposal, handler: User, staff: User
) -> None:
    # given an administrator made the third working day from today a holiday
    today = timezone.localdate()
    holiday = by_hand(today, 3, set())
    CalendarDay.objects.create(date=holiday, kind=DayKind.HOLIDAY, name="临时休假")
    days = current_rules().publication_working_days

    # when the office sends the reply of a proposal whose proposer agreed to publication
    reply = sent_reply(lead_only, handler, staff)

    # then publication is due the 20th working day after today, the holiday not counted
    assert reply.publication_due == by_hand(today, days, {holiday})
    assert reply.publication_due > by_hand(today, days, set())
    assert reply.due_basis["publication_due"] == {"start": today.isoformat(), "working_days": days}


def test_no_publication_due_when_the_proposer_did_not_agree(lead_only: Proposal, handler: User, staff: User) -> None:
    Proposal.objects.filter(pk=lead_only.pk).update(publication_consent=False, publication_refusal_reason="涉及隐私")

    reply = sent_reply(Proposal.objects.get(pk=lead_only.pk), handler, staff)

    assert reply.publication_due is None


def test_each_separate_reply_is_due_from_its_own_sending(
    separate_sent: tuple[Reply, Reply],
) -> None:
    # 分办: both bureaus' replies were sent today; each carries its own due date
    first, second = separate_sent
    assert first.publication_due == second.publication_due is not None
    assert first.pk != second.pk


@pytest.fixture
def separate_sent(
    registered: Proposal, staff: User, handler: User, handler_c: User, bureau_b: Bureau, bureau_c: Bureau
) -> tuple[Reply, Reply]:
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    sent = []
    for actor, bureau in ((handler, bureau_b), (handler_c, bureau_c)):
        assignment = registered.assignments.get(bureau=bureau)
        services.accept_assignment(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
        reply = reply_of(actor, registered, assignment)
        sent.append(Reply.objects.get(pk=approve(staff, registered, reply).pk))
    return sent[0], sent[1]


# --- reminders to the office ----------------------------------------------------------------------------


@pytest.fixture
def awaiting(lead_only: Proposal, handler: User, staff: User) -> Reply:
    """A sent reply awaiting publication, due Monday Oct 12 2026 (after 国庆节, on the seeded calendar)."""
    workdays.seed_calendar([2026])
    reply = sent_reply(lead_only, handler, staff)
    Reply.objects.filter(pk=reply.pk).update(publication_due=date(2026, 10, 12))
    return Reply.objects.get(pk=reply.pk)


def test_office_is_reminded_once_as_publication_comes_due(awaiting: Reply, staff: User, handler: User) -> None:
    # when the sweep runs on Sep 30 (4 working days before: Oct 8, 9, 10 调休, 12) and again later that day
    first = services.sweep_deadlines(now=at(9, 30))
    again = services.sweep_deadlines(now=at(9, 30, 15))

    # then the office got one reminder; the bureau none
    assert (first.publication_reminders, again.publication_reminders) == (1, 0)
    assert office_reminders(staff) == ["publication.soon"]
    assert office_reminders(handler) == []


def test_office_is_reminded_once_when_publication_is_overdue(awaiting: Reply, staff: User) -> None:
    services.sweep_deadlines(now=at(9, 30))

    late = services.sweep_deadlines(now=at(10, 13))
    later = services.sweep_deadlines(now=at(10, 14))

    assert (late.publication_reminders, later.publication_reminders) == (1, 0)
    assert office_reminders(staff) == ["publication.overdue", "publication.soon"]
    assert sorted(PublicationReminder.objects.values_list("level", flat=True)) == ["overdue", "soon"]


def test_publication_reminders_wait_for_working_hours(awaiting: Reply, staff: User) -> None:
    report = services.sweep_deadlines(now=at(10, 3))  # 国庆节

    assert report.skipped_outside_working_hours
    assert office_reminders(staff) == []


def test_a_published_reply_is_not_reminded(awaiting: Reply, staff: User) -> None:
    services.publish(actor=staff, proposal_id=awaiting.proposal_id, reply_id=awaiting.pk)

    report = services.sweep_deadlines(now=at(10, 13))

    assert report.publication_reminders == 0
    assert office_reminders(staff) == []


# --- the overdue view -----------------------------------------------------------------------------------


def test_supervision_desk_lists_overdue_publication(lead_only: Proposal, handler: User, staff: User) -> None:
    # given a reply whose publication was due yesterday
    reply = sent_reply(lead_only, handler, staff)
    yesterday = timezone.localdate() - timedelta(days=1)
    Reply.objects.filter(pk=reply.pk).update(publication_due=yesterday)

    # when the office opens the supervision desk
    client = Client()
    client.force_login(staff)
    page = client.get("/office/supervision/").content.decode()

    # then the proposal is in the publication-overdue section, with its due date
    section = page.split('id="publication-overdue"', 1)[1].split("</section>", 1)[0]
    assert lead_only.title in section
    assert yesterday.isoformat() in section
    assert 'data-count="publication_overdue">1<' in page


def test_list_api_filters_proposals_whose_publication_is_overdue(
    lead_only: Proposal, handler: User, staff: User
) -> None:
    reply = sent_reply(lead_only, handler, staff)
    client = Client()
    client.force_login(staff)

    def found(value: str) -> set[int]:
        return {p["id"] for p in client.get("/api/proposals/", {"publication": value}).json()["results"]}

    assert found("awaiting") == {lead_only.pk}
    assert found("overdue") == set()
    Reply.objects.filter(pk=reply.pk).update(publication_due=timezone.localdate() - timedelta(days=1))
    assert found("overdue") == {lead_only.pk}


# --- publishing twice -----------------------------------------------------------------------------------


def test_publishing_twice_is_one_publication(lead_only: Proposal, handler: User, staff: User) -> None:
    reply = sent_reply(lead_only, handler, staff)
    first = services.publish(actor=staff, proposal_id=lead_only.pk, reply_id=reply.pk)
    published_at = Proposal.objects.get(pk=lead_only.pk).published_at
    notifications = Notification.objects.count()

    # when the office publishes the same reply again (a double click, a retried request)
    second = services.publish(actor=staff, proposal_id=lead_only.pk, reply_id=reply.pk)

    # then it answers with the first publication and changes nothing
    assert (second.public_body, second.published_at) == (first.public_body, first.published_at)
    assert Proposal.objects.get(pk=lead_only.pk).published_at == published_at
    assert ProposalEvent.objects.filter(proposal=lead_only, action="publish").count() == 1
    assert Notification.objects.count() == notifications


def test_publishing_again_with_another_text_is_refused(lead_only: Proposal, handler: User, staff: User) -> None:
    reply = sent_reply(lead_only, handler, staff)
    first = services.publish(actor=staff, proposal_id=lead_only.pk, reply_id=reply.pk)

    with pytest.raises(InvalidTransition) as refused:
        services.publish(actor=staff, proposal_id=lead_only.pk, reply_id=reply.pk, public_body="另一段文字。")

    assert refused.value.code == "already_published"
    assert Reply.objects.get(pk=reply.pk).public_body == first.public_body


def test_publishing_twice_through_the_api_answers_alike(lead_only: Proposal, handler: User, staff: User) -> None:
    reply = sent_reply(lead_only, handler, staff)
    client = Client()
    client.force_login(staff)
    url = f"/api/proposals/{lead_only.pk}/publish/"

    first = client.post(url, {"reply_id": reply.pk}, content_type="application/json")
    second = client.post(url, {"reply_id": reply.pk}, content_type="application/json")

    assert first.status_code == second.status_code == 200, second.content
    assert ProposalEvent.objects.filter(proposal=lead_only, action="publish").count() == 1


# --- masking --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "13900001111",
        "139-0000-1111",
        "139 0000 1111",
        "+86 139 0000 1111",
        "+86-13900001111",
        "１３９００００１１１１",
        "0571-88886666",
        "0571 88886666",
        "057188886666",
        "(0571)88886666",
        "（0571）88886666",
        "0571-8888-6666",
        "0571-88886666转123",
        "88886666",
        "400-800-1234",
    ],
)
def test_every_phone_spelling_is_masked(spelling: str) -> None:
    masked = strip_contact_details(f"请联系{spelling}了解进展。")

    assert masked == "请联系【已隐去】了解进展。"


def test_a_contact_note_beside_a_name_disappears_with_its_brackets() -> None:
    text = "电话联系王建国代表（手机13900001111）并当面听取意见；联系人：李明，邮箱li@hb.gov.cn。"

    assert strip_contact_details(text) == "电话联系王建国代表并当面听取意见；联系人：【已隐去】，邮箱【已隐去】。"


@pytest.mark.parametrize(
    "text",
    ["2025-2027年规划", "投资30000000元", "编号2027-建-0012", "2027年3月15日", "第12000000号"],
)
def test_years_amounts_and_numbers_are_not_mistaken_for_phones(text: str) -> None:
    assert strip_contact_details(text) == text


def test_the_published_reply_masks_every_contact_form(lead_only: Proposal, handler: User, staff: User) -> None:
    body = "经与王建国代表（手机13900001111）沟通，已列入计划。咨询电话0571-88886666，或139-0000-1111。"
    reply = sent_reply(lead_only, handler, staff, body=body)

    published = services.publish(actor=staff, proposal_id=lead_only.pk, reply_id=reply.pk)

    assert published.public_body == "经与王建国代表沟通，已列入计划。咨询电话【已隐去】，或【已隐去】。"
    assert not any(digit in published.public_body for digit in "0123456789")
