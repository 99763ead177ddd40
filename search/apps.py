from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """Indexing and querying behind one interface. Infrastructure: imports no domain app."""

    name = "search"
    verbose_name = _("Search")
