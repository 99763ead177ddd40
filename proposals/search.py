"""Search documents of proposals: pure functions from a proposal's facts (plain rows) to a ``SearchDocument``.

Who may find a proposal (``acl``) is the access policy's answer (``proposals.access.search_acl``): everyone who
may see the proposal *and* read every text of its document. Searching re-checks
every hit against ``visible_to`` anyway (``proposals/searching.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proposals.access import search_acl
from proposals.masking import strip_contact_details
from proposals.models import Assignment, AssignmentStatus, CoSigner, CoSignerStatus, Proposal, Reply, ReplyStatus
from search.analysis import number_keywords
from search.documents import SearchDocument
from search.registry import DocumentSource

DOC_TYPE = "proposal"


@dataclass(frozen=True)
class ProposalFacts:
    """What a proposal's document is made of, read as plain rows (a batch costs six queries)."""

    pk: int
    kind: str
    status: str
    title: str
    body: str
    category: str
    proposer_id: int
    outcome_class: str
    number: int | None
    date: datetime
    published: bool
    session_id: int
    year: int
    prefix: str
    invited: tuple[int, ...] = ()  # everyone ever invited to co-sign
    bureaus: tuple[int, ...] = ()  # every assignment, any round
    sent_replies: tuple[tuple[str, str], ...] = ()  # (body, published wording)
    merged_people: tuple[int, ...] = ()  # proposers and signed co-signers of proposals merged into this one
    signed: tuple[int, ...] = ()  # signed co-signers
    bureau_texts: tuple[str, ...] = ()  # names and full names of the bureaus replying (not returned)


def proposal_acl(facts: ProposalFacts) -> list[str]:
    """Who may find it: ``proposals.access.search_acl``, the access policy's own answer."""
    return search_acl(
        status=facts.status,
        proposer_id=facts.proposer_id,
        invited=facts.invited,
        recipients=(*facts.signed, *facts.merged_people),
        bureaus=facts.bureaus,
        published=facts.published,
        holds_internal_replies=bool(facts.sent_replies) and not facts.published,
    )


def body_text(facts: ProposalFacts) -> str:
    """Once published, anyone may find it: the text is indexed without contact details (as readers see it)."""
    return strip_contact_details(facts.body) if facts.published else facts.body


def replies_text(facts: ProposalFacts) -> str:
    """Sent replies. Once the proposal is published, anyone may find it, so only the published
    wording of each reply (contact details stripped) is indexed; a reply without one is left out."""
    if facts.published:
        return "\n".join(public for _, public in facts.sent_replies if public)
    return "\n".join(body for body, _ in facts.sent_replies)


def document_of(facts: ProposalFacts) -> SearchDocument:
    keywords: dict[str, list[str]] = {
        "kind": [facts.kind],
        "status": [facts.status],
        "year": [str(facts.year)],
        "session": [str(facts.session_id)],
        "bureau": sorted({str(bureau_id) for bureau_id in facts.bureaus}),
        "outcome_class": [facts.outcome_class] if facts.outcome_class else [],
        "category": [facts.category],
        "proposer": [str(facts.proposer_id)],
        "number": number_keywords(facts.year, facts.prefix, facts.number) if facts.number else [],
    }
    return SearchDocument.of(
        DOC_TYPE,
        facts.pk,
        texts={
            "title": facts.title,
            "body": body_text(facts),
            "replies": replies_text(facts),
            "bureaus": "\n".join(facts.bureau_texts),
        },
        keywords=keywords,
        acl=proposal_acl(facts),
        date=facts.date,
    )


_COLUMNS = (
    "pk", "kind", "status", "title", "body", "category", "proposer_id", "outcome_class", "number",
    "submitted_at", "created_at", "published_at", "session_id", "session__year", "session__number_prefix",
)  # fmt: skip


def _grouped(rows: Iterable[tuple[int, Any]]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for key, value in rows:
        grouped[key].append(value)
    return grouped


def facts_of(ids: Sequence[int]) -> list[ProposalFacts]:
    rows = list(Proposal.objects.filter(pk__in=ids).order_by("pk").values_list(*_COLUMNS))
    found = [row[0] for row in rows]
    cosigners = CoSigner.objects.filter(proposal_id__in=found)
    invited = _grouped(cosigners.values_list("proposal_id", "deputy_id"))
    signed_cosigners = _grouped(cosigners.filter(status=CoSignerStatus.SIGNED).values_list("proposal_id", "deputy_id"))
    bureaus = _grouped(Assignment.objects.filter(proposal_id__in=found).values_list("proposal_id", "bureau_id"))
    sent = Reply.objects.filter(proposal_id__in=found, status=ReplyStatus.SENT).order_by("pk")
    replies = _grouped((p, (b, pb)) for p, b, pb in sent.values_list("proposal_id", "body", "public_body"))
    merged_people = _grouped(
        Proposal.objects.filter(merged_into_id__in=found).values_list("merged_into_id", "proposer_id")
    )
    signed = CoSigner.objects.filter(proposal__merged_into_id__in=found, status=CoSignerStatus.SIGNED)
    for target, deputy_id in signed.values_list("proposal__merged_into_id", "deputy_id"):
        if target is not None:
            merged_people[target].append(deputy_id)
    related = (invited, bureaus, replies, merged_people, signed_cosigners, _bureau_texts(found))
    return [_facts(row, *related) for row in rows]


def _bureau_texts(ids: Sequence[int]) -> dict[int, list[Any]]:
    """Per proposal, the short and full names of its replying bureaus (lead, separate or co-handling; not
    those that returned it or were withdrawn). Their subject words are in the names (市卫生健康委: 卫生,
    健康); abbreviations (卫健) are the synonym dictionary's."""
    rows = (
        Assignment.objects.filter(proposal_id__in=ids)
        .exclude(status__in=(AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN))
        .values_list("proposal_id", "bureau__name", "bureau__full_name")
        .order_by("proposal_id", "bureau__sort_order", "bureau_id")
    )
    texts: dict[int, list[Any]] = defaultdict(list)
    for proposal_id, name, full_name in rows:
        text = " ".join(dict.fromkeys(word for word in (name, full_name) if word))
        if text not in texts[proposal_id]:
            texts[proposal_id].append(text)
    return texts


def _facts(row: tuple[Any, ...], *related: dict[int, list[Any]]) -> ProposalFacts:
    pk, kind, status, title, body, category, proposer, outcome, number = row[:9]
    submitted, created, published, session, year, prefix = row[9:]
    invited, bureaus, replies, merged_people, signed, bureau_texts = (tuple(group[pk]) for group in related)
    return ProposalFacts(
        pk, kind, status, title, body, category, proposer, outcome, number, submitted or created,
        published is not None, session, year, prefix, invited, bureaus, replies, merged_people, signed,
        bureau_texts,
    )  # fmt: skip


def documents(ids: Sequence[int]) -> list[SearchDocument]:
    return [document_of(facts) for facts in facts_of(ids)]


def proposal_document(proposal: Proposal) -> SearchDocument:
    """The document of one proposal as it is in the database now."""
    return documents([proposal.pk])[0]


def all_ids(batch: int = 1000) -> Iterator[list[int]]:
    ids = list(Proposal.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        yield ids[start : start + batch]


SOURCE = DocumentSource(doc_type=DOC_TYPE, documents=documents, all_ids=all_ids)
