"""Forms of the desk pages. Field names are the keyword arguments of the service each form feeds, so a
``DomainError`` naming a field lands beside it; text the services check (required, length) is optional here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consult.models import Bureau, ExpertProfile, Outcome, PresenceStatus
from frontend.forms import set_choices, text
from proposals.models import Proposal

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def expert_label(expert: ExpertProfile, *, with_bureau: bool = False) -> str:
    title = f" · {expert.title}" if expert.title else ""
    label = f"{expert.user.full_name}{title}"
    return str(_("%(expert)s (%(bureau)s)") % {"expert": label, "bureau": expert.bureau.name}) if with_bureau else label


class StartForm(forms.Form):
    """开始咨询: a bureau, optionally a named expert of it (点将), the topic, optionally one of my proposals."""

    bureau_id = forms.TypedChoiceField(label=_("Bureau"), coerce=int)
    # Radios drawn by the page (with online dots); the service checks the expert works for the bureau.
    expert_id = forms.IntegerField(label=_("Expert"), required=False, min_value=1)
    topic = text(_("What would you like to ask?"), rows=3)
    proposal_id = forms.TypedChoiceField(
        label=_("About one of my proposals"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, bureaus: Iterable[Bureau], proposals: Iterable[Proposal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self.fields["bureau_id"], [("", _("Choose a bureau")), *((b.pk, b.name) for b in bureaus)])
        set_choices(self.fields["proposal_id"], [("", _("None")), *((p.pk, str(p)) for p in proposals)])


class TransferForm(forms.Form):
    """转接: to a named expert (a colleague, or of another bureau), or to a bureau's queue."""

    to_expert_id = forms.TypedChoiceField(label=_("To a colleague"), coerce=int, required=False, empty_value=None)
    to_bureau_id = forms.TypedChoiceField(
        label=_("Or to a bureau's queue"), coerce=int, required=False, empty_value=None
    )
    note = text(_("Note for the thread"), rows=2)

    def __init__(
        self,
        *args: Any,
        colleagues: Iterable[tuple[ExpertProfile, bool]],
        bureaus: Iterable[Bureau],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        online, offline = _("online"), _("offline")
        experts = [(e.pk, f"{expert_label(e)} · {online if here else offline}") for e, here in colleagues]
        set_choices(self.fields["to_expert_id"], [("", _("No one in particular")), *experts])
        set_choices(self.fields["to_bureau_id"], [("", _("My bureau's queue")), *((b.pk, b.name) for b in bureaus)])


class OutcomeForm(forms.Form):
    """What came of it: 当场答复 / 需跟进 / 转为建议, and a note."""

    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=Outcome.choices, widget=forms.RadioSelect)
    note = text(_("Note"), rows=3)


class RatingForm(forms.Form):
    """The deputy's rating, 1 to 5 stars, and a comment."""

    rating = forms.TypedChoiceField(
        label=_("Rating"), coerce=int, required=False, empty_value=None, choices=[(n, str(n)) for n in range(1, 6)]
    )
    comment = text(_("Comment"), rows=2, max_length=500)


class PresenceForm(forms.Form):
    status = forms.ChoiceField(
        label=_("My status"), choices=[(PresenceStatus.ONLINE, _("Online")), (PresenceStatus.AWAY, _("Away"))]
    )


class PeriodForm(forms.Form):
    """开放咨询时段: a name, when, the bureaus on duty and (optionally) the experts on duty."""

    name = text(_("Period name"), max_length=100)
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"),
        input_formats=[DATETIME_LOCAL],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    bureau_ids = forms.TypedMultipleChoiceField(
        label=_("Bureaus on duty"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    expert_ids = forms.TypedMultipleChoiceField(
        label=_("Experts on duty"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, bureaus: Iterable[Bureau], experts: Iterable[ExpertProfile], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self.fields["bureau_ids"], [(b.pk, b.name) for b in bureaus])
        set_choices(self.fields["expert_ids"], [(e.pk, expert_label(e, with_bureau=True)) for e in experts])
