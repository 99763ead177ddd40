"""Who a user is on the platform. One role per account; profiles carry the details."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DEPUTY = "deputy", _("Deputy / member")  # 人大代表 / 政协委员
    EXPERT = "expert", _("Bureau expert")  # 应询专家
    HANDLER = "handler", _("Bureau handler")  # 承办人
    STAFF = "staff", _("Office staff")  # 人大/政协 工作人员
    ADMIN = "admin", _("Administrator")


class Chamber(models.TextChoices):
    """Which body a deputy belongs to: their proposals are 建议 (NPC) or 提案 (CPPCC)."""

    NPC = "npc", _("People's congress deputy")  # 人大代表
    CPPCC = "cppcc", _("CPPCC member")  # 政协委员


BUREAU_ROLES = frozenset({Role.EXPERT, Role.HANDLER})
OFFICE_ROLES = frozenset({Role.STAFF, Role.ADMIN})
