"""Messages of a consultation: numbered per consultation, idempotent by the sender's client id."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consult.kernel.texts import render

USER = settings.AUTH_USER_MODEL


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    FILE = "file", _("File")
    IMAGE = "image", _("Image")
    SYSTEM = "system", _("System")
    VOICE = "voice", _("Voice message")


class Message(models.Model):
    consultation = models.ForeignKey("consult.Consultation", on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(_("number"))
    sender = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    client_id = models.CharField(_("client id"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    body = models.TextField(_("text"), blank=True)
    file = models.FileField(_("file"), upload_to="chat/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_size = models.PositiveIntegerField(_("file size"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # The consultation's change number of this message's last edit or deletion (0: never changed). Changes are
    # numbered 1, 2, 3 … per consultation; the highest is the consultation's change counter (PROTOCOL.md rule 7).
    change = models.PositiveIntegerField(_("change number"), default=0)
    # Voice messages (kind "voice"): the clip's length as decoded, and a few dozen loudness levels (0-1) for the
    # level bar; both measured on the server from the audio itself (chat.voice).
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    levels = models.JSONField(_("levels"), default=list, blank=True)
    # System lines: the platform text's code and parameters (consult.kernel.texts); ``body`` keeps its wording in
    # the site's language for search and for lines written before codes existed.
    code = models.CharField(_("text code"), max_length=60, blank=True)
    params = models.JSONField(_("text parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["consultation_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["consultation", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="message_client_id_once",
            ),
        ]
        indexes = [
            models.Index(fields=["consultation", "change"], condition=Q(change__gt=0), name="message_change_idx")
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id}#{self.seq}"

    @property
    def text(self) -> str:
        """The body as the reader sees it: a system line in the active language, anything else as written."""
        return render(self.code, self.params, fallback=self.body) if self.code else self.body


class MessageRevision(models.Model):
    """The text a message had before an edit or deletion (the history is kept)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField(_("text"))
    replaced_at = models.DateTimeField(_("replaced at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message revision")
        verbose_name_plural = _("message revisions")
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"revision of {self.message_id}"


class ReadMarker(models.Model):
    """How far a participant has read (已读)."""

    consultation = models.ForeignKey("consult.Consultation", on_delete=models.CASCADE, related_name="read_markers")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    last_read_seq = models.PositiveIntegerField(_("last read number"), default=0)

    class Meta:
        verbose_name = _("read marker")
        verbose_name_plural = _("read markers")
        constraints = [models.UniqueConstraint(fields=["consultation", "user"], name="read_marker_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.consultation_id} to {self.last_read_seq}"


class VoicePlay(models.Model):
    """Who has played a voice message (the other side's 未听 dot goes once they have)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="plays")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    played_at = models.DateTimeField(_("played at"), auto_now_add=True)

    class Meta:
        verbose_name = _("voice message played")
        verbose_name_plural = _("voice messages played")
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="voice_play_once")]

    def __str__(self) -> str:
        return f"{self.user_id} played {self.message_id}"


# --- calls (chat.calls) ----------------------------------------------------------------------------------------


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ACTIVE = "active", _("In call")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")
    DECLINED = "declined", _("Declined")


class Call(models.Model):
    """A live voice call in a consultation: one Janus room, recorded per speaker into ``rec_dir``."""

    consultation = models.ForeignKey("consult.Consultation", on_delete=models.CASCADE, related_name="calls")
    state = models.CharField(max_length=16, choices=CallState.choices, default=CallState.RINGING)
    started_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    janus_url = models.CharField(max_length=200)
    room = models.BigIntegerField()  # the Janus VideoRoom id
    rec_dir = models.CharField(max_length=300, blank=True)  # under MEDIA_ROOT ("calls/<id>"); "" when not recorded
    processed_at = models.DateTimeField(null=True, blank=True)  # recordings converted, transcripts asked
    # the recordings (the .mjr files and each track's Opus) deleted after CALL_RECORDING_RETENTION_DAYS; the
    # transcript is kept (chat.calls.purge_recordings)
    recording_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation"],
                condition=Q(state__in=["ringing", "active"]),
                name="one_live_call_per_consultation",
            )
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.state})"


class CallParticipant(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16)  # "deputy" | "expert", as of the call
    # A second expert invited by the expert answering (chat.calls.invite_expert); None for the two sides.
    invited_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="call_participant_once")]

    def __str__(self) -> str:
        return f"{self.user_id} in call {self.call_id}"


class CallTrack(models.Model):
    """One speaker's recording (one Janus publisher's ``.mjr``), converted to Opus, transcribed on its own job."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tracks")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    mjr = models.CharField(max_length=300)  # storage name of Janus's recording
    audio = models.CharField(max_length=300)  # storage name of the Opus file
    started_us = models.BigIntegerField()  # the recording's first packet, µs since the epoch (the .mjr header)
    duration = models.FloatField(default=0.0)

    class Meta:
        ordering = ["started_us"]
        constraints = [models.UniqueConstraint(fields=["call", "mjr"], name="call_track_once")]

    def __str__(self) -> str:
        return f"track {self.mjr}"


class RecordingAccessKind(models.TextChoices):
    AUDIO = "audio", _("Track audio")
    REPLAY = "replay", _("Replay page")
    TRANSCRIPT = "transcript", _("Transcript")


class RecordingAccess(models.Model):
    """The audit log of calls' recordings (chat.calls.audit_access): who heard or read which call, when, from where.
    Written when something was served; a refused request serves nothing and writes nothing. Rows outlive nothing
    they name: a call or a user with audit rows is not deleted (PROTECT)."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("who"))
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="accesses", verbose_name=_("call"))
    track = models.ForeignKey(
        CallTrack, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("track")
    )
    kind = models.CharField(_("what"), max_length=16, choices=RecordingAccessKind.choices)
    ip = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        verbose_name = _("recording access")
        verbose_name_plural = _("recording accesses")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} call {self.call_id} at {self.at:%Y-%m-%d %H:%M}"
