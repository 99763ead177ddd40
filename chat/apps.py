from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    """Real-time messaging inside consultations."""

    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from chat import live_events, texts  # noqa: F401  (declares its live events and platform texts)
        from chat.services import post_system_message
        from consult.desk import providers

        providers.register_chat(system_message=post_system_message)

        from chat.search import SOURCE, messages_of_consultations
        from search import registry

        registry.register(SOURCE)
        registry.register_expansion("consultation", SOURCE.doc_type, messages_of_consultations)

        from chat.search import TRANSCRIPT_SOURCE, transcripts_of_consultations
        from chat.voice import SOURCE_KIND, transcript_changed
        from transcription.sources import SourceHooks, register_source

        registry.register(TRANSCRIPT_SOURCE)
        registry.register_expansion("consultation", TRANSCRIPT_SOURCE.doc_type, transcripts_of_consultations)
        register_source(SOURCE_KIND, SourceHooks(on_change=transcript_changed))

        from chat import call_transcripts, calls

        register_source(calls.SOURCE_KIND, SourceHooks(on_change=call_transcripts.track_changed))
