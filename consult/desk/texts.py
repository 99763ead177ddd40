"""The lines the consultation desk writes into a thread, as codes rendered in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from consult.desk.models import Outcome
from consult.kernel.texts import declare, declare_choices

declare_choices("desk.outcome", Outcome)

STARTED = declare("desk.started", _("%(name)s started a consultation with %(bureau)s: %(topic)s"))
JOINED = declare("desk.joined", _("Expert %(name)s (%(bureau)s) joined"))
TRANSFERRED = declare("desk.transferred", _("%(name)s transferred the consultation to %(who)s: %(note)s"))
ENDED = declare("desk.ended", _("%(name)s ended the consultation"))
OUTCOME = declare("desk.outcome", _("Outcome recorded: %(outcome)s"))
