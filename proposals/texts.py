"""The details the platform writes on a proposal's timeline, as codes rendered in the reader's language.

What people write (a reason, a note) stays as written; what the platform composes around it (a rating's or a
channel's name, "paper form", the punctuation between a bureau and its note) is declared here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consult.kernel.texts import Said, declare, declare_choices, joined, label
from proposals.models.calendar import DayKind
from proposals.models.choices import Channel, OutcomeClass, Rating

declare_choices("proposals.rating", Rating)
declare_choices("proposals.channel", Channel)
declare_choices("proposals.outcome_class", OutcomeClass)
declare_choices("proposals.day_kind", DayKind)


class Deadline(models.TextChoices):
    """The deadlines a calendar change may move, as the timeline names them."""

    RETURN_BY = "return_by", _("return window ends")
    REPLY_DUE = "reply_due", _("reply due")
    OPINION_DUE = "opinion_due", _("opinion due")
    PUBLICATION_DUE = "publication_due", _("publication due")


declare_choices("proposals.deadline", Deadline)

RATED = declare("timeline.rated", _("Rated: %(rating)s"))
RATED_ON_PAPER = declare("timeline.rated_on_paper", _("%(rating)s (paper form)"))
COMMUNICATED = declare("timeline.communicated", _("%(bureau)s (%(channel)s)"))
BUREAU_NOTE = declare("timeline.bureau_note", _("%(bureau)s: %(note)s"))
BUREAU_CLASS = declare("timeline.bureau_class", _("%(bureau)s: %(outcome)s"))
UNTIL = declare("timeline.until", _("until %(day)s: %(reason)s"))


def class_of(bureau: str, outcome_class: str) -> Said:
    """A reply's class after the bureau's name (sent, follow-up sent)."""
    return BUREAU_CLASS(bureau=bureau, outcome=label("proposals.outcome_class", outcome_class))


# The calendar-recompute detail: "Calendar changed (2027-02-05 春节 (statutory holiday), 2027-02-07 ordinary day
# off): 市交通委: reply due 2027-05-01 → 2027-05-06; …". A day's name (春节) is the calendar's data, kept as entered.
CALENDAR_CHANGED = declare("timeline.calendar_changed", _("Calendar changed (%(days)s): %(moves)s"))
DEADLINE_MOVED = declare("timeline.deadline_moved", _("%(bureau)s: %(deadline)s %(old)s → %(new)s"))
NAMED_DAY = declare("timeline.named_day", _("%(day)s %(name)s (%(kind)s)"))
WORKING_DAY = declare("timeline.working_day", _("%(day)s ordinary working day"))
DAY_OFF = declare("timeline.day_off", _("%(day)s ordinary day off"))
DAYS_SEPARATOR = declare("timeline.days_separator", pgettext_lazy("between the days of a list", ", "))
MOVES_SEPARATOR = declare("timeline.moves_separator", pgettext_lazy("between the moved deadlines", "; "))


def deadline_moved(bureau: str, deadline: str, old: date, new: date) -> Said:
    """One deadline of ``bureau`` (a ``Deadline`` value) counted again."""
    return DEADLINE_MOVED(
        bureau=bureau, deadline=label("proposals.deadline", deadline), old=old.isoformat(), new=new.isoformat()
    )


def calendar_changed(days: Iterable[Said], moves: Iterable[Said]) -> Said:
    """The changed days (``NAMED_DAY``, ``WORKING_DAY``, ``DAY_OFF``) and the deadlines they moved."""
    return CALENDAR_CHANGED(days=joined(days, DAYS_SEPARATOR), moves=joined(moves, MOVES_SEPARATOR))
