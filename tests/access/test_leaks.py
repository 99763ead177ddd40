"""The three leaks of issue 9, as plain tests, and the search document's acl for former invitees.

Rules (the access rules document): a reply's internal wording and its contact fields go to the office,
the bureaus (their own at any status, others' once sent; a co-handler the lead's while in sign-off) and
the recipients once sent; everyone else reads only the published wording of sent replies that have one.
Communication records go to the office, the recording bureau and the recipients only.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.test import Client
from django.utils import timezone

from proposals import services
from proposals.models import Proposal, Reply
from proposals.search import proposal_document
from search import indexing
from tests.access.conftest import signed_in
from tests.access.world import (
    World,
    accept_all,
    assigned,
    assignment,
    communicate,
    draft_reply,
    handled,
    lead_reply_sent,
    make_cast,
    publish,
    review,
    sign_off,
    submit_reply,
)


def page_of(client: Client, proposal: Proposal) -> str:
    response = client.get(f"/proposals/{proposal.pk}/")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def separate(w: World, key: str) -> Proposal:
    """分办 to bureaus B and C, both accepted, each with a communication."""
    proposal = assigned(w, key, separate=True)
    accept_all(w, proposal)
    communicate(w, proposal, "lead_handler", "B")
    communicate(w, proposal, "separate_handler", "C")
    return proposal


def test_a_member_reads_no_unpublished_reply_of_a_published_separate_proposal(db: None) -> None:
    """Leak 1: the page fell back from the published wording to the internal body."""
    w = make_cast()
    proposal = separate(w, "leak-one")
    replies: dict[str, Reply] = {}
    for persona, code in (("lead_handler", "B"), ("separate_handler", "C")):
        replies[code] = draft_reply(w, proposal, persona, code)
        submit_reply(w, proposal, persona, code)
        review(w, proposal, replies[code])
    publish(w, proposal, replies["B"], worded=True)
    published, unpublished = (Reply.objects.get(pk=replies[code].pk) for code in ("B", "C"))

    html = page_of(signed_in(w["other_member"]), proposal)

    assert published.public_body.split()[0] in html  # the published wording is there
    assert unpublished.body.split()[0] not in html  # the other bureau's reply is not, in any wording
    for reply in (published, unpublished):
        assert reply.contact_phone not in html
        assert reply.contact_person not in html


def test_a_separate_bureau_does_not_read_the_other_bureaus_reply_under_review(db: None) -> None:
    """Leak 2: bureau C's handler read bureau B's reply while the office was still reviewing it."""
    w = make_cast()
    proposal = separate(w, "leak-two")
    reply_c = draft_reply(w, proposal, "separate_handler", "C")
    submit_reply(w, proposal, "separate_handler", "C")
    review(w, proposal, reply_c)
    reply_b = draft_reply(w, proposal, "lead_handler", "B")
    submit_reply(w, proposal, "lead_handler", "B")
    assert Reply.objects.get(pk=reply_b.pk).status == "review"

    html = page_of(signed_in(w["separate_handler"]), proposal)

    assert reply_c.body.split()[0] in html  # its own reply
    assert reply_b.body.split()[0] not in html
    assert reply_b.contact_phone not in html
    assert reply_b.contact_person not in html


def test_a_deputy_gets_no_communication_records_of_a_published_proposal(db: None) -> None:
    """Leak 3: once published, any deputy got ``communications[]`` through the API, phone numbers included."""
    w = make_cast()
    proposal = handled(w, "leak-three")
    summary = "电话联系王建国代表（手机13900001111），约定下周现场查看区间车站点。"
    services.record_communication(
        actor=w["lead_handler"],
        proposal_id=proposal.pk,
        assignment_id=assignment(proposal, w.bureaus["B"]).pk,
        channel="phone",
        occurred_on=timezone.localdate(),
        summary=summary,
    )
    reply = draft_reply(w, proposal, "lead_handler", "B")
    submit_reply(w, proposal, "lead_handler", "B")
    sign_off(w, proposal, reply)
    review(w, proposal, reply)
    publish(w, proposal, reply, worded=False)

    response = signed_in(w["other_deputy"]).get(f"/api/proposals/{proposal.pk}/")

    assert response.status_code == 200
    detail = response.json()
    assert not detail.get("communications")
    text = json.dumps(detail, ensure_ascii=False)
    assert "13900001111" not in text
    assert "约定下周现场查看" not in text
    # the recipients still get them
    mine = signed_in(w["proposer"]).get(f"/api/proposals/{proposal.pk}/").json()
    assert "13900001111" in json.dumps(mine, ensure_ascii=False)


def test_the_search_acl_leaves_out_former_invitees_while_sent_replies_are_indexed(db: None, search_dir: Path) -> None:
    """Last row of the rules: before publication the document carries the sent replies' bodies, so its acl
    omits former invitees (declined, dropped) and invitees; after publication it is public."""
    w = make_cast()
    proposal, reply = lead_reply_sent(w, "acl")
    former = {w["declined"].pk, w["invitee"].pk}  # declined; invited, then dropped before submission
    before = proposal_document(proposal)
    assert reply.body.split()[0] in before.texts["replies"]
    assert not {f"user:{pk}" for pk in former} & set(before.acl), before.acl
    assert {f"user:{w['proposer'].pk}", f"user:{w['cosigner'].pk}", "office"} <= set(before.acl)

    # and through the search API: the former invitee does not find the reply's words
    indexing.drain()
    marker = reply.body.split()[0]
    for persona, found in (("declined", False), ("invitee", False), ("proposer", True)):
        body = signed_in(w[persona]).get("/api/search/proposals/", {"q": marker}).json()
        assert (proposal.pk in {hit["id"] for hit in body["results"]}) is found, persona

    publish(w, proposal, reply, worded=True)
    after = proposal_document(Proposal.objects.get(pk=proposal.pk))
    assert "public" in after.acl
    assert marker not in after.texts["replies"]  # only the published wording is indexed now


def test_a_published_proposals_own_text_reaches_readers_without_contact_details(db: None, search_dir: Path) -> None:
    """Published material never carries contact details: the proposal's text itself, on the page, in the API
    and in search, for a reader; the parties still read it as written."""
    w = make_cast()
    proposal, reply = lead_reply_sent(w, "body-phone")
    Proposal.objects.filter(pk=proposal.pk).update(body="区间车站点请联系王建国代表（手机13900002222）商定。")
    publish(w, proposal, reply, worded=True)
    indexing.drain()
    reader = signed_in(w["other_member"])

    page = page_of(reader, proposal)
    api = json.dumps(reader.get(f"/api/proposals/{proposal.pk}/").json(), ensure_ascii=False)
    hits = json.dumps(reader.get("/api/search/proposals/", {"q": "区间车站点"}).json(), ensure_ascii=False)

    for layer, text in (("page", page), ("api", api), ("search", hits)):
        assert "13900002222" not in text, layer
    assert "区间车站点" in page
    assert "区间车站点" in api
    assert str(proposal.pk) in hits
    assert "13900002222" in page_of(signed_in(w["proposer"]), proposal)
