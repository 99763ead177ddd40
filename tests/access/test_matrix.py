"""Parity of every layer with the access rules, for every persona against a proposal in every state.

The expected answer comes from the rules document (the oracle below: ``sees``, ``finds``, ``part_visibility``),
never from ``proposals.access``. The world is built once (``tests/access/world.py``); every private part
carries a unique marker, so each layer's output is grepped for the markers it may, must and must not show:

- page: ``GET /proposals/<id>/`` (404 when the proposal is not visible);
- api: ``GET /api/proposals/<id>/`` (404 likewise);
- attachments: both download URLs (page and API), 200 only for those who may see attachments;
- list: ``GET /api/proposals/`` paged through: the ids a persona may see, no more, no less;
- search: ``GET /api/search/proposals/`` by the title word and by each indexed marker; snippets;
- notifications: ``GET /api/notifications/``: only about proposals the persona sees; never reply text,
  communication text or a phone number.

A failure names persona × state (the test id), the layer and the part each marker belongs to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from consult.models import DeputyProfile, ExpertProfile, HandlerProfile, User
from proposals.models import (
    Assignment,
    Attachment,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    ExtensionRequest,
    Feedback,
    Proposal,
    ProposalEvent,
    Reply,
)
from tests.access.world import MARKER_PATTERN, PERSONAS, PHONE_PATTERN, STATES, TITLE_WORD, World

YES, NO, OPT = "yes", "no", "optional"
TOKEN = re.compile(rf"{MARKER_PATTERN}|{PHONE_PATTERN}")
ANY_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

# Parts a layer does not render at all (checked only for leaks there, never required): none today; the API
# detail shows ratings (``feedback``) and the proposals merged into this one (``merged``) like the page.
NOT_RENDERED: set[tuple[str, str]] = set()

# --- facts, read back as plain rows --------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    pk: int
    office: bool
    bureau: int | None
    deputy: bool


@dataclass
class Facts:
    pk: int
    status: str
    published: bool
    proposer: int
    cosigners: dict[int, str]
    merged_people: set[int]
    assignments: list[tuple[int, str, str]]  # (bureau, role, status)
    has_sent_reply: bool
    attachments: list[int]
    occurrences: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)  # token -> (part, meta)
    indexed: set[str] = field(default_factory=set)  # tokens the search document carries, by the rules

    @property
    def bureaus(self) -> set[int]:
        return {bureau for bureau, _role, _status in self.assignments}

    @property
    def lead_bureaus(self) -> set[int]:
        return {bureau for bureau, role, _status in self.assignments if role == "lead"}

    @property
    def co_bureaus(self) -> set[int]:
        return {bureau for bureau, role, _status in self.assignments if role == "co"}

    def add(self, text: str, part: str, **meta: Any) -> set[str]:
        tokens = set(TOKEN.findall(text or ""))
        for token in tokens:
            self.occurrences.setdefault(token, []).append((part, meta))
        return tokens


def person_of(user: User) -> Person:
    bureau = None
    for model in (HandlerProfile, ExpertProfile):
        profile = model.objects.filter(user=user).first()
        if profile is not None:
            bureau = profile.bureau_id
    return Person(user.pk, user.role in ("staff", "admin"), bureau, DeputyProfile.objects.filter(user=user).exists())


def facts_of(proposal: Proposal) -> Facts:
    pk = proposal.pk
    merged = Proposal.objects.filter(merged_into=proposal)
    merged_people = set(merged.values_list("proposer_id", flat=True)) | set(
        CoSigner.objects.filter(proposal__in=merged, status="signed").values_list("deputy_id", flat=True)
    )
    replies = list(Reply.objects.filter(proposal=proposal).select_related("assignment"))
    facts = Facts(
        pk=pk,
        status=proposal.status,
        published=proposal.published_at is not None,
        proposer=proposal.proposer_id,
        cosigners=dict(CoSigner.objects.filter(proposal=proposal).values_list("deputy_id", "status")),
        merged_people=merged_people,
        assignments=list(Assignment.objects.filter(proposal=proposal).values_list("bureau_id", "role", "status")),
        has_sent_reply=any(r.status == "sent" for r in replies),
        attachments=list(Attachment.objects.filter(proposal=proposal).values_list("pk", flat=True)),
    )
    facts.indexed |= facts.add(proposal.title, "title")
    facts.indexed |= facts.add(proposal.body, "body")
    for attachment in Attachment.objects.filter(proposal=proposal):
        facts.add(attachment.name, "attachment")
    for other in merged:
        facts.add(other.title, "merged_list")
    for a in Assignment.objects.filter(proposal=proposal):
        facts.add(a.return_reason, "assignment_internal", bureau=a.bureau_id)
    for e in ExtensionRequest.objects.filter(assignment__proposal=proposal).select_related("assignment"):
        facts.add(f"{e.reason} {e.decision_note}", "extension", bureau=e.assignment.bureau_id)
    for o in CoHandlerOpinion.objects.filter(assignment__proposal=proposal).select_related("assignment"):
        facts.add(o.body, "opinion", bureau=o.assignment.bureau_id)
    for r in replies:
        meta = {"bureau": r.assignment.bureau_id, "role": r.assignment.role, "status": r.status}
        internal = facts.add(f"{r.body} {r.contact_person} {r.contact_phone}", "reply_internal", **meta)
        facts.add(r.review_note, "review_note", **meta)
        public = facts.add(r.public_body, "reply_public", **meta, published=bool(r.public_body))
        if r.status == "sent":  # the search document: published wording once published, else the bodies
            facts.indexed |= public if facts.published else set(TOKEN.findall(r.body))
        del internal
    for c in Communication.objects.filter(proposal=proposal).select_related("assignment"):
        facts.add(c.summary, "communication", bureau=c.assignment.bureau_id)
    for f in Feedback.objects.filter(proposal=proposal).select_related("reply__assignment"):
        facts.add(f.comment, "rating", rater=f.rater_id, bureau=f.reply.assignment.bureau_id)
    for event in ProposalEvent.objects.filter(proposal=proposal):
        if event.audience == "bureau":
            part = "event_bureau"
        elif event.audience == "office":
            part = "event_office"
        else:
            part = "event_state" if event.to_status else "event_working"
        facts.add(event.reason, part, bureau=event.bureau_id)
    return facts


# --- the oracle: the rules document, line by line -------------------------------------------------------


@dataclass(frozen=True)
class Capacities:
    office: bool
    bureau: bool  # the viewer's bureau has an assignment here, any round, any status
    recipient: bool  # R: proposer, signed co-signers, proposer and signed co-signers of merged proposals
    invitee: bool  # an open invitation
    former_invitee: bool  # declined or dropped


def capacities(v: Person, f: Facts) -> Capacities:
    status = f.cosigners.get(v.pk)
    return Capacities(
        office=v.office,
        bureau=v.bureau is not None and v.bureau in f.bureaus,
        recipient=v.pk == f.proposer or status == "signed" or v.pk in f.merged_people,
        invitee=status == "invited",
        former_invitee=status in ("declined", "dropped"),
    )


def sees(v: Person, f: Facts) -> bool:
    """Who sees the proposal at all."""
    if f.status == "draft":  # only its proposer and anyone invited to co-sign it (any answer: ambiguous)
        return v.pk == f.proposer or v.pk in f.cosigners
    c = capacities(v, f)
    return c.office or c.recipient or v.pk in f.cosigners or c.bureau or (f.published and v.deputy)


def finds(v: Person, f: Facts) -> str:
    """Search: found only by those who see it; before publication the document carries the sent replies'
    bodies, so its acl omits (former) invitees. Without a sent reply that omission is not required (ambiguous)."""
    if not sees(v, f):
        return NO
    c = capacities(v, f)
    if not f.published and (c.invitee or c.former_invitee) and not (c.office or c.recipient or c.bureau):
        return NO if f.has_sent_reply else OPT
    return YES


def reply_internal(v: Person, c: Capacities, meta: dict[str, Any], f: Facts) -> bool:
    if c.office:
        return True
    if c.bureau:
        if meta["bureau"] == v.bureau or meta["status"] == "sent":
            return True
        if v.bureau in f.co_bureaus and meta["role"] == "lead" and meta["status"] == "signoff":
            return True
    return c.recipient and meta["status"] == "sent"


def part_visibility(v: Person, f: Facts, part: str, meta: dict[str, Any]) -> str:
    if not sees(v, f):
        return NO
    c = capacities(v, f)
    own_bureau = v.bureau is not None and meta.get("bureau") == v.bureau
    match part:
        case "title" | "body" | "event_state":
            yes = True
        case "attachment" | "merged_list":
            yes = c.office or c.recipient or c.invitee or c.bureau
        case "assignment_internal" | "extension" | "event_bureau":
            yes = c.office or (c.bureau and own_bureau)
        case "event_office":  # an office note (the withdrawal's reason): the withdrawn bureau may read it
            return YES if c.office else (OPT if c.bureau and own_bureau else NO)
        case "opinion":
            yes = c.office or (c.bureau and (own_bureau or v.bureau in f.lead_bureaus))
        case "reply_internal":
            yes = reply_internal(v, c, meta, f)
        case "review_note":
            yes = c.office or (c.bureau and own_bureau)
        case "reply_public":
            if reply_internal(v, c, meta, f):
                return OPT  # published material: not private, but not owed to those who read the internal wording
            yes = meta["status"] == "sent" and meta["published"]
        case "communication":
            if c.office or c.recipient or (c.bureau and own_bureau):
                return YES
            # "timeline working entries (… e.g. communication summaries): office, bureaus (assigned), R"
            return OPT if c.bureau else NO
        case "rating":
            yes = c.office or (c.bureau and own_bureau) or meta["rater"] == v.pk
        case "event_working":
            yes = c.office or c.bureau or c.recipient
        case _:
            raise AssertionError(f"unknown part {part}")
    return YES if yes else NO


PRIMARY_LAST = ("event_state", "event_working", "event_bureau", "event_office")


def token_visibility(v: Person, f: Facts, token: str) -> tuple[str, list[str]]:
    """A token's visibility and the parts that decide it: the part it was written into (a copy of it in
    a timeline entry follows the part's own rule); a token only in the timeline follows the entry's rule."""
    occurrences = f.occurrences.get(token, [])
    primary = [(p, m) for p, m in occurrences if p not in PRIMARY_LAST] or occurrences
    answers = [(part_visibility(v, f, p, m), p) for p, m in primary]
    for level in (YES, OPT):
        parts = sorted({p for answer, p in answers if answer == level})
        if parts:
            return level, parts
    return NO, sorted({p for _a, p in answers})


# --- the world, once ------------------------------------------------------------------------------------


@dataclass
class Matrix:
    world: World
    clients: dict[str, Client]
    persons: dict[str, Person]
    facts: dict[str, Facts]  # by state
    by_pk: dict[int, Facts]
    cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def all_tokens(self) -> set[str]:
        return {token for f in self.facts.values() for token in f.occurrences}


@pytest.fixture(scope="module")
def matrix(world: World, clients: dict[str, Client]) -> Matrix:
    facts = {state: facts_of(world.proposals[state]) for state in STATES}
    persons = {persona: person_of(world[persona]) for persona in PERSONAS}
    return Matrix(world, clients, persons, facts, {f.pk: f for f in facts.values()})


def text_violations(m: Matrix, persona: str, state: str, layer: str, text: str) -> list[str]:
    v, f = m.persons[persona], m.facts[state]
    shown = set(TOKEN.findall(text))
    problems = []
    for token in sorted(m.all_tokens() | shown):
        if token not in f.occurrences:
            if token in shown:
                problems.append(f"{layer}: {token} of another proposal is shown")
            continue
        level, parts = token_visibility(v, f, token)
        if level == NO and token in shown:
            problems.append(f"{layer}/{'+'.join(parts)}: {token} is shown but may not be")
        if level == YES and token not in shown and not all((layer, p) in NOT_RENDERED for p in parts):
            problems.append(f"{layer}/{'+'.join(parts)}: {token} is missing")
    return problems


PAIRS = [pytest.param(persona, state, id=f"{persona}-{state}") for persona in PERSONAS for state in STATES]


@pytest.mark.parametrize(("persona", "state"), PAIRS)
def test_page(matrix: Matrix, db: None, persona: str, state: str) -> None:
    f = matrix.facts[state]
    response = matrix.clients[persona].get(f"/proposals/{f.pk}/")
    visible = sees(matrix.persons[persona], f)
    assert response.status_code == (200 if visible else 404), f"page: status {response.status_code}"
    if visible:
        problems = text_violations(matrix, persona, state, "page", response.content.decode())
        assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("persona", "state"), PAIRS)
def test_api_detail(matrix: Matrix, db: None, persona: str, state: str) -> None:
    f = matrix.facts[state]
    response = matrix.clients[persona].get(f"/api/proposals/{f.pk}/")
    visible = sees(matrix.persons[persona], f)
    assert response.status_code == (200 if visible else 404), f"api: status {response.status_code}"
    if visible:
        detail = response.json()
        problems = text_violations(matrix, persona, state, "api", json.dumps(detail, ensure_ascii=False))
        v = matrix.persons[persona]
        for reply in detail.get("replies") or []:
            # "a reply's review note and the bureau's proposed (drafted) class: office and the replying bureau"
            bureau = (reply.get("bureau") or {}).get("id")
            drafted = reply.get("drafted_class")
            if not (v.office or v.bureau == bureau) and drafted not in (None, "", reply.get("outcome_class")):
                problems.append(f"api/drafted_class: reply {reply.get('id')} shows the proposed class {drafted}")
        assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("persona", "state"), PAIRS)
def test_attachment_download(matrix: Matrix, db: None, persona: str, state: str) -> None:
    v, f = matrix.persons[persona], matrix.facts[state]
    allowed = part_visibility(v, f, "attachment", {}) == YES
    assert f.attachments, "every proposal of the world has an attachment"
    problems = []
    for attachment in f.attachments:
        for layer, url in (
            ("page", f"/proposals/{f.pk}/attachments/{attachment}/"),
            ("api", f"/api/proposals/{f.pk}/attachments/{attachment}/"),
        ):
            status = matrix.clients[persona].get(url).status_code
            if allowed and status != 200:
                problems.append(f"{layer}/attachment download: {status}, expected 200")
            if not allowed and status not in (403, 404):
                problems.append(f"{layer}/attachment download: {status}, expected 403 or 404")
    assert not problems, "\n".join(problems)


def pages(client: Client, url: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of a list, whichever pagination shape it answers with."""
    page = 1
    while True:
        response = client.get(url, {**params, "page": page})
        assert response.status_code == 200, f"{url}: {response.status_code} {response.content[:300]!r}"
        body: dict[str, Any] = response.json()
        yield body
        more = body.get("next") if "next" in body else page < int(body.get("num_pages", 1))
        if not more or not body.get("results"):
            return
        page += 1
        assert page < 100, "runaway paging"


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_list(matrix: Matrix, db: None, persona: str) -> None:
    v = matrix.persons[persona]
    rows = [
        row for body in pages(matrix.clients[persona], "/api/proposals/", {"page_size": 200}) for row in body["results"]
    ]
    listed = {row["id"] for row in rows} & set(matrix.by_pk)
    expected = {pk for pk, f in matrix.by_pk.items() if sees(v, f)}
    state_of = {f.pk: state for state, f in matrix.facts.items()}
    problems = [f"list: {state_of[pk]} is listed but may not be seen" for pk in sorted(listed - expected)]
    problems += [f"list: {state_of[pk]} is missing" for pk in sorted(expected - listed)]
    for row in rows:
        if row["id"] in matrix.by_pk:
            text = json.dumps(row, ensure_ascii=False)
            problems += [
                p for p in text_violations(matrix, persona, state_of[row["id"]], "list", text) if "missing" not in p
            ]
    assert not problems, "\n".join(problems)


def search(m: Matrix, persona: str, q: str) -> list[dict[str, Any]]:
    key = (persona, q)
    if key not in m.cache:
        params = {"q": q, "per_page": 50, "page_size": 50}
        m.cache[key] = [
            hit for body in pages(m.clients[persona], "/api/search/proposals/", params) for hit in body["results"]
        ]
    hits: list[dict[str, Any]] = m.cache[key]
    return hits


def snippet_violations(m: Matrix, persona: str, hits: list[dict[str, Any]], query: str) -> list[str]:
    v, problems = m.persons[persona], []
    for hit in hits:
        f = m.by_pk.get(hit["id"])
        if f is None:
            continue
        for token in sorted(set(TOKEN.findall(json.dumps(hit, ensure_ascii=False)))):
            level, parts = token_visibility(v, f, token) if token in f.occurrences else (NO, ["another proposal"])
            if level == NO:
                problems.append(f"search q={query}/{'+'.join(parts)}: hit {hit['id']} carries {token}")
    return problems


@pytest.mark.parametrize(("persona", "state"), PAIRS)
def test_search(matrix: Matrix, db: None, persona: str, state: str) -> None:
    v, f = matrix.persons[persona], matrix.facts[state]
    problems = []
    hits = search(matrix, persona, TITLE_WORD)
    found = f.pk in {hit["id"] for hit in hits}
    expected = finds(v, f)
    if found and expected == NO:
        problems.append(f"search q={TITLE_WORD}: found but may not be")
    if not found and expected == YES:
        problems.append(f"search q={TITLE_WORD}: not found")
    problems += snippet_violations(matrix, persona, [h for h in hits if h["id"] == f.pk], TITLE_WORD)
    searchable = {"title", "body", "reply_internal", "reply_public"}
    for token in sorted(f.occurrences):
        if not {p for p, _m in f.occurrences[token]} & searchable:
            continue
        hits = search(matrix, persona, token)
        found = f.pk in {hit["id"] for hit in hits}
        level, parts = token_visibility(v, f, token)
        where = f"search q={token} ({'+'.join(parts)})"
        if found and expected == NO:
            problems.append(f"{where}: found, but the persona may not find this proposal")
        elif found and level == NO:
            problems.append(f"{where}: found by a marker the persona may not read")
        if not found and level == YES and expected == YES and token in f.indexed:
            problems.append(f"{where}: not found")
        problems += snippet_violations(matrix, persona, hits, token)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", PERSONAS)
def test_notifications(matrix: Matrix, db: None, persona: str) -> None:
    v = matrix.persons[persona]
    titles = {t for f in matrix.facts.values() for t, occ in f.occurrences.items() if {p for p, _ in occ} == {"title"}}
    problems = []
    state_of = {f.pk: state for state, f in matrix.facts.items()}
    for body in pages(matrix.clients[persona], "/api/notifications/", {"page_size": 200}):
        for note in body["results"]:
            match = re.search(r"/proposals/(\d+)/", note.get("url") or "")
            pk = int(match.group(1)) if match else None
            if pk in matrix.by_pk and not sees(v, matrix.by_pk[pk]):
                problems.append(f"notification {note['kind']} about {state_of[pk]}, which the persona may not see")
            text = f"{note.get('title', '')} {note.get('url', '')}"
            leaked = (set(TOKEN.findall(text)) - titles) | set(ANY_MOBILE.findall(text))
            if leaked:
                problems.append(f"notification {note['kind']}: carries {sorted(leaked)}")
    assert not problems, "\n".join(problems)
