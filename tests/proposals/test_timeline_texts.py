"""Timeline details the platform composes (issue 15, point 12) read in the reader's language, page and API alike;
what people wrote stays as they wrote it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from consult.models import Bureau, User
from proposals import services, texts
from proposals.models import DayKind, Proposal, ProposalEvent
from proposals.services.calendar import calendar_changed
from tests.proposals.conftest import lead_of
from tests.proposals.test_calendar_recompute import SATURDAY, add_day, fresh_calendar_cache, pin  # noqa: F401
from tests.proposals.test_feedback import Send, rate, send_reply  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _timeline(user: User, proposal_id: int, language: str | None) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    data = client.get(reverse("api-proposal-detail", args=[proposal_id])).json()
    return {event["action"]: event["reason"] for event in data["timeline"]}


def test_a_paper_rating_and_a_reply_class_read_in_each_readers_language(
    send_reply: Send,  # noqa: F811
    deputy: User,
    cosigner: User,
    staff: User,
) -> None:
    reply = send_reply("A")
    rate(cosigner, reply)
    services.record_paper_feedback(
        actor=staff,
        proposal_id=reply.proposal_id,
        reply_id=reply.pk,
        rater_id=deputy.pk,
        contact="satisfied",
        attitude="satisfied",
        result="basically",
    )
    paper = ProposalEvent.objects.filter(proposal_id=reply.proposal_id, action="rate_reply").last()
    assert paper is not None
    assert (paper.code, paper.reason) == ("timeline.rated_on_paper", "基本满意（纸质表）")

    english = _timeline(deputy, reply.proposal_id, "en")
    chinese = _timeline(deputy, reply.proposal_id, None)

    assert english["rate_reply"] == "Basically satisfied (paper form)"
    assert chinese["rate_reply"] == "基本满意（纸质表）"
    assert english["send_reply"].endswith(": A: solved or mostly solved")
    assert chinese["send_reply"].endswith("：A类：已解决或基本解决")


def test_what_people_wrote_is_never_translated(send_reply: Send, deputy: User, staff: User) -> None:  # noqa: F811
    reply = send_reply("A")
    services.close(actor=staff, proposal_id=reply.proposal_id, reason="反馈期已满")

    assert _timeline(deputy, reply.proposal_id, "en")["close"] == "反馈期已满"


def test_a_category_is_stored_as_its_code_and_shown_in_the_readers_language(
    send_reply: Send,  # noqa: F811
    deputy: User,
) -> None:
    reply = send_reply("A")
    client = Client()
    client.force_login(deputy)
    url = reverse("api-proposal-detail", args=[reply.proposal_id])

    chinese = client.get(url).json()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url).json()
    page = client.get(reverse("proposal-detail", args=[reply.proposal_id])).content.decode()

    assert chinese["category"] == english["category"]  # the code does not change with the language
    assert chinese["category_label"] == chinese["category"], sorted(chinese)
    assert english["category_label"] != english["category"]
    assert english["category_label"].isascii()
    assert f"<dd>{english['category_label']}</dd>" in page


def test_a_calendar_change_reads_in_each_readers_language(
    registered: Proposal, staff: User, deputy: User, bureau_b: Bureau, django_capture_on_commit_callbacks: object
) -> None:
    # given an assignment whose reply falls due on a Monday (pinned far from today, as the calendar tests do)
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    held = pin(lead_of(registered))
    monday = SATURDAY + timedelta(days=2)
    tuesday = monday + timedelta(days=1)

    # when the Monday becomes a holiday
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        add_day(monday, DayKind.HOLIDAY, "端午节")
        calendar_changed([monday], actor=staff)

    # then the entry is stored as a code, its wording in the site's language
    event = ProposalEvent.objects.get(proposal=held.proposal, action="recompute_deadlines", audience="public")
    assert event.code == "timeline.calendar_changed"
    day, new = monday.isoformat(), tuesday.isoformat()
    assert event.reason == f"工作日历调整（{day} 端午节（法定节假日））：{bureau_b.name}：答复期限 {day} → {new}"
    # and each reader reads it in their language; the day's name and the bureau's are data, kept as entered
    english = _timeline(deputy, registered.pk, "en")["recompute_deadlines"]
    assert english == f"Calendar changed ({day} 端午节 (statutory holiday)): {bureau_b.name}: reply due {day} → {new}"
    assert _timeline(deputy, registered.pk, None)["recompute_deadlines"] == event.reason


def test_several_days_and_deadlines_are_joined_in_the_readers_language() -> None:
    said = texts.calendar_changed(
        [texts.WORKING_DAY(day="2031-06-07"), texts.DAY_OFF(day="2031-06-09")],
        [
            texts.deadline_moved("市交通委", "reply_due", date(2031, 6, 9), date(2031, 6, 10)),
            texts.deadline_moved("市交通委", "return_by", date(2031, 6, 9), date(2031, 6, 11)),
        ],
    )
    with translation.override("en"):
        assert str(said) == (
            "Calendar changed (2031-06-07 ordinary working day, 2031-06-09 ordinary day off): "
            "市交通委: reply due 2031-06-09 → 2031-06-10; 市交通委: return window ends 2031-06-09 → 2031-06-11"
        )
    assert said.in_default_language() == (
        "工作日历调整（2031-06-07 恢复为工作日、2031-06-09 恢复为休息日）："
        "市交通委：答复期限 2031-06-09 → 2031-06-10；市交通委：退办期限 2031-06-09 → 2031-06-11"
    )
