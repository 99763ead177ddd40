"""提出: drafts, co-signers (联名/附议), attachments and submission, through the services."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks, Settings

from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed, NotFound
from consult.models import Bureau, Notification, User
from proposals import services
from proposals.models import Attachment, CoSigner, CoSignerStatus, Proposal, ProposalKind, ProposalSession, Status
from tests.factories import BureauFactory, DeputyProfileFactory, UserFactory
from tests.proposals.conftest import content

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def events_of(proposal: Proposal) -> list[str]:
    return list(proposal.events.order_by("id").values_list("action", flat=True))


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def attach(actor: User, proposal: Proposal, name: str, data: bytes) -> Attachment:
    return services.attach(actor=actor, proposal_id=proposal.pk, name=name, size=len(data), stream=io.BytesIO(data))


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- drafts -------------------------------------------------------------------


def test_npc_deputy_drafts_a_suggestion_in_the_open_npc_session(
    deputy: User, npc_session: ProposalSession, cppcc_session: ProposalSession
) -> None:
    proposal = services.create_draft(actor=deputy, content=content(title="  关于增开区间车的建议  "))

    proposal = Proposal.objects.get(pk=proposal.pk)
    assert (proposal.kind, proposal.session, proposal.status) == (ProposalKind.SUGGESTION, npc_session, Status.DRAFT)
    assert proposal.proposer == deputy
    assert proposal.title == "关于增开区间车的建议"
    assert proposal.number is None
    assert events_of(proposal) == ["create_draft"]


def test_cppcc_member_drafts_a_proposal_in_the_open_cppcc_session(
    member: User, npc_session: ProposalSession, cppcc_session: ProposalSession
) -> None:
    proposal = services.create_draft(actor=member, content=content(category="医疗卫生"))

    assert (proposal.kind, proposal.session) == (ProposalKind.PROPOSAL, cppcc_session)


def test_draft_keeps_wished_bureaus_without_repeating_the_lead_among_co_handlers(
    deputy: User, npc_session: ProposalSession, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    wish = content(wished_lead_bureau_id=bureau_b.pk, wished_co_bureau_ids=[bureau_a.pk, bureau_b.pk, bureau_a.pk])

    proposal = services.create_draft(actor=deputy, content=wish)

    assert proposal.wished_lead_bureau == bureau_b
    assert list(proposal.wished_co_bureaus.all()) == [bureau_a]


def test_refusing_publication_with_a_reason_is_stored(deputy: User, npc_session: ProposalSession) -> None:
    refusal = content(publication_consent=False, publication_refusal_reason=" 涉及个人隐私 ")

    proposal = services.create_draft(actor=deputy, content=refusal)

    assert (proposal.publication_consent, proposal.publication_refusal_reason) == (False, "涉及个人隐私")


def test_agreeing_to_publication_drops_a_stale_refusal_reason(deputy: User, draft: Proposal) -> None:
    services.update_draft(
        actor=deputy,
        proposal_id=draft.pk,
        content=content(publication_consent=False, publication_refusal_reason="隐私"),
    )

    services.update_draft(
        actor=deputy, proposal_id=draft.pk, content=content(publication_consent=True, publication_refusal_reason="隐私")
    )

    draft.refresh_from_db()
    assert (draft.publication_consent, draft.publication_refusal_reason) == (True, "")


def test_a_title_of_exactly_120_characters_is_accepted(deputy: User, npc_session: ProposalSession) -> None:
    proposal = services.create_draft(actor=deputy, content=content(title="长" * 120))

    assert len(proposal.title) == 120


# Each case builds its overrides when the test runs (a bureau row needs the database).
BAD_CONTENT: dict[str, tuple[Callable[[], dict[str, object]], str]] = {
    "title empty": (lambda: {"title": ""}, "title"),
    "title blank": (lambda: {"title": "   "}, "title"),
    "title too long": (lambda: {"title": "长" * 121}, "title"),
    "body empty": (lambda: {"body": ""}, "body"),
    "body too long": (lambda: {"body": "长" * 51}, "body"),  # body_max_chars is set to 50 below
    "unknown category": (lambda: {"category": "火星移民"}, "category"),
    "refusal without reason": (
        lambda: {"publication_consent": False, "publication_refusal_reason": "  "},
        "publication_refusal_reason",
    ),
    "unknown co bureau": (lambda: {"wished_co_bureau_ids": [987654]}, "wished_co_bureau_ids"),
    "inactive co bureau": (
        lambda: {"wished_co_bureau_ids": [BureauFactory(is_active=False).pk]},
        "wished_co_bureau_ids",
    ),
}


@pytest.mark.parametrize(("overrides", "field"), BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
def test_create_draft_refuses_bad_content_naming_the_field(
    deputy: User,
    npc_session: ProposalSession,
    settings: Settings,
    overrides: Callable[[], dict[str, object]],
    field: str,
) -> None:
    settings.PROPOSAL_RULES = {"body_max_chars": 50}

    with pytest.raises(InvalidInput) as refused:
        services.create_draft(actor=deputy, content=content(**overrides()))

    assert refused.value.field == field
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
def test_update_draft_refuses_bad_content_naming_the_field_and_keeps_the_draft(
    deputy: User, draft: Proposal, settings: Settings, overrides: Callable[[], dict[str, object]], field: str
) -> None:
    settings.PROPOSAL_RULES = {"body_max_chars": 50}
    before = Proposal.objects.values().get(pk=draft.pk)

    with pytest.raises(InvalidInput) as refused:
        services.update_draft(actor=deputy, proposal_id=draft.pk, content=content(**overrides()))

    assert refused.value.field == field
    assert Proposal.objects.values().get(pk=draft.pk) == before


def test_unknown_wished_lead_bureau_names_the_lead_field(deputy: User, npc_session: ProposalSession) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.create_draft(actor=deputy, content=content(wished_lead_bureau_id=987654))

    assert refused.value.field == "wished_lead_bureau_id"


def test_overlong_publication_refusal_reason_is_refused_as_invalid_input(
    deputy: User, npc_session: ProposalSession
) -> None:
    too_long = content(publication_consent=False, publication_refusal_reason="因" * 201)

    with pytest.raises(InvalidInput) as refused:
        services.create_draft(actor=deputy, content=too_long)

    assert refused.value.field == "publication_refusal_reason"


@pytest.mark.parametrize("persona", ["expert", "handler", "staff", "admin_user", "outsider"])
def test_only_deputies_and_members_create_drafts(
    request: pytest.FixtureRequest, npc_session: ProposalSession, persona: str
) -> None:
    actor = request.getfixturevalue(persona)

    with pytest.raises(NotAllowed):
        services.create_draft(actor=actor, content=content())

    assert not Proposal.objects.exists()


def test_a_deputy_account_without_a_deputy_profile_cannot_create_a_draft(npc_session: ProposalSession) -> None:
    bare = UserFactory(username="no-profile")  # role deputy, no DeputyProfile

    with pytest.raises(NotAllowed):
        services.create_draft(actor=bare, content=content())


def test_no_draft_without_an_open_session_of_the_deputys_chamber(deputy: User, cppcc_session: ProposalSession) -> None:
    ProposalSession.objects.create(chamber="npc", year=2026, name="上一次会议", number_prefix="建", is_open=False)

    with pytest.raises(InvalidInput) as refused:
        services.create_draft(actor=deputy, content=content())

    assert refused.value.field == "session"
    assert not Proposal.objects.exists()


def test_only_the_proposer_edits_the_draft(deputy: User, cosigner: User, staff: User, draft: Proposal) -> None:
    for stranger in (cosigner, staff):
        with pytest.raises(NotAllowed):
            services.update_draft(actor=stranger, proposal_id=draft.pk, content=content(title="被改了"))

    services.update_draft(actor=deputy, proposal_id=draft.pk, content=content(title="关于公交的建议（修改稿）"))

    draft.refresh_from_db()
    assert draft.title == "关于公交的建议（修改稿）"


def test_editing_a_missing_proposal_is_not_found(deputy: User, npc_session: ProposalSession) -> None:
    with pytest.raises(NotFound):
        services.update_draft(actor=deputy, proposal_id=987654, content=content())


# --- co-signers -----------------------------------------------------------------


def test_inviting_a_deputy_of_the_same_chamber_gives_them_a_week_and_tells_them(
    deputy: User, cosigner: User, draft: Proposal
) -> None:
    invitation = services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert invitation.status == CoSignerStatus.INVITED
    assert timezone.now() + timedelta(days=6) < invitation.sign_by <= timezone.now() + timedelta(days=7)
    assert events_of(draft) == ["create_draft", "invite_cosigner"]
    assert Notification.objects.filter(user=cosigner, kind="cosign.invited").count() == 1


@pytest.mark.parametrize("invitee", ["member", "deputy", "staff", "handler"])
def test_co_signers_are_other_deputies_of_the_same_chamber(
    request: pytest.FixtureRequest, deputy: User, draft: Proposal, invitee: str
) -> None:
    other = request.getfixturevalue(invitee)

    with pytest.raises(InvalidInput) as refused:
        services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=other.pk)

    assert refused.value.field == "deputy_id"
    assert not CoSigner.objects.exists()


@pytest.mark.parametrize("answer", [None, True], ids=["still invited", "signed"])
def test_a_deputy_cannot_be_invited_twice(deputy: User, cosigner: User, draft: Proposal, answer: bool | None) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    if answer is not None:
        services.cosign(actor=cosigner, proposal_id=draft.pk, sign=answer)
    events = events_of(draft)

    with pytest.raises(InvalidInput) as refused:
        services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert refused.value.field == "deputy_id"
    assert CoSigner.objects.count() == 1
    assert events_of(draft) == events


def test_a_deputy_who_declined_may_be_invited_again(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=draft.pk, sign=False)

    again = services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert (again.status, again.responded_at) == (CoSignerStatus.INVITED, None)
    assert CoSigner.objects.count() == 1


def test_only_the_proposer_invites_co_signers(deputy: User, cosigner: User, draft: Proposal) -> None:
    third = DeputyProfileFactory(user__username="third-deputy").user

    with pytest.raises(NotAllowed):
        services.invite_cosigner(actor=cosigner, proposal_id=draft.pk, deputy_id=third.pk)

    assert not CoSigner.objects.exists()


@pytest.mark.parametrize(
    ("sign", "status", "event"), [(True, "signed", "cosign"), (False, "declined", "decline_cosign")]
)
def test_the_invitee_signs_or_declines_and_the_proposer_is_told(
    deputy: User, cosigner: User, draft: Proposal, sign: bool, status: str, event: str
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    answer = services.cosign(actor=cosigner, proposal_id=draft.pk, sign=sign)

    assert answer.status == status
    assert answer.responded_at is not None
    assert events_of(draft)[-1] == event
    assert Notification.objects.filter(user=deputy, kind="cosign.answered").count() == 1


@pytest.mark.parametrize("persona", ["deputy", "member", "staff", "handler"])
def test_only_the_invitee_answers_an_invitation(
    request: pytest.FixtureRequest, deputy: User, cosigner: User, draft: Proposal, persona: str
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    with pytest.raises(NotAllowed):
        services.cosign(actor=request.getfixturevalue(persona), proposal_id=draft.pk, sign=True)

    assert CoSigner.objects.get().status == CoSignerStatus.INVITED


def test_an_invitation_is_answered_once(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=draft.pk, sign=True)

    with pytest.raises(NotAllowed):
        services.cosign(actor=cosigner, proposal_id=draft.pk, sign=False)

    assert CoSigner.objects.get().status == CoSignerStatus.SIGNED


def test_signing_after_the_deadline_is_refused(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    CoSigner.objects.filter(proposal=draft).update(sign_by=timezone.now() - timedelta(minutes=1))
    events = events_of(draft)

    with pytest.raises(InvalidInput) as refused:
        services.cosign(actor=cosigner, proposal_id=draft.pk, sign=True)

    assert refused.value.code == "deadline_passed"
    assert CoSigner.objects.get().status == CoSignerStatus.INVITED
    assert events_of(draft) == events


def test_a_dropped_co_signer_can_no_longer_sign(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    dropped = services.drop_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert dropped.status == CoSignerStatus.DROPPED
    assert events_of(draft)[-1] == "drop_cosigner"
    with pytest.raises(NotAllowed):
        services.cosign(actor=cosigner, proposal_id=draft.pk, sign=True)


def test_dropping_someone_who_is_not_a_co_signer_is_not_found(deputy: User, cosigner: User, draft: Proposal) -> None:
    with pytest.raises(NotFound):
        services.drop_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    services.drop_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    with pytest.raises(NotFound):
        services.drop_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)


def test_only_the_proposer_drops_a_co_signer(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    with pytest.raises(NotAllowed):
        services.drop_cosigner(actor=cosigner, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert CoSigner.objects.get().status == CoSignerStatus.INVITED


# --- submission -------------------------------------------------------------------


def test_submitting_hands_the_draft_to_the_office(deputy: User, staff: User, draft: Proposal) -> None:
    submitted = services.submit(actor=deputy, proposal_id=draft.pk)

    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert submitted.submitted_at is not None
    assert events_of(submitted)[-1] == "submit"
    assert Notification.objects.filter(user=staff, kind="proposal.submitted").count() == 1


def test_submission_waits_for_an_invitee_who_has_not_answered(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    events = events_of(draft)

    with pytest.raises(InvalidInput) as refused:
        services.submit(actor=deputy, proposal_id=draft.pk)

    assert (refused.value.code, refused.value.field) == ("cosignature_missing", "cosigners")
    assert cosigner.full_name in refused.value.message
    draft.refresh_from_db()
    assert (draft.status, draft.submitted_at) == (Status.DRAFT, None)
    assert events_of(draft) == events


def test_an_invitee_past_the_deadline_still_blocks_submission_until_dropped(
    deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    CoSigner.objects.filter(proposal=draft).update(sign_by=timezone.now() - timedelta(days=1))

    with pytest.raises(InvalidInput) as refused:
        services.submit(actor=deputy, proposal_id=draft.pk)

    assert refused.value.code == "cosignature_missing"


@pytest.mark.parametrize("answer", ["sign", "decline", "drop"])
def test_submission_goes_through_once_every_invitee_signed_declined_or_was_dropped(
    deputy: User, cosigner: User, draft: Proposal, answer: str
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    if answer == "drop":
        services.drop_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    else:
        services.cosign(actor=cosigner, proposal_id=draft.pk, sign=answer == "sign")

    services.submit(actor=deputy, proposal_id=draft.pk)

    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED


def test_only_the_proposer_submits(cosigner: User, staff: User, draft: Proposal) -> None:
    for stranger in (cosigner, staff):
        with pytest.raises(NotAllowed):
            services.submit(actor=stranger, proposal_id=draft.pk)

    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_submitted_proposal_is_no_longer_editable(deputy: User, submitted: Proposal) -> None:
    with pytest.raises(InvalidTransition) as refused:
        services.update_draft(actor=deputy, proposal_id=submitted.pk, content=content(title="改"))

    assert refused.value.code == "invalid_transition:update_draft"


# --- attachments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [("调研报告.pdf", PDF, "application/pdf"), ("现场照片.PNG", PNG, "image/png")],
)
def test_a_matching_file_is_stored_with_its_type(
    deputy: User, draft: Proposal, media: Path, name: str, data: bytes, content_type: str
) -> None:
    attachment = attach(deputy, draft, name, data)

    attachment = Attachment.objects.get(pk=attachment.pk)
    assert (attachment.name, attachment.content_type, attachment.size) == (name, content_type, len(data))
    assert attachment.uploaded_by == deputy
    assert stored_files(media) == [Path(attachment.file.path)]
    assert Path(attachment.file.path).read_bytes() == data


BAD_FILES = {
    "oversized": ("大文件.pdf", PDF + b"0" * 100, {"attachment_max_bytes": 100}),
    "extension not allowed": ("script.exe", b"MZ\x90\x00", {}),
    "no extension": ("readme", b"hello", {}),
    "html": ("page.html", b"<html></html>", {}),
    "png bytes named pdf": ("x.pdf", PNG, {}),
    "pdf bytes named png": ("x.png", PDF, {}),
    "empty": ("空白.pdf", b"", {}),
    "binary text": ("notes.txt", b"ab\x00cd", {}),
}


@pytest.mark.parametrize(("name", "data", "rules"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_refused_on_the_file_field_and_nothing_is_stored(
    deputy: User, draft: Proposal, media: Path, settings: Settings, name: str, data: bytes, rules: dict
) -> None:
    settings.PROPOSAL_RULES = rules

    with pytest.raises(InvalidInput) as refused:
        attach(deputy, draft, name, data)

    assert refused.value.field == "file"
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_file_of_exactly_the_size_limit_is_accepted(
    deputy: User, draft: Proposal, media: Path, settings: Settings
) -> None:
    settings.PROPOSAL_RULES = {"attachment_max_bytes": 100}

    attachment = attach(deputy, draft, "刚好.pdf", PDF.ljust(100, b" "))

    assert attachment.size == 100


def test_one_file_too_many_is_refused_and_not_stored(
    deputy: User, draft: Proposal, media: Path, settings: Settings
) -> None:
    settings.PROPOSAL_RULES = {"attachment_max_count": 2}
    attach(deputy, draft, "一.pdf", PDF)
    attach(deputy, draft, "二.png", PNG)

    with pytest.raises(InvalidInput) as refused:
        attach(deputy, draft, "三.pdf", PDF)

    assert refused.value.field == "file"
    assert Attachment.objects.count() == 2
    assert len(stored_files(media)) == 2


def test_only_the_proposer_attaches_files(cosigner: User, staff: User, draft: Proposal, media: Path) -> None:
    for stranger in (cosigner, staff):
        with pytest.raises(NotAllowed):
            attach(stranger, draft, "x.pdf", PDF)

    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_removing_an_attachment_deletes_the_row_and_after_commit_the_file(
    deputy: User, draft: Proposal, media: Path, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    attachment = attach(deputy, draft, "x.pdf", PDF)

    with django_capture_on_commit_callbacks(execute=True):
        services.remove_attachment(actor=deputy, proposal_id=draft.pk, attachment_id=attachment.pk)

    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_removing_another_proposals_attachment_is_not_found(
    deputy: User, draft: Proposal, media: Path, npc_session: ProposalSession
) -> None:
    other = services.create_draft(actor=deputy, content=content(title="另一件建议"))
    attachment = attach(deputy, other, "x.pdf", PDF)

    with pytest.raises(NotFound):
        services.remove_attachment(actor=deputy, proposal_id=draft.pk, attachment_id=attachment.pk)

    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_file_name_with_a_path_is_stored_under_its_base_name(deputy: User, draft: Proposal, media: Path) -> None:
    attachment = attach(deputy, draft, "../../evil.pdf", PDF)

    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(media.resolve())
    assert stored.name == "evil.pdf"
