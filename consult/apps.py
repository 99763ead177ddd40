from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultConfig(AppConfig):
    name = "consult"
    verbose_name = _("People and bureaus")

    def ready(self) -> None:
        from consult.desk import live_events as desk_live_events  # noqa: F401
        from consult.desk import texts as desk_texts  # noqa: F401  (declares the desk's platform texts)
        from consult.notifications import live_events  # noqa: F401  (declares its live events)
        from consult.realtime import topics as live

        live.register_builtin_topics()

        from consult.realtime import revocation

        revocation.connect_signals()

        from search.dictionary import register_terms

        register_terms(bureau_terms)


def bureau_terms() -> list[str]:
    """Bureau names (short and full) and their departments: whole words for Chinese segmentation."""
    from consult.models import Bureau, Department

    names = [name for pair in Bureau.objects.values_list("name", "full_name") for name in pair]
    return names + list(Department.objects.values_list("name", flat=True).distinct())
