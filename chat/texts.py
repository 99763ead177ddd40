"""The lines calls write into a consultation's thread, as codes rendered in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from consult.kernel.texts import declare

CALL_STARTED = declare("call.started", _("%(name)s started a call"))
CALL_ENTERED = declare("call.entered", _("%(name)s entered the call"))
CALL_JOINED = declare("call.joined", _("%(name)s joined the call"))
CALL_DECLINED = declare("call.declined", _("%(name)s declined the call"))
CALL_DECLINED_INVITATION = declare("call.declined_invitation", _("%(name)s declined to join the call"))
CALL_LEFT = declare("call.left", _("%(name)s left the call"))
CALL_INVITED = declare("call.invited", _("%(name)s invited %(guest)s to the call"))
CALL_MISSED = declare("call.missed", _("Missed call from %(name)s"))
CALL_UNANSWERED = declare("call.unanswered", _("Missed call from %(name)s (no answer)"))
CALL_ENDED = declare("call.ended", _("%(name)s ended the call (%(duration)s)"))
CALL_MEDIA_LOST = declare("call.media_lost", _("The call ended: the media server stopped answering (%(duration)s)"))
CALL_RECORDING_PURGED = declare(
    "call.recording_purged", _("Call recording of %(started)s deleted after %(days)s days; transcript kept")
)
