"""Forms of the pages: they give the input its shape (types, choices); the services judge it.

Field names follow the keyword arguments of the service each form feeds, so a ``DomainError``
naming a field (``exc.field``) lands beside that field. Text the services check (required, length)
is left optional here, so the user reads one voice: the service's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from consult.models import Bureau, DeputyProfile, User
from consult.people import login_throttle
from proposals.access import recipients_of  # who may rate: the services' own answer
from proposals.categories import Category
from proposals.filters import ProposalFilter
from proposals.models import Channel, OutcomeClass, Proposal, ProposalKind, Rating


class ThrottledAuthenticationForm(AuthenticationForm):
    """Says plainly when sign-in is locked, instead of the generic wrong-password message."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed sign-in attempts. Please try again in %(minutes)d minutes."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and login_throttle.is_locked(username, self.request):
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60},
            )
        return super().clean()


# --- shared pieces --------------------------------------------------------------------------------

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _yes(value: str) -> bool:
    return value == "yes"


def text(
    label: StrOrPromise, *, rows: int = 0, max_length: int | None = None, help_text: StrOrPromise = ""
) -> forms.CharField:
    """Optional at the form: the service says whether it is required and how long it may be."""
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label, required=False, strip=True, max_length=max_length, widget=widget, help_text=help_text
    )


def date_field(label: StrOrPromise) -> forms.DateField:
    """A date picker; ISO format is what ``<input type=date>`` reads and sends."""
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def hidden_id() -> forms.IntegerField:
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def rating(label: StrOrPromise) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=Rating.choices, widget=forms.RadioSelect)


def outcome_class(label: StrOrPromise, *, blank: StrOrPromise | None = None) -> forms.ChoiceField:
    choices = ([("", blank)] if blank is not None else []) + list(OutcomeClass.choices)
    widget = forms.Select if blank is not None else forms.RadioSelect
    return forms.ChoiceField(label=label, required=False, choices=choices, widget=widget)


def bureau_choices(bureaus: Iterable[Bureau]) -> list[tuple[int, str]]:
    return [(bureau.pk, bureau.name) for bureau in bureaus]


def set_choices(field: forms.Field, choices: list[Any]) -> None:
    cast(forms.ChoiceField, field).choices = choices


class IdListField(forms.Field):
    """Ticked rows of a table (``<input type=checkbox name=selected value=id>``), as a sorted list of ids."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one row."),
        "invalid": _("The selection is not valid."),
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError) as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class UserForm(forms.Form):
    """A form built for one user: its choices are what that user may see."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user


class ProposalActionForm(UserForm):
    """A form acting on one proposal (an action of ``frontend.views_proposals.registry``)."""

    action_url = ""  # where it posts: set by the page that shows it
    shown = False  # whether the page showed this form (a refused one it did not show has its errors put on top)

    def __init__(self, *args: Any, proposal: Proposal, **kwargs: Any) -> None:
        self.proposal = proposal
        super().__init__(*args, **kwargs)


class EmptyForm(ProposalActionForm):
    """An action with nothing to type: submit, register, accept."""


# --- 提出 -------------------------------------------------------------------------------------------


class DraftForm(forms.Form):
    title = text(_("Subject"), max_length=120, help_text=_("The subject in one line."))
    body = text(_("Text"), rows=12)
    category = forms.ChoiceField(label=_("Category"), required=False)
    wished_lead_bureau_id = forms.TypedChoiceField(
        label=_("Wished lead bureau"), required=False, coerce=int, empty_value=None
    )
    wished_co_bureau_ids = forms.TypedMultipleChoiceField(
        label=_("Wished co-handling bureaus"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    publication_consent = forms.BooleanField(
        label=_("I agree that the proposal and its reply may be published"), required=False, initial=True
    )
    publication_refusal_reason = text(_("Reason for not publishing"), max_length=200)

    def __init__(self, *args: Any, bureaus: QuerySet[Bureau], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = bureau_choices(bureaus)
        set_choices(self.fields["category"], [("", _("Choose a category")), *Category.choices])
        set_choices(self.fields["wished_lead_bureau_id"], [("", _("No preference")), *choices])
        set_choices(self.fields["wished_co_bureau_ids"], choices)

    @staticmethod
    def initial_of(proposal: Proposal) -> dict[str, Any]:
        return {
            "title": proposal.title,
            "body": proposal.body,
            "category": proposal.category,
            "wished_lead_bureau_id": proposal.wished_lead_bureau_id,
            "wished_co_bureau_ids": [b.pk for b in proposal.wished_co_bureaus.all()],
            "publication_consent": proposal.publication_consent,
            "publication_refusal_reason": proposal.publication_refusal_reason,
        }


def deputy_label(profile: DeputyProfile) -> str:
    where = profile.delegation or profile.sector
    name = profile.user.get_full_name()
    return str(_("%(name)s (%(where)s)") % {"name": name, "where": where}) if where else name


class InviteCosignerForm(ProposalActionForm):
    """Any deputy of the proposer's chamber (the only ones they can see); the service judges the rest."""

    deputy_id = forms.IntegerField(label=_("Deputy to invite"), widget=forms.Select)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        profiles = (
            DeputyProfile.objects.visible_to(self.user)
            .exclude(user=self.user)
            .select_related("user")
            .order_by("user__full_name", "pk")
        )
        choices = [("", _("Choose a deputy")), *[(p.user_id, deputy_label(p)) for p in profiles]]
        self.fields["deputy_id"].widget = forms.Select(
            choices=choices, attrs={"data-filter": _("Type a name to filter")}
        )


class DropCosignerForm(ProposalActionForm):
    deputy_id = hidden_id()


class RespondCosignForm(ProposalActionForm):
    sign = forms.TypedChoiceField(choices=YES_NO, coerce=_yes, widget=forms.HiddenInput)


class AttachmentForm(ProposalActionForm):
    file = forms.FileField(label=_("File"), help_text=_("PDF, Word, Excel, images or text; up to 10 MB."))


class RemoveAttachmentForm(ProposalActionForm):
    attachment_id = hidden_id()


class RatingForm(ProposalActionForm):
    reply_id = hidden_id()
    contact = rating(_("Contact and communication"))
    attitude = rating(_("Attitude in handling"))
    result = rating(_("Result of handling"))
    comment = text(_("Comment"), rows=3, help_text=_("Required when you are not satisfied: say why."))

    def clean(self) -> dict[str, Any]:
        """Mark every missing choice at once (the service names only the first), and a 不满意 without a reason."""
        data = super().clean() or {}
        for name in ("contact", "attitude", "result"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("choose satisfied, basically satisfied or unsatisfied"))
        if data.get("result") == Rating.UNSATISFIED and not data.get("comment"):
            self.add_error("comment", _("say why you are not satisfied"))
        return data


# --- 立案 -------------------------------------------------------------------------------------------


class ReasonForm(ProposalActionForm):
    reason = text(_("Reason"), rows=3)


class MergeForm(ProposalActionForm):
    into = forms.CharField(
        label=_("Merge into number"), max_length=30, help_text=_("For example 2027-建-0012, or just 12.")
    )
    reason = text(_("Note"), max_length=200)

    def clean_into(self) -> str:
        value: str = self.cleaned_data["into"].strip()
        same_session = Proposal.objects.visible_to(self.user).filter(session_id=self.proposal.session_id)
        found = ProposalFilter({"number": value}, queryset=same_session).qs.values_list("pk", flat=True)[:2]
        if len(found) != 1:
            raise ValidationError(_("No proposal of this session has that number."), code="unknown_number")
        self.cleaned_data["into_id"] = found[0]
        return value


# --- 交办 -------------------------------------------------------------------------------------------


class AssignPlanForm(UserForm):
    """One lead bureau with co-handlers (主办 + 会办), or separate bureaus each replying (分办)."""

    lead = forms.TypedChoiceField(label=_("Lead bureau"), required=False, coerce=int, empty_value=None)
    co = forms.TypedMultipleChoiceField(
        label=_("Co-handling bureaus"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    separate = forms.TypedMultipleChoiceField(
        label=_("Or: separate bureaus, each replying"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = bureau_choices(Bureau.objects.visible_to(self.user).filter(is_active=True))
        set_choices(self.fields["lead"], [("", _("No lead bureau")), *choices])
        set_choices(self.fields["co"], choices)
        set_choices(self.fields["separate"], choices)


class AssignForm(ProposalActionForm, AssignPlanForm):
    pass


class BulkAssignForm(AssignPlanForm):
    selected = IdListField()


class BulkSelectionForm(forms.Form):
    selected = IdListField()


# --- 办理 -------------------------------------------------------------------------------------------


class AssignmentForm(ProposalActionForm):
    """Acts for the user's bureau through its assignment (accept, submit the reply)."""

    assignment_id = hidden_id()


class UrgeForm(AssignmentForm):
    """催办: the office reminds a bureau of an open assignment."""

    note = text(_("Note to the bureau (optional)"), max_length=500)


class ReturnForm(AssignmentForm):
    reason = text(_("Why the bureau returns it"), rows=3)


class CommunicationForm(AssignmentForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    occurred_on = date_field(_("Date"))
    summary = text(_("What was discussed"), rows=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_on"].initial = timezone.localdate()


class OpinionForm(AssignmentForm):
    body = text(_("Opinion for the lead bureau"), rows=5)


class ExtensionForm(AssignmentForm):
    requested_due = date_field(_("New reply deadline"))
    reason = text(_("Reason"), rows=3)


class ReplyDraftForm(AssignmentForm):
    outcome_class = outcome_class(_("Outcome class"))
    body = text(_("Reply"), rows=10)
    contact_person = text(_("Contact person"), max_length=32)
    contact_phone = text(_("Contact phone"), max_length=32)


class SignOffForm(AssignmentForm):
    reply_id = hidden_id()
    comment = text(_("Comment (optional)"), max_length=500)


class FollowUpForm(AssignmentForm):
    outcome_class = outcome_class(_("Outcome class now"))
    body = text(_("Follow-up reply"), rows=6)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome_class"].initial = OutcomeClass.A


# --- 督办 -------------------------------------------------------------------------------------------


class DecideExtensionForm(ProposalActionForm):
    request_id = hidden_id()
    approve = forms.TypedChoiceField(choices=YES_NO, coerce=_yes, widget=forms.HiddenInput)
    note = text(_("Note"), max_length=500)


class ReviewReplyForm(ProposalActionForm):
    reply_id = hidden_id()
    approve = forms.TypedChoiceField(choices=YES_NO, coerce=_yes, widget=forms.HiddenInput)
    outcome_class = outcome_class(_("Outcome class"), blank=_("Keep the bureau's class"))
    note = text(_("Review note"), max_length=500)


class DissatisfactionForm(ProposalActionForm):
    confirm = forms.TypedChoiceField(choices=YES_NO, coerce=_yes, widget=forms.HiddenInput)
    reason = text(_("Reason"), rows=3)


class PublishForm(ProposalActionForm):
    reply_id = hidden_id()
    public_body = text(
        _("Text to publish"),
        rows=4,
        help_text=_("Leave empty to publish the reply as sent. Phone numbers and emails are removed."),
    )


class PaperFeedbackForm(RatingForm):
    """The office types in a rating a proposer or co-signer gave on paper."""

    rater_id = forms.IntegerField(label=_("Rated by"), widget=forms.Select)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.visible_to(self.user).filter(pk__in=recipients_of(self.proposal)).order_by("full_name")
        choices = [("", _("Choose who rated")), *[(u.pk, u.get_full_name()) for u in people]]
        self.fields["rater_id"].widget = forms.Select(choices=choices)
        self.order_fields(["reply_id", "rater_id"])


class OverdueFilterForm(forms.Form):
    """The supervision desk's filters of overdue assignments (GET): bureau, days overdue, kind."""

    bureau = forms.TypedChoiceField(label=_("Bureau"), required=False, coerce=int, empty_value=None)
    min_days = forms.IntegerField(
        label=_("Overdue by at least (days)"), required=False, min_value=1, max_value=3650, widget=forms.NumberInput
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Suggestions and proposals")), *ProposalKind.choices]
    )

    def __init__(self, *args: Any, bureaus: Iterable[Bureau], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self.fields["bureau"], [("", _("All bureaus")), *bureau_choices(bureaus)])


class StatisticsForm(forms.Form):
    """办理统计's scope (GET): a session year (with the kind: one session) or a range of submission dates.
    The parameters are the API's (``/api/proposals/metrics/``), so the export links reuse them."""

    year = forms.TypedChoiceField(label=_("Session"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Suggestions and proposals")), *ProposalKind.choices]
    )
    date_from = forms.DateField(
        label=_("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("Submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self.fields["year"], [*((year, str(year)) for year in years), ("", _("Any (by dates)"))])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if data.get("year") is None and first is None and last is None and "year" not in self.errors:
            self.add_error("year", _("Choose a session, or give the dates to count from and until."))
        if first is not None and last is not None and first > last:
            self.add_error("date_to", _("The end date comes before the start date."))
        return data
