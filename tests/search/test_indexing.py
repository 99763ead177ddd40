"""Keeping the index in step with the database: the outbox, draining, permissions, check and rebuild.

Everything here runs on the real database and the embedded engine in a scratch directory (``search_dir``):
the services write outbox rows (``PendingChange``) in their own transaction, ``drain`` indexes them, and
what a persona finds through the engine is compared with what ``visible_to`` lets them see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from chat import services as chat
from chat.models import Message
from consult.desk import services as desk
from consult.desk.access import consultations_visible_to
from consult.desk.access import search_keys as message_keys
from consult.models import Bureau, Consultation, User
from proposals import services
from proposals.access import search_keys as proposal_keys
from proposals.models import Proposal, ProposalSession
from proposals.search import proposal_document
from search import indexing
from search.backends import SearchBackend, get_backend
from search.documents import SearchDocument, SearchQuery, version_key
from search.indexing import drain, queue_change
from search.models import PendingChange
from tests.chat.conftest import open_consultation
from tests.factories import ExpertProfileFactory
from tests.proposals.conftest import content, lead_of
from tests.required import skip_or_fail

EVERYTHING = 10_000


def queued(label: str = "proposal") -> set[int]:
    return set(PendingChange.objects.filter(label=label).values_list("object_id", flat=True))


def engine_finds(
    doc_type: str, text: str = "", keys: Sequence[str] | None = None, backend: SearchBackend | None = None
) -> set[int]:
    query = SearchQuery(doc_type=doc_type, text=text, acl=keys, limit=EVERYTHING)
    return {hit.object_id for hit in (backend or get_backend()).search(query).hits}


def titles_found(text: str) -> list[str]:
    ids = engine_finds("proposal", text)
    return sorted(Proposal.objects.filter(pk__in=ids).values_list("title", flat=True))


# --- the outbox ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_a_draft_queues_its_document_in_the_same_transaction(
    deputy: User, npc_session: ProposalSession
) -> None:
    proposal = services.create_draft(actor=deputy, content=content())

    assert queued() == {proposal.pk}


@pytest.mark.django_db
def test_every_step_of_the_cycle_queues_the_proposal_once(assigned: Proposal) -> None:
    # created, submitted, registered and assigned: one row, the latest change's time
    assert queued() == {assigned.pk}
    assert PendingChange.objects.count() == 1


@pytest.mark.django_db
def test_editing_a_draft_queues_it(draft: Proposal, deputy: User) -> None:
    PendingChange.objects.all().delete()

    services.update_draft(actor=deputy, proposal_id=draft.pk, content=content(title="关于增开东湖区夜间公交的建议"))

    assert queued() == {draft.pk}


@pytest.mark.django_db
def test_merging_queues_both_proposals(cosigner: User, staff: User, registered: Proposal) -> None:
    duplicate = services.create_draft(actor=cosigner, content=content(title="关于优化东湖区公交线路的建议"))
    services.submit(actor=cosigner, proposal_id=duplicate.pk)
    PendingChange.objects.all().delete()

    services.merge(actor=staff, proposal_id=duplicate.pk, into_id=registered.pk)

    assert queued() == {duplicate.pk, registered.pk}


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_outbox_row(deputy: User, npc_session: ProposalSession) -> None:
    def request_failing_after_the_draft() -> None:
        with transaction.atomic():
            services.create_draft(actor=deputy, content=content())
            raise RuntimeError("the request failed after the draft was written")

    with pytest.raises(RuntimeError):
        request_failing_after_the_draft()

    assert not Proposal.objects.exists()
    assert PendingChange.objects.count() == 0


@pytest.mark.django_db
def test_posting_a_message_queues_it(deputy: User, expert: User, bureau_a: Bureau) -> None:
    consultation = open_consultation(deputy, expert, bureau_a)
    PendingChange.objects.all().delete()

    message, _ = chat.post_message(
        actor=deputy, consultation_id=consultation.pk, client_id="c1", body="课后服务收费标准是什么？"
    )

    assert queued("message") == {message.pk}


@pytest.mark.django_db
def test_a_consultation_changing_hands_queues_all_its_messages(
    deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    consultation = open_consultation(deputy, expert, bureau_a)
    PendingChange.objects.all().delete()

    desk.transfer_consultation(
        actor=expert, consultation_id=consultation.pk, note="属交通委职责", to_bureau_id=bureau_b.pk
    )

    assert queued("consultation") == {consultation.pk}


# --- draining --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_drain_indexes_what_is_queued_and_empties_the_outbox(search_dir: Path, submitted: Proposal) -> None:
    applied = drain()

    assert applied == 1
    assert PendingChange.objects.count() == 0
    assert engine_finds("proposal", "区间车") == {submitted.pk}
    assert get_backend().versions("proposal") == {submitted.pk: version_key(proposal_document(submitted).version)}


@pytest.mark.django_db
def test_drain_with_nothing_queued_does_nothing(search_dir: Path) -> None:
    assert drain() == 0


@pytest.mark.django_db
def test_a_registered_proposal_is_found_by_its_number(search_dir: Path, registered: Proposal) -> None:
    drain()
    number = f"{registered.session.year}-{registered.session.number_prefix}-{registered.number:04d}"

    assert engine_finds("proposal", number) == {registered.pk}
    assert engine_finds("proposal", f"第{registered.number:04d}号") == {registered.pk}


@pytest.mark.django_db
def test_drain_replaces_the_document_of_a_changed_proposal(search_dir: Path, draft: Proposal, deputy: User) -> None:
    drain()

    services.update_draft(actor=deputy, proposal_id=draft.pk, content=content(title="关于开通东湖区夜间公交专线的建议"))
    drain()

    assert titles_found("公交专线") == ["关于开通东湖区夜间公交专线的建议"]
    assert titles_found("早晚高峰公交线路") == []
    assert indexing.check("proposal").clean


@pytest.mark.django_db
def test_drain_batches_many_changes(search_dir: Path, deputy: User, npc_session: ProposalSession) -> None:
    drafts = [
        services.create_draft(actor=deputy, content=content(title=f"关于第{i}条公交线路的建议")) for i in range(7)
    ]

    assert drain(batch_size=3) == 7

    assert engine_finds("proposal", "公交线路") == {proposal.pk for proposal in drafts}


@pytest.mark.django_db
def test_a_deleted_message_leaves_the_index(search_dir: Path, deputy: User, expert: User, bureau_a: Bureau) -> None:
    consultation = open_consultation(deputy, expert, bureau_a)
    message, _ = chat.post_message(
        actor=deputy, consultation_id=consultation.pk, client_id="c1", body="学区划分怎么查？"
    )
    drain()
    assert engine_finds("message", "学区划分") == {message.pk}

    chat.delete_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk)
    drain()

    assert engine_finds("message", "学区划分") == set()


@pytest.mark.django_db
def test_a_proposal_deleted_from_the_database_leaves_the_index(search_dir: Path, draft: Proposal) -> None:
    drain()

    Proposal.objects.filter(pk=draft.pk).delete()
    queue_change("proposal", draft.pk)
    drain()

    assert engine_finds("proposal") == set()


class ConcurrentEdit:
    """The real engine, with a deputy editing the draft while its first batch is being indexed."""

    def __init__(self, engine: SearchBackend, deputy: User, proposal: Proposal) -> None:
        self.engine, self.deputy, self.proposal = engine, deputy, proposal
        self.titles_indexed: list[str] = []

    def index(self, doc_type: str, documents: Sequence[SearchDocument]) -> None:
        self.engine.index(doc_type, documents)
        self.titles_indexed.extend(document.texts["title"] for document in documents)
        if len(self.titles_indexed) == 1:
            new = content(title="关于开通东湖区夜间公交专线的建议")
            services.update_draft(actor=self.deputy, proposal_id=self.proposal.pk, content=new)

    def delete(self, doc_type: str, object_ids: Sequence[int]) -> None:
        self.engine.delete(doc_type, object_ids)


@pytest.mark.django_db
def test_a_change_queued_while_draining_is_not_lost(search_dir: Path, draft: Proposal, deputy: User) -> None:
    engine = ConcurrentEdit(get_backend(), deputy, draft)

    applied = drain(backend=engine)  # type: ignore[arg-type]

    # the first pass indexed the old title; the edit re-queued the row, so a second pass indexed the new one
    assert engine.titles_indexed == ["关于优化东湖区早晚高峰公交线路的建议", "关于开通东湖区夜间公交专线的建议"]
    assert applied == 2
    assert PendingChange.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_committed_changes_are_indexed_after_commit_without_a_worker_in_eager_mode(
    search_dir: Path, settings: Settings, deputy: User, npc_session: ProposalSession
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no Redis: the change is drained right after commit

    proposal = services.create_draft(actor=deputy, content=content())
    services.submit(actor=deputy, proposal_id=proposal.pk)

    assert PendingChange.objects.count() == 0
    assert engine_finds("proposal", "区间车", ["office"]) == {proposal.pk}


# --- who finds what: the engine's permission filter against visible_to ------------------------------------


@pytest.fixture
def cycle(
    deputy: User,
    cosigner: User,
    member: User,
    staff: User,
    handler: User,
    handler_a: User,
    handler_c: User,
    bureau_b: Bureau,
    bureau_c: Bureau,
    assigned: Proposal,
    cppcc_session: ProposalSession,
) -> dict[str, Proposal]:
    """Proposals of two chambers in most states, with co-signers, a merge, a return and a publication."""

    def submitted_by(author: User, title: str) -> Proposal:
        proposal = services.create_draft(actor=author, content=content(title=title))
        return services.submit(actor=author, proposal_id=proposal.pk)

    states: dict[str, Proposal] = {"assigned": assigned}
    states["draft"] = services.create_draft(actor=deputy, content=content(title="关于暂存中的公交建议"))
    states["submitted"] = submitted_by(deputy, "关于公交站台遮阳棚的建议")

    signed = services.create_draft(actor=deputy, content=content(title="关于联名公交票价的建议"))
    services.invite_cosigner(actor=deputy, proposal_id=signed.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=signed.pk, sign=True)
    states["cosigned"] = services.submit(actor=deputy, proposal_id=signed.pk)

    primary = submitted_by(deputy, "关于公交专用道的建议")
    states["primary"] = services.register(actor=staff, proposal_id=primary.pk)
    duplicate = submitted_by(cosigner, "关于设置公交专用道的建议")
    states["merged"] = services.merge(actor=staff, proposal_id=duplicate.pk, into_id=primary.pk)

    returned = services.register(actor=staff, proposal_id=submitted_by(deputy, "关于公交调度的建议").pk)
    services.assign(actor=staff, proposal_id=returned.pk, lead=bureau_b.pk)
    returned = Proposal.objects.get(pk=returned.pk)
    services.return_assignment(
        actor=handler, proposal_id=returned.pk, assignment_id=lead_of(returned).pk, reason="属于市发改委职责"
    )
    services.assign(actor=staff, proposal_id=returned.pk, lead=bureau_c.pk)
    states["reassigned"] = returned

    published = services.register(actor=staff, proposal_id=submitted_by(deputy, "关于公交票价的建议").pk)
    Proposal.objects.filter(pk=published.pk).update(published_at=timezone.now())  # as publish leaves it
    states["published"] = published

    states["cppcc_letter"] = services.convert_to_letter(
        actor=staff, proposal_id=submitted_by(member, "关于公交卡的提案").pk, reason="属个人诉求"
    )
    states["cppcc_draft"] = services.create_draft(actor=member, content=content(title="关于公交车厢空调的提案"))
    return states


PERSONAS = (
    "deputy",
    "cosigner",
    "member",
    "expert",
    "handler",
    "handler_a",
    "handler_c",
    "staff",
    "admin_user",
    "outsider",
)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_engine_finds_exactly_the_proposals_visible_to_each_persona(
    search_dir: Path, cycle: dict[str, Proposal], persona: str, request: pytest.FixtureRequest
) -> None:
    user: User = request.getfixturevalue(persona)
    indexing.rebuild("proposal")

    found = engine_finds("proposal", keys=proposal_keys(user))
    visible = set(Proposal.objects.visible_to(user).values_list("pk", flat=True))

    assert found <= visible, f"the engine shows {persona} proposals visible_to hides: {found - visible}"
    assert found == visible, f"the engine hides from {persona} proposals they may see: {visible - found}"


@pytest.mark.django_db
def test_an_anonymous_visitor_finds_nothing(search_dir: Path, cycle: dict[str, Proposal]) -> None:
    indexing.rebuild("proposal")

    assert proposal_keys(AnonymousUser()) == []
    assert engine_finds("proposal", keys=proposal_keys(AnonymousUser())) == set()


@pytest.mark.django_db
def test_a_text_search_never_shows_what_visible_to_hides(
    search_dir: Path, cycle: dict[str, Proposal], request: pytest.FixtureRequest
) -> None:
    indexing.rebuild("proposal")

    for persona in PERSONAS:
        user: User = request.getfixturevalue(persona)
        visible = set(Proposal.objects.visible_to(user).values_list("pk", flat=True))
        assert engine_finds("proposal", "公交", proposal_keys(user)) <= visible, persona


@pytest.mark.django_db
def test_an_invited_co_signer_finds_the_draft_they_were_invited_to(
    search_dir: Path, deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    drain()

    assert Proposal.objects.visible_to(cosigner).filter(pk=draft.pk).exists()
    assert engine_finds("proposal", keys=proposal_keys(cosigner)) == {draft.pk}


@pytest.mark.django_db
def test_a_merged_proposer_finds_the_proposal_theirs_was_merged_into_after_drain(
    search_dir: Path, cosigner: User, staff: User, registered: Proposal
) -> None:
    duplicate = services.create_draft(actor=cosigner, content=content(title="关于设置公交区间车的建议"))
    services.submit(actor=cosigner, proposal_id=duplicate.pk)
    drain()
    assert registered.pk not in engine_finds("proposal", keys=proposal_keys(cosigner))

    services.merge(actor=staff, proposal_id=duplicate.pk, into_id=registered.pk)
    drain()

    assert engine_finds("proposal", keys=proposal_keys(cosigner)) == {duplicate.pk, registered.pk}


@pytest.mark.django_db
def test_a_bureau_finds_a_proposal_once_it_is_assigned_after_drain(
    search_dir: Path, staff: User, handler: User, bureau_b: Bureau, registered: Proposal
) -> None:
    drain()
    assert engine_finds("proposal", keys=proposal_keys(handler)) == set()

    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    drain()

    assert engine_finds("proposal", keys=proposal_keys(handler)) == {registered.pk}


# --- who finds which messages ----------------------------------------------------------------------------


@pytest.fixture
def expert_b(bureau_b: Bureau) -> User:
    return ExpertProfileFactory(user__username="expert-b", user__full_name="吴磊", bureau=bureau_b).user


@pytest.fixture
def consultations(
    deputy: User, member: User, expert: User, expert_b: User, bureau_a: Bureau, bureau_b: Bureau
) -> dict[str, Consultation]:
    """Active with the expert of bureau A; transferred by them to bureau B's queue; waiting; ended."""
    active = open_consultation(deputy, expert, bureau_a)
    chat.post_message(actor=deputy, consultation_id=active.pk, client_id="a1", body="课后服务收费标准在哪里公布？")
    chat.post_message(actor=expert, consultation_id=active.pk, client_id="a2", body="课后服务收费标准在教委网站公布。")

    transferred = desk.start_consultation(actor=member, bureau_id=bureau_a.pk, topic="公交线路调整")
    desk.route_bureau(bureau_id=bureau_a.pk)
    chat.post_message(actor=member, consultation_id=transferred.pk, client_id="t1", body="公交线路调整找谁？")
    desk.transfer_consultation(actor=expert, consultation_id=transferred.pk, note="属交通委", to_bureau_id=bureau_b.pk)

    desk.expert_disconnected(actor=expert)
    waiting = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分")
    chat.post_message(actor=deputy, consultation_id=waiting.pk, client_id="w1", body="学区划分什么时候公布？")

    ended = desk.start_consultation(actor=member, bureau_id=bureau_b.pk, topic="停车难")
    desk.end_consultation(actor=member, consultation_id=ended.pk)
    return {"active": active, "transferred": transferred, "waiting": waiting, "ended": ended}


MESSAGE_PERSONAS = ("deputy", "member", "expert", "expert_b", "handler", "staff", "outsider")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", MESSAGE_PERSONAS)
def test_the_engine_finds_exactly_the_messages_visible_to_each_persona(
    search_dir: Path, consultations: dict[str, Consultation], persona: str, request: pytest.FixtureRequest
) -> None:
    user: User = request.getfixturevalue(persona)
    indexing.rebuild("message")

    found = engine_finds("message", keys=message_keys(user))
    visible = set(
        Message.objects.filter(consultation__in=consultations_visible_to(user), deleted_at=None).values_list(
            "pk", flat=True
        )
    )

    assert found <= visible, f"the engine shows {persona} messages they may not see: {found - visible}"
    assert found == visible, f"the engine hides from {persona} messages they may see: {visible - found}"


@pytest.mark.django_db
def test_an_expert_finds_the_lines_of_a_consultation_once_it_reaches_their_queue(
    search_dir: Path, deputy: User, expert: User, expert_b: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    consultation = open_consultation(deputy, expert, bureau_a)
    chat.post_message(actor=deputy, consultation_id=consultation.pk, client_id="c1", body="公交线路调整找谁？")
    drain()
    assert engine_finds("message", "公交线路", message_keys(expert_b)) == set()

    desk.transfer_consultation(actor=expert, consultation_id=consultation.pk, note="属交通委", to_bureau_id=bureau_b.pk)
    drain()

    assert len(engine_finds("message", "公交线路", message_keys(expert_b))) == 1
    assert len(engine_finds("message", "公交线路", message_keys(expert))) == 1  # who handled it keeps it


# --- check and rebuild -----------------------------------------------------------------------------------


def stray_document() -> SearchDocument:
    """A document of a proposal the database does not have (987654)."""
    texts = {"title": "数据库里没有的建议"}
    return SearchDocument.of("proposal", 987654, texts=texts, keywords={}, acl=["office"], date=timezone.now())


def run(command: str, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def indexed(search_dir: Path, assigned: Proposal, deputy: User, expert: User, bureau_a: Bureau) -> Proposal:
    """A proposal and a consultation's messages, all indexed."""
    open_consultation(deputy, expert, bureau_a)
    drain()
    return assigned


@pytest.mark.django_db
def test_check_reports_a_clean_index(indexed: Proposal) -> None:
    output = run("search_check")

    assert "proposal: 1 in the database, 1 in the index; missing 0, stale 0, extra 0 — clean" in output
    assert "message: 2 in the database, 2 in the index; missing 0, stale 0, extra 0 — clean" in output


@pytest.mark.django_db
def test_check_reports_missing_stale_and_extra_documents(indexed: Proposal, deputy: User) -> None:
    missing = services.create_draft(actor=deputy, content=content(title="关于尚未索引的建议"))
    Proposal.objects.filter(pk=indexed.pk).update(title="改过但未重新索引的标题")  # no outbox row: stale
    get_backend().index("proposal", [stray_document()])

    with pytest.raises(CommandError, match="proposal"):
        run("search_check", "proposal")

    report = indexing.check("proposal")
    assert (report.missing, report.stale, report.extra) == ([missing.pk], [indexed.pk], [987654])


@pytest.mark.django_db
def test_check_names_what_differs_and_fails(indexed: Proposal, deputy: User) -> None:
    from io import StringIO

    missing = services.create_draft(actor=deputy, content=content(title="关于尚未索引的建议"))
    out = StringIO()

    with pytest.raises(CommandError, match=r"index differs from the database for: proposal \(run with --fix\)"):
        call_command("search_check", stdout=out)

    assert f"missing 1, stale 0, extra 0 (e.g. missing [{missing.pk}])" in out.getvalue()
    assert "1 changes still queued for indexing" in out.getvalue()


@pytest.mark.django_db
def test_check_fix_indexes_missing_documents(indexed: Proposal, deputy: User) -> None:
    services.create_draft(actor=deputy, content=content(title="关于尚未索引的建议"))

    output = run("search_check", "--fix")

    assert "proposal: repaired" in output
    assert indexing.check("proposal").clean
    assert "— clean" in run("search_check", "proposal")


@pytest.mark.django_db
def test_check_fix_repairs_stale_and_extra_documents(indexed: Proposal) -> None:
    Proposal.objects.filter(pk=indexed.pk).update(title="改过但未重新索引的标题")
    get_backend().index("proposal", [stray_document()])

    run("search_check", "--fix")

    assert indexing.check("proposal").clean
    assert titles_found("未重新索引") == ["改过但未重新索引的标题"]
    assert engine_finds("proposal", "数据库里没有") == set()


@pytest.mark.django_db
def test_rebuild_fills_a_new_index_and_swaps_the_alias(indexed: Proposal, search_dir: Path) -> None:
    before = (search_dir / "proposal.alias").read_text()
    Proposal.objects.filter(pk=indexed.pk).update(title="关于东湖区公交线网优化的建议")  # stale until the rebuild

    output = run("search_rebuild", "proposal")

    after = (search_dir / "proposal.alias").read_text()
    assert "proposal: 1 documents indexed on embedded in" in output
    assert "0 changed meanwhile and re-synced" in output
    assert after != before
    assert (search_dir / after).is_dir()
    assert not (search_dir / before).exists()
    assert titles_found("公交线网") == ["关于东湖区公交线网优化的建议"]
    assert indexing.check("proposal").clean


@pytest.mark.django_db
def test_rebuild_of_every_type_by_default(indexed: Proposal) -> None:
    output = run("search_rebuild")

    assert "message: 2 documents indexed" in output
    assert "proposal: 1 documents indexed" in output


@pytest.mark.django_db
def test_rebuild_keeps_an_empty_database_empty(search_dir: Path) -> None:
    assert "proposal: 0 documents indexed" in run("search_rebuild", "proposal")
    assert get_backend().versions("proposal") == {}


# --- what a document says --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_proposal_document_carries_its_filters(assigned: Proposal, bureau_a: Bureau, bureau_b: Bureau) -> None:
    document = proposal_document(Proposal.objects.get(pk=assigned.pk))

    assert document.texts["title"] == assigned.title
    assert document.keywords["status"] == ["assigned"]
    assert document.keywords["year"] == ["2027"]
    assert document.keywords["bureau"] == sorted([str(bureau_a.pk), str(bureau_b.pk)])
    assert document.keywords["number"] == [f"2027-建-{assigned.number:04d}", str(assigned.number)]
    assert set(document.acl) == {
        "office",
        f"user:{assigned.proposer_id}",
        f"bureau:{bureau_a.pk}",
        f"bureau:{bureau_b.pk}",
    }


@pytest.mark.django_db
def test_the_version_of_a_document_changes_with_its_content(draft: Proposal, deputy: User) -> None:
    before = proposal_document(draft).version

    services.update_draft(actor=deputy, proposal_id=draft.pk, content=content(body="换了一段正文。"))

    assert proposal_document(Proposal.objects.get(pk=draft.pk)).version != before


# --- what a reader of a published proposal may find ----------------------------------------------------


@pytest.fixture
def published_then_followed_up(
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    handler_a: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
    npc_session: ProposalSession,
) -> Proposal:
    """A class B reply, published (contact details hidden), then a follow-up reply that gives a phone number."""
    proposal = services.create_draft(actor=deputy, content=content())
    services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
    services.submit(actor=deputy, proposal_id=proposal.pk)
    services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    lead = lead_of(proposal)
    co = proposal.assignments.get(role="co")
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.submit_opinion(actor=handler_a, proposal_id=proposal.pk, assignment_id=co.pk, body="同意。")
    reply = services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead.pk,
        outcome_class="B",
        body="区间车已列入计划，联系电话0571-87650001。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.sign_off_reply(actor=handler_a, proposal_id=proposal.pk, reply_id=reply.pk, assignment_id=co.pk)
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)
    services.publish(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk)
    for rater in (deputy, cosigner):
        feedback = {"contact": "satisfied", "attitude": "satisfied", "result": "satisfied"}
        services.rate_reply(actor=rater, proposal_id=proposal.pk, reply_id=reply.pk, **feedback)
    services.send_follow_up_reply(
        actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk, body="区间车已开通，详询0571-87650002。"
    )
    return Proposal.objects.get(pk=proposal.pk)


@pytest.mark.django_db
def test_a_published_reply_is_found_without_its_contact_details(
    search_dir: Path, published_then_followed_up: Proposal, member: User
) -> None:
    drain()

    assert engine_finds("proposal", "区间车已列入计划", proposal_keys(member)) == {published_then_followed_up.pk}
    assert engine_finds("proposal", "87650001", proposal_keys(member)) == set()


@pytest.mark.django_db
def test_a_reader_of_a_published_proposal_cannot_find_it_by_an_unpublished_reply(
    search_dir: Path, published_then_followed_up: Proposal, member: User, deputy: User
) -> None:
    drain()

    # One document serves every reader: once published, only the published wording is searchable, for
    # everyone (the proposer still reads the follow-up reply on the proposal's page).
    assert engine_finds("proposal", "87650002", proposal_keys(member)) == set()
    assert engine_finds("proposal", "87650002", proposal_keys(deputy)) == set()


# --- a rebuild racing with a user's change -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_while_a_rebuild_runs_is_not_lost(
    search_dir: Path, settings: Settings, deputy: User, draft: Proposal
) -> None:
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail(f"this race needs PostgreSQL row locks; this run uses {connection.vendor}")
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing drains by itself: the outbox row of the draft waits
    assert queued() == {draft.pk}
    edited, release = threading.Event(), threading.Event()
    new_title = "关于开通东湖区夜间公交专线的建议"

    def deputy_edits_slowly() -> None:
        try:
            with transaction.atomic():
                services.update_draft(actor=deputy, proposal_id=draft.pk, content=content(title=new_title))
                edited.set()
                release.wait(DEADLINE_S)  # the request is still busy when the rebuild starts
        finally:
            connection.close()

    def rebuild() -> None:
        try:
            indexing.rebuild("proposal")
        finally:
            connection.close()

    editor = threading.Thread(target=deputy_edits_slowly)
    editor.start()
    assert edited.wait(DEADLINE_S)
    rebuilder = threading.Thread(target=rebuild)
    rebuilder.start()
    # the rebuild has read the database: it is done, or waits for the editor's lock on the outbox row
    wait_until(lambda: not rebuilder.is_alive() or blocked_on("DELETE FROM %search_pendingchange%"))
    release.set()
    editor.join(DEADLINE_S)
    rebuilder.join(DEADLINE_S)

    drain()

    assert titles_found("公交专线") == [new_title]


DEADLINE_S = 60.0  # a guard against hangs, not a measurement


def blocked_on(statement: str) -> bool:
    """Whether another connection runs ``statement`` (a LIKE pattern) and waits for a lock."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s", [statement]
        )
        return bool(cursor.fetchone()[0])


def wait_until(condition: Callable[[], bool]) -> None:
    import time

    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the {DEADLINE_S:.0f} s guard")
        time.sleep(0.05)
