from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    """建议 / 提案: the statutory proposal cycle (issue 3 builds it)."""

    name = "proposals"
    verbose_name = _("Proposals")
