from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    """Real-time messaging inside consultations (issue 4 builds it)."""

    name = "chat"
    verbose_name = _("Chat")
