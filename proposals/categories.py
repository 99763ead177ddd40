"""Subject categories of proposals (as the demo city's office files them).

The stored value is a fixed code (the office's Chinese name, as filed for years: imports, search facets and links
use it); what a reader sees is its label in their language (``Category(value).label``, ``category_label``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    ECONOMY = "经济发展", _("Economic development")
    BUSINESS = "营商环境", _("Business environment")
    INNOVATION = "科技创新", _("Science and innovation")
    URBAN = "城市建设", _("Urban development")
    TRANSPORT = "交通", _("Transport")
    ENVIRONMENT = "生态环境", _("Environment")
    EDUCATION = "教育", _("Education")
    HEALTH = "医疗卫生", _("Health care")
    ELDERLY = "养老", _("Elderly care")
    WELFARE = "民生保障", _("Social welfare")
    GOVERNANCE = "社会治理", _("Social governance")
    SAFETY = "公共安全", _("Public safety")
    CULTURE = "文化旅游", _("Culture and tourism")
    RURAL = "农业农村", _("Agriculture and rural affairs")


CATEGORIES: list[str] = list(Category.values)


def category_label(value: str) -> str:
    """The category in the reader's language (an unknown value as stored)."""
    try:
        return str(Category(value).label)
    except ValueError:
        return value
