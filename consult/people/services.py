"""Every write to people and organisations.

- ``upsert_bureau``: create or update a bureau (委办局) with its departments (处室).
- ``enroll_deputy`` / ``enroll_expert`` / ``enroll_handler`` / ``enroll_office_user``:
  create or update an account with its role and profile. Idempotent by username, so
  ``seed_demo`` and imports can run again.
- ``update_own_contact``: a deputy edits their private contact details.
- ``set_large_text``: anyone turns the 长辈版 (large text, larger targets, higher contrast) on or off for themselves.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput, NotAllowed
from consult.models import (
    Bureau,
    Department,
    DeputyContact,
    DeputyProfile,
    ExpertProfile,
    HandlerProfile,
    User,
)
from consult.people.roles import OFFICE_ROLES, Chamber, Role

# ASCII digits only, whole string: full-width digits and trailing newlines are refused.
MOBILE_PATTERN = re.compile(r"1[3-9][0-9]{9}")
POSTCODE_PATTERN = re.compile(r"[0-9]{6}")
CONTACT_FIELDS = ("mobile", "email", "address", "postcode")


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


def _save_valid(instance: Model) -> None:
    """Validate against the model (lengths, choices, uniqueness) and save, or raise naming the field."""
    try:
        instance.full_clean()
    except DjangoValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        name = None if field == NON_FIELD_ERRORS else field
        raise InvalidInput(f"{field}: {messages[0]}" if name else messages[0], field=name) from None
    instance.save()


@transaction.atomic
def upsert_bureau(
    *, code: str, name: str, full_name: str, topics: list[str], departments: list[str], sort_order: int = 0
) -> Bureau:
    bureau = Bureau.objects.select_for_update().filter(code=code).first() or Bureau(code=code)
    bureau.name, bureau.full_name, bureau.topics, bureau.sort_order = name, full_name, topics, sort_order
    _save_valid(bureau)
    existing = set(bureau.departments.values_list("name", flat=True))
    for department_name in dict.fromkeys(departments):
        if department_name not in existing:
            _save_valid(Department(bureau=bureau, name=department_name))
    return bureau


def _upsert_user(*, username: str, full_name: str, role: Role, credentials: Credentials) -> User:
    """Create the account, or update it if it already has this role; never switch someone's role here."""
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        user = User(username=username, role=role)
        user.set_unusable_password()
    elif user.role != role and not {user.role, role} <= OFFICE_ROLES:
        # Office staff may become administrators and back; other roles carry profiles that would dangle.
        raise InvalidInput(_("this username already belongs to someone with another role"), field="username")
    if not full_name.strip():
        raise InvalidInput(_("full name is required"), field="full_name")
    user.full_name = full_name
    user.is_staff = user.is_superuser = role == Role.ADMIN
    if credentials.password_hash:
        user.password = credentials.password_hash
    elif credentials.password:
        user.set_password(credentials.password)
    _save_valid(user)
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
    profile = DeputyProfile.objects.filter(user=user).first() or DeputyProfile(user=user)
    profile.chamber, profile.term, profile.delegation = chamber, term, delegation
    profile.sector, profile.occupation = sector, occupation
    _save_valid(profile)
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
    profile = ExpertProfile.objects.filter(user=user).first() or ExpertProfile(user=user)
    _fill_post(profile, post)
    profile.expertise, profile.capacity = post.expertise, capacity
    _save_valid(profile)
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
    profile = HandlerProfile.objects.filter(user=user).first() or HandlerProfile(user=user)
    _fill_post(profile, post)
    profile.is_bureau_lead = is_bureau_lead
    _save_valid(profile)
    return profile


def _fill_post(profile: ExpertProfile | HandlerProfile, post: BureauPost) -> None:
    profile.bureau, profile.department = post.bureau, post.department
    profile.title, profile.office_phone = post.title, post.office_phone


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


def set_large_text(*, actor: User, on: bool) -> None:
    """Remember the reader's text size (长辈版) on their account: every page and device follows it."""
    if actor.large_text != on:
        actor.large_text = on
        actor.save(update_fields=["large_text"])


def validate_contact(contact: ContactDetails) -> None:
    """Raise InvalidInput naming the first bad field (formats here; lengths by the model)."""
    if contact.mobile and not MOBILE_PATTERN.fullmatch(contact.mobile):
        raise InvalidInput(_("mobile must be an 11-digit mainland number starting with 1"), field="mobile")
    if contact.email:
        try:
            validate_email(contact.email)
        except DjangoValidationError:
            raise InvalidInput(_("email is not a valid address"), field="email") from None
    if contact.postcode and not POSTCODE_PATTERN.fullmatch(contact.postcode):
        raise InvalidInput(_("postcode must be 6 digits"), field="postcode")
    if len(contact.address) > 200:
        raise InvalidInput(_("address is longer than 200 characters"), field="address")


def normalise_contact(contact: ContactDetails) -> ContactDetails:
    """Full-width characters typed with a Chinese input method become ASCII (１３９… → 139…); edges trimmed."""
    return ContactDetails(
        **{name: unicodedata.normalize("NFKC", getattr(contact, name)).strip() for name in CONTACT_FIELDS}
    )


def _save_contact(profile: DeputyProfile, contact: ContactDetails) -> DeputyContact:
    contact = normalise_contact(contact)
    validate_contact(contact)
    record = DeputyContact.objects.filter(profile=profile).first() or DeputyContact(profile=profile)
    record.mobile, record.email, record.address, record.postcode = (
        contact.mobile,
        contact.email,
        contact.address,
        contact.postcode,
    )
    _save_valid(record)
    return record


def _check_department(post: BureauPost) -> None:
    if post.department is not None and post.department.bureau_id != post.bureau.pk:
        raise InvalidInput(_("department belongs to another bureau"), field="department")
