"""The lines calls write into a consultation's thread, as codes rendered in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from consult.kernel.texts import declare

CALL_STARTED = declare("call.started", _("%(name)s started a call"))
CALL_JOINED = declare("call.joined", _("%(name)s joined the call"))
CALL_DECLINED = declare("call.declined", _("%(name)s declined the call"))
CALL_MISSED = declare("call.missed", _("Missed call from %(name)s"))
CALL_UNANSWERED = declare("call.unanswered", _("Missed call from %(name)s (no answer)"))
CALL_ENDED = declare("call.ended", _("%(name)s ended the call (%(duration)s)"))
