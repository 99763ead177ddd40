"""The details the platform writes on a proposal's timeline, as codes rendered in the reader's language.

What people write (a reason, a note) stays as written; what the platform composes around it (a rating's or a
channel's name, "paper form", the punctuation between a bureau and its note) is declared here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from consult.kernel.texts import Said, declare, declare_choices, label
from proposals.models.choices import Channel, OutcomeClass, Rating

declare_choices("proposals.rating", Rating)
declare_choices("proposals.channel", Channel)
declare_choices("proposals.outcome_class", OutcomeClass)

RATED = declare("timeline.rated", _("Rated: %(rating)s"))
RATED_ON_PAPER = declare("timeline.rated_on_paper", _("%(rating)s (paper form)"))
COMMUNICATED = declare("timeline.communicated", _("%(bureau)s (%(channel)s)"))
BUREAU_NOTE = declare("timeline.bureau_note", _("%(bureau)s: %(note)s"))
BUREAU_CLASS = declare("timeline.bureau_class", _("%(bureau)s: %(outcome)s"))
UNTIL = declare("timeline.until", _("until %(day)s: %(reason)s"))


def class_of(bureau: str, outcome_class: str) -> Said:
    """A reply's class after the bureau's name (sent, follow-up sent)."""
    return BUREAU_CLASS(bureau=bureau, outcome=label("proposals.outcome_class", outcome_class))
