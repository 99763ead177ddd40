"""转为建议: a proposal draft started from a consultation, filled with what the consultation holds.

The draft's text carries the question (the deputy's lines), the expert's answer (the lines of the experts who
answered, voice messages by their transcripts, and the outcome the expert recorded) and a link back to the
consultation; each call's transcript (the merged lines, corrections included, naming every speaker) is attached to
the draft as a text file, and the text says so. Only the consultation's deputy starts one (anyone else: 404).

Everything is bounded: each part of the text is cut at a fixed length, the whole at the proposals' body limit
(``proposals.rules``), and at most the proposals' attachment limit of calls are attached (the latest first).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.call_transcripts import merged_transcript
from chat.models import Call, CallState, CallTrack, Message, MessageKind
from chat.voice import transcripts_of
from consult.desk.access import consultations_visible_to
from consult.kernel.exceptions import NotFound
from consult.models import Consultation, Outcome, User
from proposals import services as proposals
from proposals.models import Proposal
from proposals.rules import current_rules
from transcription.models import TranscriptStatus

PART_MAX_CHARS = 6000  # the question, the answer: each cut here (the deputy edits the draft anyway)


@dataclass(frozen=True)
class CallRecord:
    """One call's transcript, as attached to the draft."""

    call_id: int
    name: str  # the attachment's file name
    text: str


@dataclass(frozen=True)
class ConsultationDraft:
    """What a draft started from this consultation holds: the form's fields and the calls to attach."""

    consultation: Consultation
    title: str
    body: str
    wished_lead_bureau_id: int
    calls: list[CallRecord] = field(default_factory=list)


def draft_from_consultation(*, actor: User, consultation_id: int) -> ConsultationDraft:
    """The draft the deputy starts from their consultation (read only: nothing is written)."""
    consultation = (
        consultations_visible_to(actor)
        .filter(pk=consultation_id, deputy_id=actor.pk)
        .select_related("bureau", "expert__user")
        .first()
    )
    if consultation is None:
        raise NotFound(_("no such consultation"))
    records = call_records(consultation)
    body = _body(consultation, records)[: current_rules().body_max_chars]
    return ConsultationDraft(consultation, consultation.topic[:120], body, consultation.bureau_id, records)


@transaction.atomic
def start_proposal(*, actor: User, consultation_id: int, content: proposals.DraftContent) -> Proposal:
    """The draft as the deputy finished the form, with the consultation's call transcripts attached."""
    seed = draft_from_consultation(actor=actor, consultation_id=consultation_id)
    proposal = proposals.create_draft(actor=actor, content=content)
    for record in seed.calls:
        data = record.text.encode()
        proposals.attach(
            actor=actor, proposal_id=proposal.pk, name=record.name, size=len(data), stream=io.BytesIO(data)
        )
    return proposal


# --- the text --------------------------------------------------------------------------------------------------


def _body(consultation: Consultation, records: list[CallRecord]) -> str:
    link = reverse("desk-room", args=[consultation.pk])
    when = timezone.localtime(consultation.created_at).strftime("%Y-%m-%d")
    parts = [
        _("This proposal comes from the online consultation “%(topic)s” with %(bureau)s on %(date)s: %(link)s")
        % {"topic": consultation.topic, "bureau": consultation.bureau.name, "date": when, "link": link},
        _("The question") + "\n" + (_lines(consultation, deputy=True) or consultation.topic),
        _("The expert's answer") + "\n" + (_lines(consultation, deputy=False) or _("(no answer in writing)")),
    ]
    if consultation.outcome:
        outcome = Outcome(consultation.outcome).label
        note = consultation.outcome_note.strip()
        parts.append(
            _("Outcome recorded by the expert: %(outcome)s") % {"outcome": outcome} + (f"\n{note}" if note else "")
        )
    if records:
        names = "、".join(record.name for record in records)
        parts.append(_("Transcripts of the calls, attached: %(names)s") % {"names": names})
    return "\n\n".join(parts)


def _lines(consultation: Consultation, *, deputy: bool) -> str:
    """The deputy's lines (the question) or the others' (the experts' answer): text, and voice by its transcript."""
    messages = Message.objects.filter(
        consultation=consultation, kind__in=(MessageKind.TEXT, MessageKind.VOICE), deleted_at=None
    ).select_related("sender")
    messages = (
        messages.filter(sender_id=consultation.deputy_id)
        if deputy
        else messages.exclude(sender_id=consultation.deputy_id)
    )
    rows = list(messages.order_by("seq")[:500])
    spoken = transcripts_of([m.pk for m in rows if m.kind == MessageKind.VOICE])
    out: list[str] = []
    for message in rows:
        text = message.body
        if message.kind == MessageKind.VOICE:
            transcript = spoken.get(message.pk)
            done = transcript is not None and transcript.status == TranscriptStatus.DONE
            text = _("[voice] %(text)s") % {"text": transcript.text} if done and transcript else ""
        if text.strip():
            who = "" if deputy or message.sender is None else f"{message.sender.get_full_name()}："
            out.append(who + text.strip())
    return "\n".join(out)[:PART_MAX_CHARS]


# --- the calls -------------------------------------------------------------------------------------------------


def call_records(consultation: Consultation) -> list[CallRecord]:
    """The transcripts of the consultation's answered calls that have a track, the latest first, at most the
    proposals' attachment limit."""
    with_tracks = CallTrack.objects.filter(call__consultation=consultation).values("call_id")
    found = Call.objects.filter(consultation=consultation, pk__in=with_tracks, answered_at__isnull=False)
    calls = found.exclude(state__in=(CallState.RINGING, CallState.ACTIVE)).order_by("-started_at", "-pk")
    return [_record(consultation, call) for call in calls[: current_rules().attachment_max_count]]


def _record(consultation: Consultation, call: Call) -> CallRecord:
    merged = merged_transcript(call)
    started = timezone.localtime(call.started_at)
    head = _("Call transcript · %(topic)s · %(date)s") % {
        "topic": consultation.topic,
        "date": started.strftime("%Y-%m-%d %H:%M"),
    }
    lines = [head, ""]
    for line in merged["lines"]:
        seconds = int(line["start"])
        role = _role_word(line["role"])
        speaker = f"{line['name']}（{role}）" if role else line["name"]
        lines.append(f"[{seconds // 60:02d}:{seconds % 60:02d}] {speaker}：{line['text']}")
    if not merged["lines"]:
        lines.append(_("(the transcript is not ready yet)"))
    name = f"call-{call.pk}-{started.strftime('%Y%m%d-%H%M')}.txt"
    return CallRecord(call.pk, name, "\n".join(lines) + "\n")


def _role_word(role: str) -> str:
    return {"deputy": _("deputy"), "expert": _("expert")}.get(role, "")
