"""Timeline details the platform composes (issue 15, point 12) read in the reader's language, page and API alike;
what people wrote stays as they wrote it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from consult.models import User
from proposals import services
from proposals.models import ProposalEvent
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
    send_reply: Send, deputy: User, cosigner: User, staff: User
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


def test_what_people_wrote_is_never_translated(send_reply: Send, deputy: User, staff: User) -> None:
    reply = send_reply("A")
    services.close(actor=staff, proposal_id=reply.proposal_id, reason="反馈期已满")

    assert _timeline(deputy, reply.proposal_id, "en")["close"] == "反馈期已满"


def test_a_category_is_stored_as_its_code_and_shown_in_the_readers_language(send_reply: Send, deputy: User) -> None:
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
    assert english["category_label"] != english["category"] and english["category_label"].isascii()
    assert f"<dd>{english['category_label']}</dd>" in page
