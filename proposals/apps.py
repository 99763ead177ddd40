from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    """建议 / 提案: the statutory proposal cycle."""

    name = "proposals"
    verbose_name = _("Proposals")

    def ready(self) -> None:
        from consult.realtime import topics as live
        from proposals import live_events, texts  # noqa: F401  (declares its live events and platform texts)
        from proposals.selectors import can_see_id

        live.register_topic("proposal", lambda user, key: key.isdigit() and can_see_id(user, int(key)))

        from consult.desk import providers
        from proposals.selectors import earlier_proposals, is_own_proposal

        providers.register_proposals(own_proposal=is_own_proposal, earlier_proposals=earlier_proposals)

        from proposals.search import SOURCE
        from search import registry

        registry.register(SOURCE)
