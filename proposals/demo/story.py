"""One demo proposal told from draft to its final state: the rows the services would have written.

Each step mirrors one service function of ``proposals.services`` (named in its docstring): the same
fields set, the same ``ProposalEvent`` with the same action, from/to states, audience and bureau, only
with the moment the plan gave it instead of ``timezone.now()``. Notifications and live events are not
replayed: nobody was watching in the past.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from consult.kernel.texts import Said, label
from proposals import texts as platform
from proposals.demo import texts
from proposals.demo.plan import BureauRef, Cast, Person, Spec
from proposals.demo.rows import Rows, WishedCoBureau
from proposals.demo.timeline import Timeline, When, need
from proposals.demo.timing import Clock
from proposals.masking import strip_contact_details
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Audience,
    Channel,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    CoSignerStatus,
    ExtensionRequest,
    ExtensionStatus,
    Feedback,
    Proposal,
    ProposalEvent,
    ProposalKind,
    Rating,
    Reply,
    ReplyKind,
    ReplySignoff,
    ReplyStatus,
    Status,
)
from proposals.models.choices import FOLLOW_UP_CLASSES, OPEN_ASSIGNMENT, REPLYING_ROLES
from proposals.rules import Rules

S = Status
KIND = {"npc": ProposalKind.SUGGESTION, "cppcc": ProposalKind.PROPOSAL}
CHANNELS = [Channel.PHONE] * 8 + [Channel.VISIT] * 4 + [Channel.MEETING] * 3 + [Channel.ONLINE] * 2
CHANNELS += [Channel.LETTER] * 3
SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class World:
    """What every story of one seeding run shares."""

    cast: Cast
    clock: Clock
    rules: Rules
    rows: Rows
    seed: int


class Story:
    def __init__(self, spec: Spec, world: World, *, primary: Proposal | None = None) -> None:
        self.spec, self.world, self.primary = spec, world, primary
        self.cast, self.clock, self.rules, self.rows = world.cast, world.clock, world.rules, world.rows
        self.rng = random.Random(f"{world.seed}:story:{spec.key}")  # noqa: S311 (demo data)
        self.when = When(self.clock, self.rng)
        self.tl: Timeline = spec.timeline()
        self.status = ""
        self.last_at = self.tl.draft
        self.events: list[ProposalEvent] = []
        self.assignments: list[Assignment] = []
        self.replies: list[Reply] = []
        self.rated: set[tuple[int, int]] = set()  # (id of the reply object, rater)
        self.honorific = texts.HONORIFIC[spec.session.chamber]
        self.words = texts.variant(spec.original, spec.session.chamber, self.rng, self.honorific)
        self.p = self._proposal()

    # --- telling --------------------------------------------------------------------------------

    def tell(self) -> Proposal:
        spec, tl = self.spec, self.tl
        self._draft()
        if tl.submit is not None:
            self._submit()
        if tl.register is not None:
            self._register()
        if spec.state in (S.NOT_REGISTERED, S.LETTER, S.MERGED):
            self._decide()
        elif tl.assign is not None:
            self._assign()
            self._handle()
            self._reply()
            self._feedback()
        self._finish()
        for companion in spec.companions:
            Story(companion, self.world, primary=self.p).tell()
        return self.p

    def _finish(self) -> None:
        # Side events were placed between the moves around them: in time order, the moves chain up.
        self.events.sort(key=lambda event: event.at)
        p = self.p
        p.status = self.status
        p.updated_at = self.last_at
        (self.rows.merged if p.merged_into is not None else self.rows.proposals).append(p)
        self.rows.events += self.events

    def _event(
        self,
        at: datetime,
        actor: Person | None,
        action: str,
        *,
        reason: str | Said = "",
        audience: Audience = Audience.PUBLIC,
        bureau: BureauRef | None = None,
        to: Status | None = None,
    ) -> None:
        """``services._common.record`` (and ``move`` when ``to`` is given); a detail the platform composes is a
        ``Said`` of ``proposals.texts``, stored as its code and parameters as the services store it."""
        before = ""
        if to is not None:
            before, self.status = self.status, to
        self.last_at = max(self.last_at, at)
        if not self.rows.detail:
            return
        self.events.append(
            ProposalEvent(
                proposal=self.p,
                actor_id=actor.id if actor else None,
                at=at,
                action=action,
                from_status=before,
                to_status=to or "",
                reason=reason.in_default_language() if isinstance(reason, Said) else reason,
                code=reason.code if isinstance(reason, Said) else "",
                params=reason.params if isinstance(reason, Said) else {},
                audience=audience,
                bureau_id=bureau.id if bureau else None,
            )
        )

    # --- people -----------------------------------------------------------------------------------

    def _staff(self) -> Person:
        return self.rng.choice(self.cast.staff)

    def _handler(self, bureau: BureauRef) -> Person:
        demo = self.cast.demo_handler
        if demo in bureau.handlers and self.rng.random() < 0.6:
            return demo
        return self.rng.choice(bureau.handlers)

    def _bureau(self, name: str) -> BureauRef:
        return self.cast.bureaus[name]

    def _bureau_of(self, assignment: Assignment) -> BureauRef:
        return self.cast.bureaus_by_id[assignment.bureau_id]

    def raters(self) -> list[Person]:
        """``proposals.access.recipients_of``: the proposer, signed co-signers, and those of merged proposals."""
        people: list[Person] = []
        for spec in (self.spec, *self.spec.companions):
            for person in (spec.proposer, *spec.cosigners):
                if person not in people:
                    people.append(person)
        return people

    # --- 提出 -------------------------------------------------------------------------------------

    def _proposal(self) -> Proposal:
        spec, rng = self.spec, self.rng
        lead = self.cast.bureaus.get(spec.original.lead_bureau)
        consent = "no_consent" not in spec.flags
        return Proposal(
            session_id=spec.session.id,
            kind=KIND[spec.session.chamber],
            number=spec.number,
            title=self.words.title,
            body=self.words.body,
            category=spec.original.category,
            proposer_id=spec.proposer.id,
            wished_lead_bureau_id=lead.id if lead and rng.random() < 0.7 else None,
            publication_consent=consent,
            publication_refusal_reason="" if consent else rng.choice(texts.REFUSAL_REASONS),
            created_at=self.tl.draft,
        )

    def _draft(self) -> None:
        """``create_draft``, ``invite_cosigner``, ``cosign``."""
        spec, tl = self.spec, self.tl
        self._event(tl.draft, spec.proposer, "create_draft", to=S.DRAFT)
        if self.p.wished_lead_bureau_id is not None and self.rng.random() < 0.4:
            for name in spec.original.co_bureaus:
                if name in self.cast.bureaus and name != spec.original.lead_bureau:
                    self.rows.wished.append(WishedCoBureau(proposal=self.p, bureau_id=self._bureau(name).id))
        upper = tl.submit or self.when.limit
        people = [(p, CoSignerStatus.INVITED) for p in spec.invited]
        people += [(p, CoSignerStatus.SIGNED) for p in spec.cosigners]
        people += [(p, CoSignerStatus.DECLINED) for p in spec.declined]
        invites = self.when.spread(tl.draft, tl.draft + (upper - tl.draft) * 0.4, len(people), office=False)
        for (person, status), invited_at in zip(people, invites, strict=True):
            self._cosigner(person, status, invited_at, upper)

    def _cosigner(self, person: Person, status: CoSignerStatus, invited_at: datetime, upper: datetime) -> None:
        sign_by = invited_at + timedelta(days=self.rules.cosign_days)
        row = CoSigner(proposal=self.p, deputy_id=person.id, status=status, sign_by=sign_by, invited_at=invited_at)
        self._event(invited_at, self.spec.proposer, "invite_cosigner", reason=person.name)
        if status != CoSignerStatus.INVITED:
            row.responded_at = self.when.between(invited_at, min(upper, sign_by), office=False)
            action = "cosign" if status == CoSignerStatus.SIGNED else "decline_cosign"
            self._event(row.responded_at, person, action)
        self.rows.cosigners.append(row)

    def _submit(self) -> None:
        """``submit``."""
        self.p.submitted_at = need(self.tl.submit)
        self._event(self.p.submitted_at, self.spec.proposer, "submit", to=S.SUBMITTED)

    # --- 立案 -------------------------------------------------------------------------------------

    def code(self) -> str:
        session = self.spec.session
        return f"{session.year}-{session.prefix}-{need(self.spec.number):04d}"

    def _register(self) -> None:
        """``register``."""
        self.p.registered_at = need(self.tl.register)
        self._event(self.p.registered_at, self._staff(), "register", reason=self.code(), to=S.REGISTERED)

    def _decide(self) -> None:
        """``decline_registration``, ``convert_to_letter``, ``merge``."""
        spec, at = self.spec, need(self.tl.decided)
        if spec.state == S.NOT_REGISTERED:
            reason = self.rng.choice(texts.DECLINE_REASONS)
            self._event(at, self._staff(), "decline_registration", reason=reason, to=S.NOT_REGISTERED)
        elif spec.state == S.LETTER:
            reason = self.rng.choice(texts.LETTER_REASONS)
            self._event(at, self._staff(), "convert_to_letter", reason=reason, to=S.LETTER)
        else:
            primary = need(spec.primary)
            code = f"{primary.session.year}-{primary.session.prefix}-{need(primary.number):04d}"
            self.p.merged_into = self.primary
            self._event(at, self._staff(), "merge", reason=texts.MERGE_REASON.format(code=code), to=S.MERGED)

    # --- 交办 -------------------------------------------------------------------------------------

    def _new_assignment(
        self, bureau: BureauRef, role: AssignmentRole, at: datetime, actor: Person, *, months: int
    ) -> Assignment:
        """``services.assignment.create_assignments`` for one bureau: its deadlines count from that day."""
        day = self.clock.local(at).date()
        is_co = role == AssignmentRole.CO
        assignment = Assignment(
            proposal=self.p,
            bureau_id=bureau.id,
            role=role,
            round=self.p.rehandling_round,
            assigned_at=at,
            assigned_by_id=actor.id,
            return_by=self.clock.add_working_days(day, self.rules.return_window_working_days),
            reply_due=None if is_co else self.clock.add_months(day, months),
            opinion_due=self.clock.add_months(day, self.rules.co_opinion_months) if is_co else None,
            due_basis={
                "return_by": {"start": day.isoformat(), "working_days": self.rules.return_window_working_days},
                "opinion_due" if is_co else "reply_due": {
                    "start": day.isoformat(),
                    "months": self.rules.co_opinion_months if is_co else months,
                },
            },
        )
        self.assignments.append(assignment)
        self.rows.assignments.append(assignment)
        return assignment

    def _assign_to(self, plan: list[tuple[BureauRef, AssignmentRole]], at: datetime) -> None:
        """``assign``."""
        staff = self._staff()
        for bureau, role in plan:
            self._new_assignment(bureau, role, at, staff, months=self.rules.reply_months)
        if self.p.assigned_at is None:
            self.p.assigned_at = at
        names = "、".join(b.name for b, _role in sorted(plan, key=lambda item: (item[0].sort_order, item[0].id)))
        to = S.ASSIGNED if self.status == S.REGISTERED else None
        self._event(at, staff, "assign", reason=names, to=to)
        self._refresh_reply_due()

    def _refresh_reply_due(self) -> None:
        dues = [
            a.reply_due
            for a in self.assignments
            if a.status in OPEN_ASSIGNMENT
            and a.role in REPLYING_ROLES
            and a.round == self.p.rehandling_round
            and a.reply_due is not None
        ]
        self.p.reply_due = min(dues, default=None)

    def _assign(self) -> None:
        spec, tl = self.spec, self.tl
        lead, co = self._bureau(spec.lead), [self._bureau(name) for name in spec.co]
        if spec.separate:
            self._assign_to([(lead, AssignmentRole.SEPARATE), (co[0], AssignmentRole.SEPARATE)], need(tl.assign))
            return
        co_plan = [(b, AssignmentRole.CO) for b in co]
        if spec.wrong_lead:
            self._assign_to([(self._bureau(spec.wrong_lead), AssignmentRole.LEAD), *co_plan], need(tl.first_assign))
            self._return(self.assignments[0], need(tl.returned), lead)
            self._assign_to([(lead, AssignmentRole.LEAD)], need(tl.assign))
        else:
            self._assign_to([(lead, AssignmentRole.LEAD), *co_plan], need(tl.assign))

    def _return(self, assignment: Assignment, at: datetime, right: BureauRef) -> None:
        """``return_assignment``: the wrong lead sends it back within its window; nobody replies meanwhile."""
        wrong = self._bureau_of(assignment)
        actor = self._handler(wrong)
        at = min(at, self.clock.at(assignment.return_by, time(17, 0)))  # the window closes on return_by
        reason = texts.RETURN_REASON.format(bureau=right.name)
        assignment.status, assignment.returned_at, assignment.return_reason = AssignmentStatus.RETURNED, at, reason
        self._event(
            at,
            actor,
            "return_assignment",
            reason=platform.BUREAU_NOTE(bureau=wrong.name, note=reason),
            audience=Audience.BUREAU,
            bureau=wrong,
        )
        self._event(at + SECOND, actor, "awaiting_reassignment", to=S.REGISTERED)
        self._refresh_reply_due()

    # --- 办理 -------------------------------------------------------------------------------------

    def _open(self, *roles: AssignmentRole) -> list[Assignment]:
        return [
            a
            for a in self.assignments
            if a.status in OPEN_ASSIGNMENT and a.role in roles and a.round == self.p.rehandling_round
        ]

    def _accept(self, assignment: Assignment, at: datetime) -> None:
        """``accept_assignment``: the lead's (or first separate bureau's) acceptance starts the handling."""
        bureau = self._bureau_of(assignment)
        assignment.status, assignment.accepted_at = AssignmentStatus.ACCEPTED, at
        to = S.HANDLING if self.status == S.ASSIGNED and assignment.role in REPLYING_ROLES else None
        self._event(at, self._handler(bureau), "accept_assignment", reason=bureau.name, to=to)

    def _handle(self) -> None:
        spec, tl, flags = self.spec, self.tl, self.spec.flags
        # handling ends when the first draft reaches the office (or now)
        end = tl.first_reply_submit or tl.reply_submit or self.when.limit
        replying, co = self._open(*REPLYING_ROLES), self._open(AssignmentRole.CO)
        if tl.accept is not None:
            self._accept(replying[0], tl.accept)
            for other in replying[1:]:
                self._accept(other, self.when.between(tl.accept, end))
        for assignment in co:
            co_accepts = spec.state != S.ASSIGNED or ("co_pending" not in flags and self.rng.random() < 0.3)
            if co_accepts:  # once the proposal has its (final) lead, within a few days
                start = need(tl.assign)
                self._accept(assignment, self.when.between(start, min(end, start + timedelta(days=5))))
                if "opinion_pending" not in flags and (spec.state != S.HANDLING or self.rng.random() < 0.6):
                    self._opinion(assignment, end)
        if tl.accept is None:
            return
        for assignment in replying:
            self._communications(assignment, need(assignment.accepted_at), end)
        if tl.extension_asked is not None:
            self._extension(replying[0], tl.extension_asked, tl.extension_decided)

    def _opinion(self, assignment: Assignment, end: datetime) -> None:
        """``submit_opinion``: before the opinion deadline, seen by the lead bureau and the office."""
        start = max(need(assignment.accepted_at), need(self.tl.assign))
        due_end = self.clock.at(need(assignment.opinion_due), time(23, 59))
        at = self.when.between(start, min(end, due_end))
        if at >= end:
            return
        bureau = self._bureau_of(assignment)
        actor = self._handler(bureau)
        body = self.rng.choice(texts.OPINIONS)
        self.rows.opinions.append(
            CoHandlerOpinion(assignment=assignment, body=body, submitted_by_id=actor.id, submitted_at=at)
        )
        lead = self._open(AssignmentRole.LEAD)
        if lead:
            lead_bureau = self._bureau_of(lead[0])
            self._event(at, actor, "submit_opinion", reason=bureau.name, audience=Audience.BUREAU, bureau=lead_bureau)

    def _communications(self, assignment: Assignment, start: datetime, end: datetime) -> None:
        """``record_communication``: most bureaus talk to the deputy once or twice before replying."""
        if self.spec.state in (S.ASSIGNED, S.HANDLING):
            count = self.rng.choice((0, 1, 1, 2))
        else:
            count = 0 if self.rng.random() < 0.12 else self.rng.choice((1, 1, 2, 3))
        bureau = self._bureau_of(assignment)
        core = self.words.core
        for at in self.when.spread(start, end, count):
            channel = self.rng.choice(CHANNELS)
            summary = texts.COMMUNICATION_TEMPLATES[channel].format(
                name=self.spec.proposer.name, honorific=self.honorific, core=core
            )
            day = self.clock.local(at).date() - timedelta(days=self.rng.choice((0, 0, 1, 2)))
            occurred = max(day, self.clock.local(start).date())
            actor = self._handler(bureau)
            self.rows.communications.append(
                Communication(
                    proposal=self.p,
                    assignment=assignment,
                    channel=channel,
                    occurred_on=occurred,
                    summary=summary,
                    recorded_by_id=actor.id,
                    recorded_at=at,
                )
            )
            said = platform.COMMUNICATED(bureau=bureau.name, channel=label("proposals.channel", Channel(channel).value))
            self._event(at, actor, "record_communication", reason=said)

    def _extension(self, assignment: Assignment, asked: datetime, decided: datetime | None) -> None:
        """``request_extension`` and, when the office has decided, ``decide_extension`` (approved)."""
        bureau = self._bureau_of(assignment)
        actor = self._handler(bureau)
        current = need(assignment.reply_due)
        latest = self.clock.local(assignment.assigned_at).date() + relativedelta(months=self.rules.max_extension_months)
        requested = min(current + relativedelta(months=2), latest)
        request = ExtensionRequest(
            assignment=assignment,
            requested_due=requested,
            reason=texts.EXTENSION_REASON,
            requested_by_id=actor.id,
            requested_at=asked,
        )
        self.rows.extensions.append(request)
        until = platform.UNTIL(day=requested.isoformat(), reason=request.reason)
        self._event(asked, actor, "request_extension", reason=until, audience=Audience.BUREAU, bureau=bureau)
        if decided is None:
            return
        staff = self._staff()
        request.status, request.decided_by_id, request.decided_at = ExtensionStatus.APPROVED, staff.id, decided
        assignment.reply_due = requested
        self._refresh_reply_due()
        self._event(
            decided,
            staff,
            "extension_approved",
            reason=platform.BUREAU_NOTE(bureau=bureau.name, note=requested.isoformat()),
        )

    # --- 答复 -------------------------------------------------------------------------------------

    def _draft_reply(self, assignment: Assignment, kind: ReplyKind, outcome: str, text: str) -> Reply:
        """``draft_reply``: written by a handler of the bureau, who is also the contact person."""
        bureau = self._bureau_of(assignment)
        actor = self._handler(bureau)
        body = texts.reply_letter(
            proposer=self.spec.proposer.name,
            honorific=self.honorific,
            title=self.p.title,
            text=text,
            bureau=bureau.full_name,
            contact=actor.name,
            phone=bureau.phone,
        )
        reply = Reply(
            proposal=self.p,
            assignment=assignment,
            kind=kind,
            round=self.p.rehandling_round,
            outcome_class=outcome,
            drafted_class=outcome,
            body=body,
            contact_person=actor.name,
            contact_phone=bureau.phone,
            drafted_by_id=actor.id,
        )
        self.replies.append(reply)
        self.rows.replies.append(reply)
        return reply

    def _submit_reply(self, reply: Reply, at: datetime) -> None:
        """``submit_reply``: to the co-handlers for sign-off (会签) first, when there are any."""
        needs_signoff = reply.assignment.role == AssignmentRole.LEAD and bool(self._open_co())
        reply.status = ReplyStatus.SIGNOFF if needs_signoff else ReplyStatus.REVIEW
        reply.submitted_at = at
        bureau = self._bureau_of(reply.assignment)
        to = S.REPLY_REVIEW if self.status != S.REPLY_REVIEW else None
        self._event(at, need(self._actor_of(reply)), "submit_reply", reason=bureau.name, to=to)

    def _actor_of(self, reply: Reply) -> Person | None:
        bureau = self._bureau_of(reply.assignment)
        return next((p for p in bureau.handlers if p.id == reply.drafted_by_id), None)

    def _open_co(self) -> list[Assignment]:
        """Co-handlers of this or an earlier round still holding the proposal."""
        return [
            a
            for a in self.assignments
            if a.role == AssignmentRole.CO and a.status in OPEN_ASSIGNMENT and a.round <= self.p.rehandling_round
        ]

    def _sign_off(self, reply: Reply, end: datetime, *, signing: int | None = None) -> list[ReplySignoff]:
        """``sign_off_reply``: co-handlers sign (all of them by default); the last signature sends it on."""
        co = self._open_co()
        signing_co = co if signing is None else co[:signing]
        signoffs = []
        moments = self.when.spread(need(reply.submitted_at), end, len(signing_co))
        for assignment, at in zip(signing_co, moments, strict=True):
            bureau = self._bureau_of(assignment)
            actor = self._handler(bureau)
            signoffs.append(ReplySignoff(reply=reply, assignment=assignment, signed_by_id=actor.id, signed_at=at))
            self._event(at, actor, "sign_off_reply", reason=bureau.name, audience=Audience.OFFICE)
        if len(signing_co) == len(co) and reply.status == ReplyStatus.SIGNOFF:
            reply.status = ReplyStatus.REVIEW
        return signoffs

    def _reply(self) -> None:
        spec, tl = self.spec, self.tl
        if tl.reply_submit is None:
            return
        replying = self._open(*REPLYING_ROLES)
        lead = replying[0]
        reply = self._draft_reply(lead, ReplyKind.ANSWER, spec.drafted_class, self.words.reply)
        if tl.first_reply_submit is not None:
            self._submit_reply(reply, tl.first_reply_submit)
            self._sign_off(reply, need(tl.reply_returned))  # their rows are deleted when it is returned
            self._return_reply(reply, need(tl.reply_returned))
        self._submit_reply(reply, tl.reply_submit)
        end = tl.send or self.when.limit
        if spec.separate:
            text = self._separate_text(replying[1])
            other = self._draft_reply(replying[1], ReplyKind.ANSWER, spec.drafted_class, text)
            self._submit_reply(other, self.when.between(tl.reply_submit, end))
            if tl.send is not None:
                self._send(reply, self.when.between(need(other.submitted_at), tl.send))
                self._send(other, tl.send)
            return
        signing = None  # everyone
        if spec.state == S.REPLY_REVIEW and "signoff_pending" in spec.flags:
            signing = 0
        elif spec.state == S.REPLY_REVIEW and self.rng.random() < 0.4:
            signing = self.rng.randrange(max(1, len(self._open_co())))
        self.rows.signoffs += self._sign_off(reply, end, signing=signing)
        if tl.send is not None:
            self._send(reply, tl.send)

    def _separate_text(self, assignment: Assignment) -> str:
        bureau = self._bureau_of(assignment)
        return (
            f"关于“{self.words.core}”中涉及{bureau.name}职责的事项，我们已会同有关方面研究落实，"
            "相关措施已纳入年度工作计划，并将按季度通报进展。"
        )

    def _return_reply(self, reply: Reply, at: datetime) -> None:
        """``review_reply(approve=False)``: back to the bureau; the sign-offs are void."""
        staff = self._staff()
        reply.status, reply.reviewed_by_id, reply.review_note = ReplyStatus.DRAFT, staff.id, texts.REVIEW_RETURN_NOTE
        back = S.HANDLING if self.p.rehandling_round == 1 else S.REHANDLING
        self._event(at, staff, "return_reply", reason=texts.REVIEW_RETURN_NOTE, to=back)

    def _send(self, reply: Reply, at: datetime) -> None:
        """``review_reply(approve=True)``: the office may change the class; the round ends with the last reply."""
        staff = self._staff()
        outcome = self.spec.final_class if reply.kind == ReplyKind.ANSWER else reply.outcome_class
        reply.outcome_class, reply.status, reply.sent_at = outcome, ReplyStatus.SENT, at
        reply.reviewed_by_id, reply.review_note = staff.id, ""
        self._schedule_publication(reply, at)
        assignment = reply.assignment
        on_time = assignment.reply_due is None or self.clock.local(at).date() <= assignment.reply_due
        assignment.status, assignment.completed_at = AssignmentStatus.DONE, at
        p = self.p
        p.outcome_class = outcome
        if p.rehandling_round == 1:
            p.replied_on_time = on_time if p.replied_on_time is None else (p.replied_on_time and on_time)
        bureau = self._bureau_of(assignment)
        reason = platform.class_of(bureau.name, outcome)
        if self._open(*REPLYING_ROLES):
            self._event(at, staff, "send_reply", reason=reason)
            return
        for co in self._open_co():
            co.status, co.completed_at = AssignmentStatus.DONE, at
        if p.first_replied_at is None:
            p.first_replied_at = at
        p.reply_due = None
        self._event(at, staff, "send_reply", reason=reason, to=S.REPLIED)

    # --- 反馈 -------------------------------------------------------------------------------------

    def _feedback(self) -> None:
        spec, tl, flags = self.spec, self.tl, self.spec.flags
        if tl.send is None:
            return
        if spec.state == S.REPLIED:
            self._partial_ratings(tl.send, self.when.limit, pending="dissatisfaction_pending" in flags)
        elif "office_close" in flags:
            self._partial_ratings(tl.send, need(tl.closed), pending=False)
            self._close(need(tl.closed), texts.OFFICE_CLOSE_REASON)
        elif spec.rehandled or "dismissed" in flags:
            self._ratings(tl.send, need(tl.rated), unsatisfied=spec.proposer)
            self._review_dissatisfaction(need(tl.reviewed), confirm=spec.rehandled)
        else:
            self._ratings(tl.send, need(tl.rated))
        if self.status == S.REHANDLING:
            self._rehandle()
        self._publish()
        if self.status == S.FOLLOW_UP and tl.closed is not None:
            if "follow_up_reply" in flags:
                self._follow_up_reply(tl.closed)
            else:
                self._close(tl.closed, texts.FOLLOW_UP_CLOSE_REASON)

    def _round_replies(self) -> list[Reply]:
        return [r for r in self.replies if r.status == ReplyStatus.SENT and r.round == self.p.rehandling_round]

    def _to_rate(self) -> list[tuple[Person, Reply]]:
        """Everyone rates every reply of the round (under 分办 each bureau's reply is rated)."""
        return [(rater, reply) for reply in self._round_replies() for rater in self.raters()]

    def _rating(self, rater: Person, reply: Reply, at: datetime, result: Rating) -> None:
        """``rate_reply`` (or ``record_paper_feedback`` by the office, marked as such)."""
        on_paper = self.rng.random() < 0.1
        entered_by = self._staff() if on_paper else rater
        others = [Rating.SATISFIED] * 9 + [Rating.BASICALLY]
        self.rows.feedback.append(
            Feedback(
                reply=reply,
                proposal=self.p,
                rater_id=rater.id,
                contact=self.rng.choice(others),
                attitude=self.rng.choice(others),
                result=result,
                comment=self.rng.choice(texts.COMMENTS[result]),
                on_paper=on_paper,
                entered_by_id=entered_by.id,
                created_at=at,
            )
        )
        self.rated.add((id(reply), rater.id))
        rated = (platform.RATED_ON_PAPER if on_paper else platform.RATED)(rating=label("proposals.rating", result))
        self._event(at, entered_by, "rate_reply", reason=rated)
        if result == Rating.UNSATISFIED:
            self.p.dissatisfaction_pending = True
        else:
            self._complete_if_everyone_rated(at, entered_by)

    def _good(self) -> Rating:
        return Rating.SATISFIED if self.rng.random() < 0.82 else Rating.BASICALLY

    def _ratings(self, start: datetime, last: datetime, unsatisfied: Person | None = None) -> None:
        """Everyone rates; the last rating (at ``last``) completes the round, or is the unsatisfied one."""
        pairs = self._to_rate()
        self.rng.shuffle(pairs)
        if unsatisfied is not None:  # the unsatisfied rating comes last: the office reviews it next
            unhappy = next(pair for pair in reversed(pairs) if pair[0] == unsatisfied)
            pairs.remove(unhappy)
            pairs.append(unhappy)
        moments = [*self.when.spread(start, last, len(pairs) - 1, office=False), last]
        for index, ((rater, reply), at) in enumerate(zip(pairs, moments, strict=True)):
            result = Rating.UNSATISFIED if unsatisfied is not None and index == len(pairs) - 1 else self._good()
            self._rating(rater, reply, at, result)

    def _partial_ratings(self, start: datetime, end: datetime, *, pending: bool) -> None:
        """Some have rated, not everyone (or one was not satisfied and the office has not looked yet)."""
        pairs = self._to_rate()
        willing = [pair for pair in pairs if pair[0].id not in self.spec.holdouts]
        self.rng.shuffle(willing)
        rating = willing[: self.rng.randint(0, max(0, len(pairs) - 1))]
        if pending and willing:
            rating = rating or willing[:1]
        moments = self.when.spread(start, end, len(rating), office=False)
        for index, ((rater, reply), at) in enumerate(zip(rating, moments, strict=True)):
            unhappy = pending and index == len(rating) - 1
            self._rating(rater, reply, at, Rating.UNSATISFIED if unhappy else self._good())

    def _complete_if_everyone_rated(self, at: datetime, actor: Person) -> None:
        """``services.feedback._complete_if_everyone_rated``: then follow-up (B/C) or closed (A/D)."""
        if self.status != S.REPLIED or self.p.dissatisfaction_pending:
            return
        if any((id(reply), rater.id) not in self.rated for rater, reply in self._to_rate()):
            return
        if self.p.outcome_class in FOLLOW_UP_CLASSES:
            self._event(at + SECOND, actor, "start_follow_up", to=S.FOLLOW_UP)
        else:
            self.p.closed_at = at + SECOND
            self._event(at + SECOND, actor, "close", to=S.CLOSED)

    def _review_dissatisfaction(self, at: datetime, *, confirm: bool) -> None:
        """``review_dissatisfaction``: confirmed, the replying bureaus handle it again, with a new deadline."""
        staff, p = self._staff(), self.p
        p.dissatisfaction_pending = False
        if not confirm:
            self._event(at, staff, "dismiss_dissatisfaction", reason=texts.DISMISS_REASON)
            self._complete_if_everyone_rated(at, staff)
            return
        replying = [
            a
            for a in self.assignments
            if a.round == p.rehandling_round
            and a.role in REPLYING_ROLES
            and a.status not in (AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN)
        ]
        p.rehandling_round += 1
        p.closed_at = None
        for assignment in replying:
            role = AssignmentRole(assignment.role)
            self._new_assignment(self._bureau_of(assignment), role, at, staff, months=self.rules.rehandling_months)
        self.rated = set()
        self._event(at, staff, "start_rehandling", reason=texts.CONFIRM_REASON, to=S.REHANDLING)
        self._refresh_reply_due()

    def _rehandle(self) -> None:
        """Round 2: accept, talk to the deputy, reply again; everyone rates the new reply."""
        spec, tl = self.spec, self.tl
        assignment = self._open(*REPLYING_ROLES)[0]
        if tl.accept2 is None:
            return
        self._accept(assignment, tl.accept2)
        end = tl.reply2_submit or self.when.limit
        self._communications(assignment, tl.accept2, end)
        if tl.reply2_submit is None:
            return
        text = texts.rehandling_text(self.words.core)
        reply = self._draft_reply(assignment, ReplyKind.REHANDLING, spec.second_class, text)
        self._submit_reply(reply, tl.reply2_submit)
        self._send(reply, need(tl.send2))
        self._ratings(need(tl.send2), need(tl.rated2))

    def _schedule_publication(self, reply: Reply, at: datetime) -> None:
        """``services.reply.schedule_publication``: due within the rule's working days of sending."""
        if not self.p.publication_consent:
            return
        day, days = self.clock.local(at).date(), self.rules.publication_working_days
        reply.publication_due = self.clock.add_working_days(day, days)
        reply.due_basis = {"publication_due": {"start": day.isoformat(), "working_days": days}}

    def _publish(self) -> None:
        """``publish``: the final reply, without contact details, within a few weeks."""
        sent = [r for r in self.replies if r.status == ReplyStatus.SENT and r.round == self.p.rehandling_round]
        if "published" not in self.spec.flags or not sent or self.status not in (S.REPLIED, S.FOLLOW_UP, S.CLOSED):
            return
        reply = sent[-1]
        at = self.when.office_after(need(reply.sent_at), 3, 25)
        reply.public_body, reply.published_at = strip_contact_details(reply.body), at
        self.p.published_at = at
        self._event(at, self._staff(), "publish", reason=self._bureau_of(reply.assignment).name)

    def _follow_up_reply(self, at: datetime) -> None:
        """``send_follow_up_reply``: the B/C matter is solved; the proposal closes."""
        previous = [r for r in self.replies if r.status == ReplyStatus.SENT][-1]  # its bureau follows it up
        assignment = previous.assignment
        bureau = self._bureau_of(assignment)
        actor = self._handler(bureau)
        reply = Reply(
            proposal=self.p,
            assignment=assignment,
            kind=ReplyKind.FOLLOW_UP,
            round=self.p.rehandling_round,
            outcome_class="A",
            drafted_class="A",
            body=texts.follow_up_text(self.words.core),
            contact_person=previous.contact_person,
            contact_phone=previous.contact_phone,
            status=ReplyStatus.SENT,
            drafted_by_id=actor.id,
            submitted_at=at,
            sent_at=at,
        )
        self._schedule_publication(reply, at)
        self.replies.append(reply)
        self.rows.replies.append(reply)
        self.p.outcome_class, self.p.closed_at = "A", at
        self._event(at, actor, "send_follow_up_reply", reason=platform.class_of(bureau.name, "A"), to=S.CLOSED)

    def _close(self, at: datetime, reason: str) -> None:
        """``close`` by the office."""
        self.p.closed_at = at
        self._event(at, self._staff(), "close", reason=reason, to=S.CLOSED)


def tell_all(specs: list[Spec], world: World) -> None:
    """Tell every spec; a merged one inside the story of the proposal it was merged into."""
    for spec in specs:
        if spec.primary is None:
            Story(spec, world).tell()
