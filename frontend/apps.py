from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrontendConfig(AppConfig):
    """Pages, templates and static files. Presentation only: calls selectors and services."""

    name = "frontend"
    verbose_name = _("Frontend")
