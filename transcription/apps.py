from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TranscriptionConfig(AppConfig):
    """Speech to text behind one engine interface. Infrastructure: imports no domain app."""

    name = "transcription"
    verbose_name = _("Transcription")
