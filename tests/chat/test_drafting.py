"""转为建议 (``chat.drafting``): a proposal draft started from a consultation holds the question, the expert's answer,
the recorded outcome and a link back, and each call's transcript attached as a text file; through the service and
the new-proposal page. The calls' tracks are transcribed by the real job (see ``test_call_transcripts``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from chat import drafting
from chat.models import Call, CallParticipant, CallState
from chat.services import post_message
from consult.desk import services as desk
from consult.kernel.exceptions import NotFound
from consult.models import Consultation, Outcome, User
from proposals import services as proposals
from proposals.models import Proposal, ProposalSession, Status
from tests.chat.test_call_transcripts import (  # noqa: F401 (fixtures)
    DEPUTY_SAID,
    EXPERT_SAID,
    media,
    no_worker,
    transcribed_track,
)
from tests.proposals import conftest as proposal_fixtures

npc_session = proposal_fixtures.npc_session

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "翠湖新村的孩子明年划到哪所小学？"
ANSWER = "划片方案下个月在区教育局网站公示。"


@pytest.fixture
def answered(consultation: Consultation, deputy: User, expert: User, media: Path) -> Consultation:  # noqa: F811
    """The deputy asked in writing and by a call, the expert answered both, recorded 转为建议 and ended it."""
    post_message(actor=deputy, consultation_id=consultation.pk, client_id="q-1", body=QUESTION)
    post_message(actor=expert, consultation_id=consultation.pk, client_id="a-1", body=ANSWER)
    now = timezone.now()
    call = Call.objects.create(
        consultation=consultation,
        started_by=deputy,
        janus_url="ws://127.0.0.1:1",
        room=1,
        state=CallState.ENDED,
        answered_at=now,
        ended_at=now,
        rec_dir="calls/x",
    )
    call.rec_dir = f"calls/{call.pk}"
    call.save(update_fields=["rec_dir"])
    CallParticipant.objects.create(call=call, user=deputy, role="deputy", joined_at=now, left_at=now)
    CallParticipant.objects.create(call=call, user=expert, role="expert", joined_at=now, left_at=now)
    transcribed_track(call, deputy, media, 1_000_000_000, DEPUTY_SAID)
    transcribed_track(call, expert, media, 1_002_500_000, EXPERT_SAID)
    desk.record_outcome(actor=expert, consultation_id=consultation.pk, outcome=Outcome.PROPOSAL, note="建议增加学位")
    desk.end_consultation(actor=expert, consultation_id=consultation.pk)
    return consultation


def test_the_draft_holds_the_question_the_answer_the_outcome_and_a_link_back(
    answered: Consultation, deputy: User, expert: User
) -> None:
    seed = drafting.draft_from_consultation(actor=deputy, consultation_id=answered.pk)

    assert (seed.title, seed.wished_lead_bureau_id) == (answered.topic, answered.bureau_id)
    assert f"/desk/consultations/{answered.pk}/" in seed.body
    question, answer = seed.body.index(QUESTION), seed.body.index(f"{expert.full_name}：{ANSWER}")
    assert question < answer
    assert "转为建议" in seed.body
    assert "建议增加学位" in seed.body
    [record] = seed.calls
    assert record.name in seed.body
    assert record.text.splitlines()[2:] == [
        f"[00:00] {deputy.full_name}（代表）：您好，我想问学区划分的事。",
        f"[00:03] {expert.full_name}（专家）：学区划分方案下月公示。",
        f"[00:04] {deputy.full_name}（代表）：谢谢。",
    ]


def test_saving_it_attaches_each_calls_transcript(
    answered: Consultation, deputy: User, npc_session: ProposalSession
) -> None:
    seed = drafting.draft_from_consultation(actor=deputy, consultation_id=answered.pk)
    content = proposals.DraftContent(
        title=seed.title, body=seed.body, category="教育", wished_lead_bureau_id=seed.wished_lead_bureau_id
    )

    proposal = drafting.start_proposal(actor=deputy, consultation_id=answered.pk, content=content)

    [attachment] = proposal.attachments.all()
    assert (proposal.status, proposal.proposer, attachment.name) == (Status.DRAFT, deputy, seed.calls[0].name)
    assert attachment.content_type == "text/plain"
    with attachment.file.open("rb") as stored:
        assert stored.read().decode() == seed.calls[0].text


@pytest.mark.parametrize("who", ["cosigner", "expert", "staff"])
def test_only_the_consultations_deputy_starts_a_draft_from_it(
    answered: Consultation, who: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(NotFound):
        drafting.draft_from_consultation(actor=request.getfixturevalue(who), consultation_id=answered.pk)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_prefills_the_draft_and_saving_it_attaches_the_transcript(
    answered: Consultation, deputy: User, npc_session: ProposalSession
) -> None:
    url = f"/proposals/new/?consultation={answered.pk}"

    page = signed_in(deputy).get(url).content.decode()

    assert QUESTION in page
    assert ANSWER in page
    assert f'data-from-consultation="{answered.pk}"' in page
    assert "保存草稿时将附上其 1 次通话的转写。" in page
    seed = drafting.draft_from_consultation(actor=deputy, consultation_id=answered.pk)
    form = {
        "title": seed.title,
        "body": seed.body,
        "category": "教育",
        "wished_lead_bureau_id": str(answered.bureau_id),
        "publication_consent": "on",
        "publication_refusal_reason": "",
    }
    response = signed_in(deputy).post(url, form)

    proposal = Proposal.objects.get(proposer=deputy)
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    assert QUESTION in proposal.body
    assert [a.name for a in proposal.attachments.all()] == [seed.calls[0].name]


def test_a_plain_new_draft_attaches_nothing(deputy: User, answered: Consultation, npc_session: ProposalSession) -> None:
    form = {"title": "另一件建议", "body": "正文", "category": "教育", "publication_consent": "on"}

    assert signed_in(deputy).post("/proposals/new/", form).status_code == 302

    assert not Proposal.objects.get(proposer=deputy).attachments.exists()
