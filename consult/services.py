"""Every write to people and organisations.

- ``upsert_bureau``: create or update a bureau (委办局) with its departments (处室).
- ``enroll_deputy`` / ``enroll_expert`` / ``enroll_handler`` / ``enroll_office_user``:
  create or update an account with its role and profile. Idempotent by username, so
  ``seed_demo`` and imports can run again.
- ``update_own_contact``: a deputy edits their private contact details.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from consult.exceptions import InvalidInput, NotAllowed
from consult.models import (
    Bureau,
    Department,
    DeputyContact,
    DeputyProfile,
    ExpertProfile,
    HandlerProfile,
    User,
)
from consult.roles import Chamber, Role

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
POSTCODE_PATTERN = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Credentials:
    """How an enrolled account signs in: a password, or a ready hash (fast bulk seeding)."""

    password: str | None = None
    password_hash: str | None = None


@dataclass(frozen=True)
class ContactDetails:
    mobile: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""


@dataclass(frozen=True)
class BureauPost:
    """Where a bureau person works and what they are called there."""

    bureau: Bureau
    department: Department | None = None
    title: str = ""
    office_phone: str = ""
    expertise: list[str] = field(default_factory=list)


@transaction.atomic
def upsert_bureau(
    *, code: str, name: str, full_name: str, topics: list[str], departments: list[str], sort_order: int = 0
) -> Bureau:
    bureau, _created = Bureau.objects.update_or_create(
        code=code, defaults={"name": name, "full_name": full_name, "topics": topics, "sort_order": sort_order}
    )
    for department_name in departments:
        Department.objects.get_or_create(bureau=bureau, name=department_name)
    return bureau


def _upsert_user(*, username: str, full_name: str, role: Role, credentials: Credentials) -> User:
    user, _created = User.objects.update_or_create(
        username=username,
        defaults={
            "full_name": full_name,
            "role": role,
            "is_staff": role == Role.ADMIN,
            "is_superuser": role == Role.ADMIN,
        },
    )
    if credentials.password_hash:
        user.password = credentials.password_hash
    elif credentials.password:
        user.set_password(credentials.password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def enroll_deputy(
    *,
    username: str,
    full_name: str,
    chamber: Chamber,
    term: str,
    delegation: str = "",
    sector: str = "",
    occupation: str = "",
    contact: ContactDetails | None = None,
    credentials: Credentials = Credentials(),
) -> DeputyProfile:
    user = _upsert_user(username=username, full_name=full_name, role=Role.DEPUTY, credentials=credentials)
    profile, _created = DeputyProfile.objects.update_or_create(
        user=user,
        defaults={
            "chamber": chamber,
            "term": term,
            "delegation": delegation,
            "sector": sector,
            "occupation": occupation,
        },
    )
    _save_contact(profile, contact or ContactDetails())
    return profile


@transaction.atomic
def enroll_expert(
    *, username: str, full_name: str, post: BureauPost, capacity: int = 3, credentials: Credentials = Credentials()
) -> ExpertProfile:
    if capacity < 1:
        raise InvalidInput(_("capacity must be at least 1"), field="capacity")
    _check_department(post)
    user = _upsert_user(username=username, full_name=full_name, role=Role.EXPERT, credentials=credentials)
    profile, _created = ExpertProfile.objects.update_or_create(
        user=user,
        defaults={
            "bureau": post.bureau,
            "department": post.department,
            "title": post.title,
            "office_phone": post.office_phone,
            "expertise": post.expertise,
            "capacity": capacity,
        },
    )
    return profile


@transaction.atomic
def enroll_handler(
    *,
    username: str,
    full_name: str,
    post: BureauPost,
    is_bureau_lead: bool = False,
    credentials: Credentials = Credentials(),
) -> HandlerProfile:
    _check_department(post)
    user = _upsert_user(username=username, full_name=full_name, role=Role.HANDLER, credentials=credentials)
    profile, _created = HandlerProfile.objects.update_or_create(
        user=user,
        defaults={
            "bureau": post.bureau,
            "department": post.department,
            "title": post.title,
            "office_phone": post.office_phone,
            "is_bureau_lead": is_bureau_lead,
        },
    )
    return profile


@transaction.atomic
def enroll_office_user(
    *, username: str, full_name: str, role: Role = Role.STAFF, credentials: Credentials = Credentials()
) -> User:
    if role not in (Role.STAFF, Role.ADMIN):
        raise InvalidInput(_("office users are staff or administrators"), field="role")
    return _upsert_user(username=username, full_name=full_name, role=role, credentials=credentials)


@transaction.atomic
def update_own_contact(*, actor: User, contact: ContactDetails) -> DeputyContact:
    """A deputy changes their own contact details; nobody edits them on a deputy's behalf here."""
    profile = DeputyProfile.objects.select_for_update().filter(user=actor).first()
    if profile is None:
        raise NotAllowed(_("only deputies and members have contact details to edit"))
    return _save_contact(profile, contact)


def validate_contact(contact: ContactDetails) -> None:
    """Raise InvalidInput naming the first bad field."""
    if contact.mobile and not MOBILE_PATTERN.match(contact.mobile):
        raise InvalidInput(_("mobile must be an 11-digit mainland number starting with 1"), field="mobile")
    if contact.email:
        try:
            validate_email(contact.email)
        except DjangoValidationError:
            raise InvalidInput(_("email is not a valid address"), field="email") from None
    if contact.postcode and not POSTCODE_PATTERN.match(contact.postcode):
        raise InvalidInput(_("postcode must be 6 digits"), field="postcode")
    if len(contact.address) > 200:
        raise InvalidInput(_("address is longer than 200 characters"), field="address")


def _save_contact(profile: DeputyProfile, contact: ContactDetails) -> DeputyContact:
    validate_contact(contact)
    record, _created = DeputyContact.objects.update_or_create(
        profile=profile,
        defaults={
            "mobile": contact.mobile,
            "email": contact.email,
            "address": contact.address,
            "postcode": contact.postcode,
        },
    )
    return record


def _check_department(post: BureauPost) -> None:
    if post.department is not None and post.department.bureau_id != post.bureau.pk:
        raise InvalidInput(_("department belongs to another bureau"), field="department")
