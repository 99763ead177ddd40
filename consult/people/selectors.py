"""Reads of people and organisations, each scoped by one ``visible_to(user)`` per model.

Who sees what:

=================  ==========================================================
bureaus            every signed-in user sees active bureaus; the office sees all
departments        as their bureau
experts            every signed-in user (deputies pick experts by name, 点将)
handlers           the office, and colleagues of the same bureau
deputy profiles    the office and bureau people see all; a deputy sees the
                   deputies of their own chamber (to invite co-signers)
deputy contacts    private: the deputy themself and the office only
users              the office sees all; everyone else sees only themself
=================  ==========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models

from consult.people.roles import BUREAU_ROLES, OFFICE_ROLES, Role

if TYPE_CHECKING:
    from consult.models import User

Viewer: TypeAlias = "User | AnonymousUser"


def role_of(user: Viewer) -> str | None:
    """The signed-in user's role, or None for an anonymous visitor."""
    return getattr(user, "role", None) if user.is_authenticated else None


def is_office(user: Viewer) -> bool:
    return role_of(user) in OFFICE_ROLES


def bureau_id_of(user: Viewer) -> int | None:
    """The bureau an expert or handler works for, or None for everybody else."""
    if role_of(user) not in BUREAU_ROLES:
        return None
    for attr in ("expert_profile", "handler_profile"):
        profile = getattr(user, attr, None)
        if profile is not None:
            return int(profile.bureau_id)
    return None


class UserQuerySet(models.QuerySet["User"]):
    def visible_to(self, user: Viewer) -> UserQuerySet:
        if is_office(user):
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(pk=user.pk)


class UserManager(DjangoUserManager["User"]):
    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def visible_to(self, user: Viewer) -> UserQuerySet:
        return self.get_queryset().visible_to(user)


class BureauQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Viewer) -> BureauQuerySet:
        if is_office(user):
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(is_active=True)


class DepartmentQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Viewer) -> DepartmentQuerySet:
        if is_office(user):
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(bureau__is_active=True)


class ExpertProfileQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Viewer) -> ExpertProfileQuerySet:
        if is_office(user):
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(user__is_active=True, bureau__is_active=True)


class HandlerProfileQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Viewer) -> HandlerProfileQuerySet:
        if is_office(user):
            return self.all()
        bureau_id = bureau_id_of(user)
        if bureau_id is None:
            return self.none()
        return self.filter(bureau_id=bureau_id)


class DeputyProfileQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Viewer) -> DeputyProfileQuerySet:
        if is_office(user) or bureau_id_of(user) is not None:
            return self.all()
        if role_of(user) != Role.DEPUTY:
            return self.none()
        own = getattr(user, "deputy_profile", None)
        if own is None:
            return self.none()
        return self.filter(chamber=own.chamber)


class NotificationQuerySet(models.QuerySet[Any]):
    """Notifications are private to their user; nobody else reads them, not even the office."""

    def visible_to(self, user: Viewer) -> NotificationQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(user_id=user.pk)


class DeputyContactQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: Viewer) -> DeputyContactQuerySet:
        if is_office(user):
            return self.all()
        if role_of(user) != Role.DEPUTY:
            return self.none()
        return self.filter(profile__user_id=user.pk)
