"""Every action a proposal page offers, keyed by ``proposals.actions.Action``: its form, the ONE service it calls
(``proposals.services.<action>``), and what to say when done.

Pages build the forms from here (``form_for``); ``act`` binds the posted form, calls the service and
either redirects (done) or shows the page again with the service's message beside the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from consult.models import User
from frontend import forms as f
from frontend.views_proposals.common import BoundForms, auto_id, slot_name, with_messages
from proposals import services
from proposals.actions import Action
from proposals.models import Proposal

Data = Mapping[str, Any]


@dataclass(frozen=True)
class PageAction:
    form: type[f.ProposalActionForm]
    perform: Callable[[User, Proposal, Data], object]
    done: Callable[[Data], StrOrPromise]
    target: str = ""  # the hidden field naming what is acted on, when a page shows several such forms
    field_map: Mapping[str, str] = field(default_factory=dict)  # service field -> form field


def said(message: StrOrPromise) -> Callable[[Data], StrOrPromise]:
    return lambda data: message


def either(key: str, yes: StrOrPromise, no: StrOrPromise) -> Callable[[Data], StrOrPromise]:
    return lambda data: yes if data[key] else no


def _attach(user: User, proposal: Proposal, data: Data) -> object:
    upload: UploadedFile[Any] = data["file"]
    stream = cast("IO[bytes]", upload)  # an UploadedFile reads and seeks like the file it wraps
    return services.attach(
        actor=user, proposal_id=proposal.pk, name=upload.name or "", size=upload.size or 0, stream=stream
    )


def _rating(data: Data) -> dict[str, Any]:
    keys = ("reply_id", "contact", "attitude", "result", "comment")
    return {key: data[key] for key in keys}


ACTIONS: dict[Action, PageAction] = {
    # 提出 (the proposer, and invited co-signers)
    Action.INVITE_COSIGNER: PageAction(
        f.InviteCosignerForm,
        lambda u, p, d: services.invite_cosigner(actor=u, proposal_id=p.pk, deputy_id=d["deputy_id"]),
        said(_("The invitation to co-sign was sent.")),
    ),
    Action.DROP_COSIGNER: PageAction(
        f.DropCosignerForm,
        lambda u, p, d: services.drop_cosigner(actor=u, proposal_id=p.pk, deputy_id=d["deputy_id"]),
        said(_("The co-signer was removed.")),
        target="deputy_id",
    ),
    Action.COSIGN: PageAction(
        f.RespondCosignForm,
        lambda u, p, d: services.cosign(actor=u, proposal_id=p.pk, sign=d["sign"]),
        either("sign", _("You co-signed the proposal."), _("You declined to co-sign.")),
    ),
    Action.ATTACH: PageAction(f.AttachmentForm, _attach, said(_("The file was attached."))),
    Action.REMOVE_ATTACHMENT: PageAction(
        f.RemoveAttachmentForm,
        lambda u, p, d: services.remove_attachment(actor=u, proposal_id=p.pk, attachment_id=d["attachment_id"]),
        said(_("The file was removed.")),
        target="attachment_id",
    ),
    Action.SUBMIT: PageAction(
        f.EmptyForm,
        lambda u, p, d: services.submit(actor=u, proposal_id=p.pk),
        said(_("The proposal was submitted to the office.")),
    ),
    Action.RATE_REPLY: PageAction(
        f.RatingForm,
        lambda u, p, d: services.rate_reply(actor=u, proposal_id=p.pk, **_rating(d)),
        said(_("Thank you: your rating was recorded.")),
        target="reply_id",
    ),
    # 立案 and 交办 (the office)
    Action.REGISTER: PageAction(
        f.EmptyForm,
        lambda u, p, d: services.register(actor=u, proposal_id=p.pk),
        said(_("The proposal was registered.")),
    ),
    Action.DECLINE_REGISTRATION: PageAction(
        f.ReasonForm,
        lambda u, p, d: services.decline_registration(actor=u, proposal_id=p.pk, reason=d["reason"]),
        said(_("The proposal was not registered.")),
    ),
    Action.MERGE: PageAction(
        f.MergeForm,
        lambda u, p, d: services.merge(actor=u, proposal_id=p.pk, into_id=d["into_id"], reason=d["reason"]),
        said(_("The proposal was merged.")),
        field_map={"into_id": "into"},
    ),
    Action.CONVERT_TO_LETTER: PageAction(
        f.ReasonForm,
        lambda u, p, d: services.convert_to_letter(actor=u, proposal_id=p.pk, reason=d["reason"]),
        said(_("The proposal is now handled as a letter.")),
    ),
    Action.ASSIGN: PageAction(
        f.AssignForm,
        lambda u, p, d: services.assign(actor=u, proposal_id=p.pk, lead=d["lead"], co=d["co"], separate=d["separate"]),
        said(_("The proposal was assigned.")),
    ),
    # 办理 and 答复 (handlers, for their bureau's assignment)
    Action.ACCEPT_ASSIGNMENT: PageAction(
        f.AssignmentForm,
        lambda u, p, d: services.accept_assignment(actor=u, proposal_id=p.pk, assignment_id=d["assignment_id"]),
        said(_("Your bureau accepted the proposal.")),
        target="assignment_id",
    ),
    Action.RETURN_ASSIGNMENT: PageAction(
        f.ReturnForm,
        lambda u, p, d: services.return_assignment(
            actor=u, proposal_id=p.pk, assignment_id=d["assignment_id"], reason=d["reason"]
        ),
        said(_("The proposal was returned to the office.")),
        target="assignment_id",
    ),
    Action.RECORD_COMMUNICATION: PageAction(
        f.CommunicationForm,
        lambda u, p, d: services.record_communication(
            actor=u,
            proposal_id=p.pk,
            assignment_id=d["assignment_id"],
            channel=d["channel"],
            occurred_on=d["occurred_on"],
            summary=d["summary"],
        ),
        said(_("The communication was recorded.")),
        target="assignment_id",
    ),
    Action.SUBMIT_OPINION: PageAction(
        f.OpinionForm,
        lambda u, p, d: services.submit_opinion(
            actor=u, proposal_id=p.pk, assignment_id=d["assignment_id"], body=d["body"]
        ),
        said(_("The opinion was sent to the lead bureau.")),
        target="assignment_id",
    ),
    Action.REQUEST_EXTENSION: PageAction(
        f.ExtensionForm,
        lambda u, p, d: services.request_extension(
            actor=u,
            proposal_id=p.pk,
            assignment_id=d["assignment_id"],
            requested_due=d["requested_due"],
            reason=d["reason"],
        ),
        said(_("The extension request was sent to the office.")),
        target="assignment_id",
    ),
    Action.DRAFT_REPLY: PageAction(
        f.ReplyDraftForm,
        lambda u, p, d: services.draft_reply(
            actor=u,
            proposal_id=p.pk,
            assignment_id=d["assignment_id"],
            outcome_class=d["outcome_class"],
            body=d["body"],
            contact_person=d["contact_person"],
            contact_phone=d["contact_phone"],
        ),
        said(_("The draft reply was saved.")),
        target="assignment_id",
    ),
    Action.SUBMIT_REPLY: PageAction(
        f.AssignmentForm,
        lambda u, p, d: services.submit_reply(actor=u, proposal_id=p.pk, assignment_id=d["assignment_id"]),
        said(_("The reply was submitted.")),
        target="assignment_id",
    ),
    Action.SIGN_OFF_REPLY: PageAction(
        f.SignOffForm,
        lambda u, p, d: services.sign_off_reply(
            actor=u, proposal_id=p.pk, reply_id=d["reply_id"], assignment_id=d["assignment_id"], comment=d["comment"]
        ),
        said(_("Your bureau signed the reply.")),
        target="reply_id",
    ),
    Action.SEND_FOLLOW_UP_REPLY: PageAction(
        f.FollowUpForm,
        lambda u, p, d: services.send_follow_up_reply(
            actor=u,
            proposal_id=p.pk,
            assignment_id=d["assignment_id"],
            body=d["body"],
            outcome_class=d["outcome_class"],
        ),
        said(_("The follow-up reply was sent.")),
        target="assignment_id",
    ),
    # 督办 (the office)
    Action.DECIDE_EXTENSION: PageAction(
        f.DecideExtensionForm,
        lambda u, p, d: services.decide_extension(
            actor=u, proposal_id=p.pk, request_id=d["request_id"], approve=d["approve"], note=d["note"]
        ),
        either("approve", _("The extension was approved."), _("The extension was refused.")),
        target="request_id",
    ),
    Action.URGE: PageAction(
        f.UrgeForm,
        lambda u, p, d: services.urge(actor=u, proposal_id=p.pk, assignment_id=d["assignment_id"], note=d["note"]),
        said(_("The bureau was urged to reply.")),
        target="assignment_id",
    ),
    Action.REVIEW_REPLY: PageAction(
        f.ReviewReplyForm,
        lambda u, p, d: services.review_reply(
            actor=u,
            proposal_id=p.pk,
            reply_id=d["reply_id"],
            approve=d["approve"],
            outcome_class=d["outcome_class"],
            note=d["note"],
        ),
        either("approve", _("The reply was sent to the proposers."), _("The reply was returned for revision.")),
        target="reply_id",
    ),
    Action.REVIEW_DISSATISFACTION: PageAction(
        f.DissatisfactionForm,
        lambda u, p, d: services.review_dissatisfaction(
            actor=u, proposal_id=p.pk, confirm=d["confirm"], reason=d["reason"]
        ),
        either("confirm", _("Re-handling has started."), _("The unsatisfied rating was set aside.")),
    ),
    Action.PUBLISH: PageAction(
        f.PublishForm,
        lambda u, p, d: services.publish(
            actor=u, proposal_id=p.pk, reply_id=d["reply_id"], public_body=d["public_body"]
        ),
        said(_("The reply was published.")),
        target="reply_id",
    ),
    Action.CLOSE: PageAction(
        f.ReasonForm,
        lambda u, p, d: services.close(actor=u, proposal_id=p.pk, reason=d["reason"]),
        said(_("The proposal was closed.")),
    ),
    Action.RECORD_PAPER_FEEDBACK: PageAction(
        f.PaperFeedbackForm,
        lambda u, p, d: services.record_paper_feedback(actor=u, proposal_id=p.pk, rater_id=d["rater_id"], **_rating(d)),
        said(_("The paper feedback was recorded.")),
        target="reply_id",
    ),
}


def form_for(
    name: Action,
    user: User,
    proposal: Proposal,
    bound: BoundForms,
    *,
    target: object = None,
    initial: Mapping[str, Any] | None = None,
) -> forms.Form:
    """The form of ``name`` for this proposal: the one that just failed, or a fresh one."""
    action = ACTIONS[name]
    slot = slot_name(name, target)
    failed = bound.get((proposal.pk, slot))
    if isinstance(failed, f.ProposalActionForm):
        failed.shown = True
        return failed
    values = dict(initial or {})
    if action.target and target is not None:
        values.setdefault(action.target, target)
    form = action.form(user=user, proposal=proposal, initial=values, auto_id=auto_id(proposal.pk, slot))
    form.action_url = reverse("proposal-act", args=[proposal.pk, name])
    return form


# --- a refused form, shown again on its own page (post, redirect, get) ------------------------------------

REFUSED_KEY = "refused_action"


def keep_refused(
    request: HttpRequest, proposal: Proposal, name: Action, slot: str, form: forms.Form, status: int
) -> None:
    """Keep a refused form for the page it came from, which ``act`` redirects to: a reload never posts again."""
    data = {key: values for key, values in request.POST.lists() if key != "csrfmiddlewaretoken"}
    errors = {key: [str(message) for message in messages] for key, messages in form.errors.items()}
    request.session[REFUSED_KEY] = {
        "pk": proposal.pk,
        "name": str(name),
        "slot": slot,
        "data": data,
        "errors": errors,
        "status": status,
    }


def take_refused(request: HttpRequest, user: User) -> tuple[BoundForms, int]:
    """The form ``act`` refused, rebuilt with what was typed and the same messages, and the refusal's status.

    Shown once: the next visit shows the page as it is. Files are not kept (a browser never refills them).
    """
    kept = request.session.pop(REFUSED_KEY, None) if hasattr(request, "session") else None
    if not isinstance(kept, dict):
        return {}, 200
    try:
        action = ACTIONS[Action(kept["name"])]
        proposal = Proposal.objects.visible_to(user).filter(pk=int(kept["pk"])).first()
    except (KeyError, ValueError, TypeError):
        return {}, 200
    if proposal is None:
        return {}, 200
    slot = str(kept["slot"])
    data = QueryDict(mutable=True)
    for key, values in dict(kept.get("data", {})).items():
        data.setlist(key, [str(value) for value in values])
    form = action.form(data, user=user, proposal=proposal, auto_id=auto_id(proposal.pk, slot))
    form.action_url = reverse("proposal-act", args=[proposal.pk, kept["name"]])
    # The messages it had (a service's too), not a second validation: the file it carried is not kept.
    errors = {str(key): [str(m) for m in messages] for key, messages in dict(kept.get("errors", {})).items()}
    return {(proposal.pk, slot): with_messages(form, errors)}, int(kept.get("status", 400))
