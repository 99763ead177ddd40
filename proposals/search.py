"""Search documents of proposals: pure functions from a (prefetched) proposal to a ``SearchDocument``.

Who may find a proposal (``acl``) mirrors ``Proposal.objects.visible_to``: the office (not drafts), its
proposer, everyone invited to co-sign, the proposers and signed co-signers of proposals merged into
it, the bureaus assigned to it in any round, and everybody once it is published. Searching re-checks
every hit against ``visible_to`` anyway (``proposals/searching.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db.models import Prefetch, QuerySet

from proposals.models import Assignment, CoSigner, Proposal, Reply, Status
from search.analysis import number_keywords
from search.documents import SearchDocument
from search.registry import DocumentSource

DOC_TYPE = "proposal"


def proposal_acl(proposal: Proposal) -> list[str]:
    keys = {f"user:{proposal.proposer_id}"}
    keys.update(f"user:{cosigner.deputy_id}" for cosigner in proposal.cosigners.all())  # invited sees the draft
    if proposal.status == Status.DRAFT:
        return sorted(keys)
    keys.add("office")
    for merged in proposal.merged.all():
        keys.add(f"user:{merged.proposer_id}")
        keys.update(f"user:{c.deputy_id}" for c in merged.cosigners.all() if c.status == "signed")
    keys.update(f"bureau:{assignment.bureau_id}" for assignment in proposal.assignments.all())
    if proposal.published_at is not None:
        keys.add("public")
    return sorted(keys)


def replies_text(proposal: Proposal) -> str:
    """Sent replies. Once the proposal is published, anyone may find it, so only the published
    wording of each reply (contact details stripped) is indexed; a reply without one is left out."""
    sent = [reply for reply in proposal.replies.all() if reply.status == "sent"]
    if proposal.published_at is not None:
        return "\n".join(reply.public_body for reply in sent if reply.public_body)
    return "\n".join(reply.body for reply in sent)


def proposal_document(proposal: Proposal) -> SearchDocument:
    session = proposal.session
    keywords: dict[str, list[str]] = {
        "kind": [proposal.kind],
        "status": [proposal.status],
        "year": [str(session.year)],
        "session": [str(session.pk)],
        "bureau": sorted({str(a.bureau_id) for a in proposal.assignments.all()}),
        "outcome_class": [proposal.outcome_class] if proposal.outcome_class else [],
        "category": [proposal.category],
        "proposer": [str(proposal.proposer_id)],
        "number": number_keywords(session.year, session.number_prefix, proposal.number) if proposal.number else [],
    }
    return SearchDocument.of(
        DOC_TYPE,
        proposal.pk,
        texts={"title": proposal.title, "body": proposal.body, "replies": replies_text(proposal)},
        keywords=keywords,
        acl=proposal_acl(proposal),
        date=proposal.submitted_at or proposal.created_at,
    )


def for_indexing(queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Everything ``proposal_document`` reads, in a fixed number of queries."""
    return queryset.select_related("session").prefetch_related(
        Prefetch("cosigners", queryset=CoSigner.objects.only("id", "proposal_id", "deputy_id", "status")),
        Prefetch("assignments", queryset=Assignment.objects.only("id", "proposal_id", "bureau_id")),
        Prefetch("replies", queryset=Reply.objects.only("id", "proposal_id", "status", "body", "public_body")),
        Prefetch(
            "merged",
            queryset=Proposal.objects.only("id", "merged_into_id", "proposer_id").prefetch_related("cosigners"),
        ),
    )


def documents(ids: Sequence[int]) -> list[SearchDocument]:
    return [proposal_document(p) for p in for_indexing(Proposal.objects.filter(pk__in=ids))]


def all_ids(batch: int = 1000) -> Iterator[list[int]]:
    ids = list(Proposal.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        yield ids[start : start + batch]


SOURCE = DocumentSource(doc_type=DOC_TYPE, documents=documents, all_ids=all_ids)
