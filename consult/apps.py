from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "consult"
    verbose_name = _("People and bureaus")

    def ready(self) -> None:
        from consult import live

        live.register_builtin_topics()
