"""People and organisations: users, bureaus (委办局), departments (处室), role profiles and API tokens."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from consult.people.roles import BUREAU_ROLES, OFFICE_ROLES, Chamber, Role
from consult.people.selectors import (
    BureauQuerySet,
    DepartmentQuerySet,
    DeputyContactQuerySet,
    DeputyProfileQuerySet,
    ExpertProfileQuerySet,
    HandlerProfileQuerySet,
    UserManager,
)


# The stubs cannot type the reverse manager of ApiToken (its knox base class is untyped): hence the ignore.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """An account. ``full_name`` holds a Chinese name whole (姓名); first/last names are unused."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.DEPUTY)
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    # 长辈版: larger text, larger touch targets, higher contrast on every page (a cookie carries it when signed out)
    large_text = models.BooleanField(_("large text"), default=False)
    # Office staff: which office (人大 or 政协) they work in. With SEPARATE_OFFICES each office handles its own
    # kind (proposals/access.py office_kinds); blank, or one combined office: both kinds.
    office = models.CharField(
        _("office"),
        max_length=8,
        choices=Chamber.choices,
        blank=True,
        help_text=_("For office staff: the people's congress office handles 建议, the CPPCC office 提案."),
    )

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    @property
    def is_office(self) -> bool:
        """Congress/CPPCC office staff or an administrator: sees everything."""
        return self.role in OFFICE_ROLES

    @property
    def is_bureau_member(self) -> bool:
        return self.role in BUREAU_ROLES


class Bureau(models.Model):
    """A municipal bureau (委办局) that answers consultations and handles proposals."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("short name"), max_length=64, unique=True)
    full_name = models.CharField(_("full name"), max_length=128)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    # Calls in this bureau's consultations are recorded on the server (chat.calls); off: no recording at all, and
    # everyone in the call is told so before audio flows. CALL_RECORDING=False turns it off everywhere.
    call_recording = models.BooleanField(_("record calls"), default=True)
    # When its experts answer online, in the bureau's own words (empty: the platform's usual hours are shown).
    service_hours = models.CharField(_("service hours"), max_length=100, blank=True)

    objects = BureauQuerySet.as_manager()

    class Meta:
        verbose_name = _("bureau")
        verbose_name_plural = _("bureaus")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department (处室) inside a bureau."""

    bureau = models.ForeignKey(Bureau, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=64)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["bureau__sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["bureau", "name"], name="department_unique_in_bureau")]

    def __str__(self) -> str:
        return f"{self.bureau.name} {self.name}"


class BureauMemberProfile(models.Model):
    """Shared fields of the people who work for a bureau."""

    bureau = models.ForeignKey(Bureau, on_delete=models.PROTECT, verbose_name=_("bureau"))
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("department")
    )
    title = models.CharField(_("title"), max_length=64, blank=True)  # 职务 / 职称
    office_phone = models.CharField(_("office phone"), max_length=32, blank=True)

    class Meta:
        abstract = True


class ExpertProfile(BureauMemberProfile):
    """An expert (应询专家) who answers deputies' consultations for a bureau."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="expert_profile")
    expertise = models.JSONField(_("expertise"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(_("concurrent consultations"), default=3)

    objects = ExpertProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("expert profile")
        verbose_name_plural = _("expert profiles")
        indexes = [models.Index(fields=["bureau"], name="expert_bureau_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(capacity__gte=1), name="expert_capacity_at_least_one")]

    def __str__(self) -> str:
        return f"{self.user} ({self.bureau.name})"


class HandlerProfile(BureauMemberProfile):
    """A handler (承办人) who handles the proposals assigned to a bureau."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="handler_profile")
    is_bureau_lead = models.BooleanField(_("bureau lead for proposals"), default=False)

    objects = HandlerProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("handler profile")
        verbose_name_plural = _("handler profiles")
        indexes = [models.Index(fields=["bureau"], name="handler_bureau_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.bureau.name})"


class DeputyProfile(models.Model):
    """A people's-congress deputy (代表) or CPPCC member (委员)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="deputy_profile")
    chamber = models.CharField(_("chamber"), max_length=8, choices=Chamber.choices)
    delegation = models.CharField(_("delegation"), max_length=64, blank=True)  # 代表团 (NPC)
    sector = models.CharField(_("sector"), max_length=64, blank=True)  # 界别 (CPPCC)
    term = models.CharField(_("term"), max_length=32)  # 届次, e.g. 第十六届
    occupation = models.CharField(_("work unit and position"), max_length=128, blank=True)

    objects = DeputyProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("deputy profile")
        verbose_name_plural = _("deputy profiles")
        indexes = [models.Index(fields=["chamber", "delegation"], name="deputy_chamber_delegation_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_chamber_display()})"


class DeputyContact(models.Model):
    """A deputy's private contact details: only the deputy and the office see them."""

    profile = models.OneToOneField(DeputyProfile, on_delete=models.CASCADE, related_name="contact")
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("mailing address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)

    objects = DeputyContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("deputy contact details")
        verbose_name_plural = _("deputy contact details")

    def __str__(self) -> str:
        return f"{self.profile.user} contact"


class ApiToken(AbstractAuthToken):  # type: ignore[misc]  # knox ships no types
    """A personal API token (接口令牌) for scripts: only its hash is stored; the secret is shown once.

    knox's ``TokenAuthentication`` checks it (``KNOX_TOKEN_MODEL``); a person may hold several, each named
    for the script that uses it, and revoke any of them. The id (not the digest) names a token in the API.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    # Declared again (as knox declares it) so the type checker sees the relation; knox reads auth_token_set.
    user = models.ForeignKey("consult.User", on_delete=models.CASCADE, related_name="auth_token_set")
    name = models.CharField(_("name"), max_length=100, help_text=_("what the token is for"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"
