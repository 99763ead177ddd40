"""Every write to people and organisations: happy paths, re-runs, and every refused input.

A refused input must raise a domain error naming the field and leave every stored row exactly as it
was; ``snapshot()`` reads the whole of each table before and after to prove it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import make_password

from consult.kernel.exceptions import InvalidInput, NotAllowed
from consult.models import Bureau, Department, DeputyContact, DeputyProfile, ExpertProfile, HandlerProfile, User
from consult.people import services
from consult.people.roles import Chamber, Role
from consult.people.services import BureauPost, ContactDetails, Credentials
from tests.factories import DepartmentFactory, DeputyProfileFactory

GOOD_CONTACT = ContactDetails(
    mobile="13912345678", email="wang@haibin.example.cn", address="海滨市东湖区翠湖路18号", postcode="310012"
)

# (field the error must name, contact details with that one field wrong)
BAD_CONTACTS = [
    pytest.param("mobile", ContactDetails(mobile="12345678901"), id="mobile-second-digit-2"),
    pytest.param("mobile", ContactDetails(mobile="1391234567"), id="mobile-10-digits"),
    pytest.param("mobile", ContactDetails(mobile="139123456789"), id="mobile-12-digits"),
    pytest.param("mobile", ContactDetails(mobile="1391234567a"), id="mobile-letter"),
    pytest.param("mobile", ContactDetails(mobile="+8613912345678"), id="mobile-country-code"),
    pytest.param("mobile", ContactDetails(mobile="139-1234-5678"), id="mobile-dashes"),
    pytest.param("email", ContactDetails(email="not-an-email"), id="email-no-at"),
    pytest.param("email", ContactDetails(email="wang@"), id="email-no-domain"),
    pytest.param("email", ContactDetails(email="wang @haibin.example.cn"), id="email-space"),
    pytest.param("postcode", ContactDetails(postcode="31001"), id="postcode-5-digits"),
    pytest.param("postcode", ContactDetails(postcode="3100120"), id="postcode-7-digits"),
    pytest.param("postcode", ContactDetails(postcode="31001a"), id="postcode-letter"),
    pytest.param("address", ContactDetails(address="路" * 201), id="address-201-chars"),
]

# Inputs that look almost right: an email longer than its column, a mobile with a letter made full-width.
SLIPPING_CONTACTS = [
    pytest.param("email", ContactDetails(email="w" * 250 + "@haibin.example.cn"), id="email-longer-than-the-column"),
    pytest.param("mobile", ContactDetails(mobile="１３９１２３４５６７Ａ"), id="mobile-full-width-letter"),
    pytest.param("mobile", ContactDetails(mobile="13912345678\n1"), id="mobile-inner-newline"),
]

# What a Chinese input method or a paste produces, and what is stored.
NORMALISED_CONTACTS = [
    pytest.param(ContactDetails(mobile="13912345678\n"), {"mobile": "13912345678"}, id="mobile-trailing-newline"),
    pytest.param(ContactDetails(mobile="１３９１２３４５６７８"), {"mobile": "13912345678"}, id="mobile-full-width"),
    pytest.param(ContactDetails(postcode=" 310012\n"), {"postcode": "310012"}, id="postcode-padded"),
    pytest.param(ContactDetails(postcode="３１００１２"), {"postcode": "310012"}, id="postcode-full-width"),
    pytest.param(
        ContactDetails(email="ｗａｎｇ＠ｈａｉｂｉｎ．ｃｎ"), {"email": "wang@haibin.cn"}, id="email-full-width"
    ),
]


TABLES: list[type[Any]] = [User, Bureau, Department, ExpertProfile, HandlerProfile, DeputyProfile, DeputyContact]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every stored row of every table the services write, in a stable order."""
    return {model.__name__: list(model._default_manager.order_by("pk").values()) for model in TABLES}


# --- upsert_bureau ----------------------------------------------------------


def test_upsert_bureau_creates_the_bureau_with_its_departments(db: None) -> None:
    bureau = services.upsert_bureau(
        code="wjw",
        name="市卫健委",
        full_name="海滨市卫生健康委员会",
        topics=["看病难", "养老"],
        departments=["医政处", "疾控处"],
        sort_order=5,
    )

    stored = Bureau.objects.get(code="wjw")
    assert stored.pk == bureau.pk
    assert (stored.name, stored.full_name, stored.topics, stored.sort_order) == (
        "市卫健委",
        "海滨市卫生健康委员会",
        ["看病难", "养老"],
        5,
    )
    assert stored.is_active is True
    assert set(stored.departments.values_list("name", flat=True)) == {"疾控处", "医政处"}


def test_upsert_bureau_twice_updates_fields_without_duplicating_anything(db: None) -> None:
    # given a bureau that exists
    first = services.upsert_bureau(
        code="wjw", name="市卫健委", full_name="海滨市卫生健康委员会", topics=["看病难"], departments=["医政处"]
    )

    # when the same code is upserted again with new fields and one more department
    second = services.upsert_bureau(
        code="wjw",
        name="市卫生健康委",
        full_name="海滨市卫生健康委员会（新）",
        topics=["看病难", "养老"],
        departments=["医政处", "疾控处"],
        sort_order=2,
    )

    # then it is the same row, updated, and the department named twice exists once
    assert second.pk == first.pk
    assert Bureau.objects.count() == 1
    stored = Bureau.objects.get()
    assert (stored.name, stored.full_name, stored.topics, stored.sort_order) == (
        "市卫生健康委",
        "海滨市卫生健康委员会（新）",
        ["看病难", "养老"],
        2,
    )
    assert set(Department.objects.values_list("name", flat=True)) == {"疾控处", "医政处"}


def test_upsert_bureau_with_identical_input_changes_nothing(db: None) -> None:
    arguments: dict[str, Any] = {
        "code": "wjw",
        "name": "市卫健委",
        "full_name": "海滨市卫生健康委员会",
        "topics": ["看病难"],
        "departments": ["医政处"],
    }
    services.upsert_bureau(**arguments)
    before = snapshot()

    services.upsert_bureau(**arguments)

    assert snapshot() == before


def test_upsert_bureau_keeps_departments_that_are_no_longer_listed(db: None) -> None:
    services.upsert_bureau(code="wjw", name="市卫健委", full_name="海滨市卫健委", topics=[], departments=["医政处"])

    services.upsert_bureau(code="wjw", name="市卫健委", full_name="海滨市卫健委", topics=[], departments=[])

    assert list(Department.objects.values_list("name", flat=True)) == ["医政处"]


def test_upsert_bureau_refuses_a_name_taken_by_another_bureau(bureau_a: Bureau) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.upsert_bureau(code="other", name=bureau_a.name, full_name="另一个局", topics=[], departments=["新处"])

    assert caught.value.field == "name"
    assert snapshot() == before


# --- enroll_deputy ----------------------------------------------------------


def test_enroll_deputy_creates_account_profile_and_contact(db: None) -> None:
    profile = services.enroll_deputy(
        username="npc-001",
        full_name="王建国",
        chamber=Chamber.NPC,
        term="海滨市第十六届人民代表大会",
        delegation="东湖区代表团",
        occupation="海滨市第一中学校长",
        contact=GOOD_CONTACT,
        credentials=Credentials(password="s3cret-pass"),
    )

    user = User.objects.get(username="npc-001")
    assert profile.user_id == user.pk
    assert (user.full_name, user.role, user.is_staff, user.is_superuser) == ("王建国", Role.DEPUTY, False, False)
    assert user.check_password("s3cret-pass")
    stored = DeputyProfile.objects.get(user=user)
    assert (stored.chamber, stored.term, stored.delegation, stored.sector, stored.occupation) == (
        Chamber.NPC,
        "海滨市第十六届人民代表大会",
        "东湖区代表团",
        "",
        "海滨市第一中学校长",
    )
    contact = DeputyContact.objects.get(profile=stored)
    assert (contact.mobile, contact.email, contact.address, contact.postcode) == (
        GOOD_CONTACT.mobile,
        GOOD_CONTACT.email,
        GOOD_CONTACT.address,
        GOOD_CONTACT.postcode,
    )


def test_enroll_deputy_without_contact_stores_an_empty_contact_row(db: None) -> None:
    profile = services.enroll_deputy(username="cppcc-001", full_name="李雪梅", chamber=Chamber.CPPCC, term="第十四届")

    contact = DeputyContact.objects.get(profile=profile)
    assert (contact.mobile, contact.email, contact.address, contact.postcode) == ("", "", "", "")


def test_enroll_deputy_without_credentials_gives_an_unusable_password(db: None) -> None:
    services.enroll_deputy(username="cppcc-001", full_name="李雪梅", chamber=Chamber.CPPCC, term="第十四届")

    assert User.objects.get(username="cppcc-001").has_usable_password() is False


def test_enroll_deputy_stores_a_ready_password_hash_as_is(db: None) -> None:
    ready = make_password("from-the-import")

    services.enroll_deputy(
        username="npc-001",
        full_name="王建国",
        chamber=Chamber.NPC,
        term="第十六届",
        credentials=Credentials(password="ignored-when-a-hash-is-given", password_hash=ready),
    )

    user = User.objects.get(username="npc-001")
    assert user.password == ready
    assert user.check_password("from-the-import")


def test_enroll_deputy_twice_updates_fields_and_creates_nothing_new(db: None) -> None:
    # given an enrolled deputy
    first = services.enroll_deputy(
        username="npc-001", full_name="王建国", chamber=Chamber.NPC, term="第十六届", contact=GOOD_CONTACT
    )
    counts = {model.__name__: model._default_manager.count() for model in TABLES}

    # when the same username is enrolled again with changed details
    second = services.enroll_deputy(
        username="npc-001",
        full_name="王建国（更新）",
        chamber=Chamber.NPC,
        term="第十七届",
        delegation="西江区代表团",
        contact=ContactDetails(mobile="13700000000"),
    )

    # then the same rows are updated in place
    assert second.pk == first.pk
    assert second.user_id == first.user_id
    assert {model.__name__: model._default_manager.count() for model in TABLES} == counts
    user = User.objects.get(username="npc-001")
    assert user.full_name == "王建国（更新）"
    stored = DeputyProfile.objects.get(pk=first.pk)
    assert (stored.term, stored.delegation) == ("第十七届", "西江区代表团")
    contact = DeputyContact.objects.get(profile=stored)
    assert (contact.mobile, contact.email, contact.address, contact.postcode) == ("13700000000", "", "", "")


def test_enroll_deputy_twice_with_identical_input_changes_no_row(db: None) -> None:
    ready = make_password("same")
    arguments: dict[str, Any] = {
        "username": "npc-001",
        "full_name": "王建国",
        "chamber": Chamber.NPC,
        "term": "第十六届",
        "contact": GOOD_CONTACT,
        "credentials": Credentials(password_hash=ready),
    }
    services.enroll_deputy(**arguments)
    before = snapshot()

    services.enroll_deputy(**arguments)

    assert snapshot() == before


@pytest.mark.parametrize(("field", "contact"), [*BAD_CONTACTS, *SLIPPING_CONTACTS])
def test_enroll_deputy_with_bad_contact_refuses_and_creates_nothing(
    db: None, field: str, contact: ContactDetails
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_deputy(
            username="npc-new", full_name="新代表", chamber=Chamber.NPC, term="第十六届", contact=contact
        )

    assert caught.value.field == field
    assert caught.value.code == "invalid_input"
    assert snapshot() == before
    assert not User.objects.filter(username="npc-new").exists()


@pytest.mark.parametrize(("field", "contact"), BAD_CONTACTS)
def test_re_enrolling_a_deputy_with_bad_contact_leaves_account_and_profile_unchanged(
    deputy: User, field: str, contact: ContactDetails
) -> None:
    # given an enrolled deputy, when an import re-enrolls them with new names but a bad contact
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_deputy(
            username=deputy.username,
            full_name="改过的名字",
            chamber=Chamber.CPPCC,
            term="第十七届",
            contact=contact,
            credentials=Credentials(password="a-new-password"),
        )

    # then nothing of the account, the profile or the contact changed — not even the password
    assert caught.value.field == field
    assert snapshot() == before


# --- enroll_expert ----------------------------------------------------------


def test_enroll_expert_creates_account_and_profile(bureau_a: Bureau) -> None:
    department = bureau_a.departments.get()

    profile = services.enroll_expert(
        username="expert-jw-1",
        full_name="陈志远",
        post=BureauPost(
            bureau=bureau_a, department=department, title="处长", office_phone="0571-1234567", expertise=["学区划分"]
        ),
        capacity=5,
    )

    user = User.objects.get(username="expert-jw-1")
    assert (user.full_name, user.role, user.is_staff) == ("陈志远", Role.EXPERT, False)
    stored = ExpertProfile.objects.get(user=user)
    assert stored.pk == profile.pk
    assert (stored.bureau_id, stored.department_id, stored.title, stored.office_phone) == (
        bureau_a.pk,
        department.pk,
        "处长",
        "0571-1234567",
    )
    assert (stored.expertise, stored.capacity) == (["学区划分"], 5)


def test_enroll_expert_defaults_to_capacity_three_without_a_department(bureau_a: Bureau) -> None:
    profile = services.enroll_expert(username="expert-jw-2", full_name="赵一", post=BureauPost(bureau=bureau_a))

    stored = ExpertProfile.objects.get(pk=profile.pk)
    assert (stored.capacity, stored.department_id, stored.expertise) == (3, None, [])


def test_enroll_expert_twice_updates_the_same_profile(bureau_a: Bureau, bureau_b: Bureau) -> None:
    # given an expert of bureau A
    first = services.enroll_expert(username="expert-x", full_name="陈志远", post=BureauPost(bureau=bureau_a))

    # when the same username is enrolled again for bureau B with another capacity
    second = services.enroll_expert(
        username="expert-x",
        full_name="陈志远博士",
        post=BureauPost(bureau=bureau_b, department=bureau_b.departments.get(), title="总工程师"),
        capacity=1,
    )

    # then one account and one profile exist, moved and updated
    assert second.pk == first.pk
    assert User.objects.filter(username="expert-x").count() == 1
    assert ExpertProfile.objects.count() == 1
    stored = ExpertProfile.objects.get()
    assert (stored.bureau_id, stored.department_id, stored.title, stored.capacity) == (
        bureau_b.pk,
        bureau_b.departments.get().pk,
        "总工程师",
        1,
    )
    assert stored.user.full_name == "陈志远博士"


@pytest.mark.parametrize("capacity", [0, -1])
def test_enroll_expert_with_capacity_below_one_refuses_and_creates_nothing(bureau_a: Bureau, capacity: int) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_expert(
            username="expert-new", full_name="新专家", post=BureauPost(bureau=bureau_a), capacity=capacity
        )

    assert caught.value.field == "capacity"
    assert snapshot() == before


def test_re_enrolling_an_expert_with_capacity_zero_leaves_them_unchanged(expert: User) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_expert(
            username=expert.username,
            full_name="改名",
            post=BureauPost(bureau=expert.expert_profile.bureau, title="新职务"),
            capacity=0,
        )

    assert caught.value.field == "capacity"
    assert snapshot() == before


def test_enroll_expert_with_a_department_of_another_bureau_refuses_and_creates_nothing(
    bureau_a: Bureau, bureau_b: Bureau
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_expert(
            username="expert-new",
            full_name="新专家",
            post=BureauPost(bureau=bureau_a, department=bureau_b.departments.get()),
        )

    assert caught.value.field == "department"
    assert snapshot() == before


def test_re_enrolling_an_expert_with_a_foreign_department_leaves_them_unchanged(expert: User, bureau_b: Bureau) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_expert(
            username=expert.username,
            full_name="改名",
            post=BureauPost(bureau=expert.expert_profile.bureau, department=bureau_b.departments.get()),
            capacity=9,
        )

    assert caught.value.field == "department"
    assert snapshot() == before


# --- enroll_handler ---------------------------------------------------------


def test_enroll_handler_creates_account_and_profile(bureau_b: Bureau) -> None:
    department = bureau_b.departments.get()

    profile = services.enroll_handler(
        username="handler-jtw-1",
        full_name="刘芳",
        post=BureauPost(bureau=bureau_b, department=department, title="联络员", office_phone="0571-7654321"),
        is_bureau_lead=True,
    )

    user = User.objects.get(username="handler-jtw-1")
    assert (user.full_name, user.role, user.is_staff) == ("刘芳", Role.HANDLER, False)
    stored = HandlerProfile.objects.get(user=user)
    assert stored.pk == profile.pk
    assert (stored.bureau_id, stored.department_id, stored.title, stored.office_phone, stored.is_bureau_lead) == (
        bureau_b.pk,
        department.pk,
        "联络员",
        "0571-7654321",
        True,
    )


def test_enroll_handler_twice_updates_the_same_profile(bureau_b: Bureau) -> None:
    first = services.enroll_handler(
        username="handler-x", full_name="刘芳", post=BureauPost(bureau=bureau_b), is_bureau_lead=True
    )

    second = services.enroll_handler(
        username="handler-x", full_name="刘芳芳", post=BureauPost(bureau=bureau_b, title="科长"), is_bureau_lead=False
    )

    assert second.pk == first.pk
    assert HandlerProfile.objects.count() == 1
    assert User.objects.filter(username="handler-x").count() == 1
    stored = HandlerProfile.objects.get()
    assert (stored.title, stored.is_bureau_lead, stored.user.full_name) == ("科长", False, "刘芳芳")


def test_enroll_handler_with_a_department_of_another_bureau_refuses_and_creates_nothing(
    bureau_a: Bureau, bureau_b: Bureau
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_handler(
            username="handler-new",
            full_name="新承办人",
            post=BureauPost(bureau=bureau_b, department=bureau_a.departments.get()),
        )

    assert caught.value.field == "department"
    assert snapshot() == before


def test_re_enrolling_a_handler_with_a_foreign_department_leaves_them_unchanged(
    handler: User, bureau_a: Bureau
) -> None:
    # given a second department in bureau A, to be sure the check is by bureau and not by chance
    DepartmentFactory(bureau=bureau_a, name="督导处")
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_handler(
            username=handler.username,
            full_name="改名",
            post=BureauPost(bureau=handler.handler_profile.bureau, department=bureau_a.departments.first()),
            is_bureau_lead=False,
        )

    assert caught.value.field == "department"
    assert snapshot() == before


# --- enroll_office_user -----------------------------------------------------


def test_enroll_office_user_makes_staff_without_admin_rights(db: None) -> None:
    user = services.enroll_office_user(username="staff-01", full_name="赵敏", credentials=Credentials(password="pw-1"))

    stored = User.objects.get(pk=user.pk)
    assert (stored.role, stored.full_name, stored.is_staff, stored.is_superuser) == (Role.STAFF, "赵敏", False, False)
    assert stored.check_password("pw-1")
    assert stored.is_office is True


def test_enroll_office_user_as_admin_gets_django_admin_rights(db: None) -> None:
    user = services.enroll_office_user(username="root", full_name="系统管理员", role=Role.ADMIN)

    stored = User.objects.get(pk=user.pk)
    assert (stored.role, stored.is_staff, stored.is_superuser) == (Role.ADMIN, True, True)


def test_enroll_office_user_twice_updates_the_same_account_and_its_rights(db: None) -> None:
    # given a staff member, when re-enrolled as admin and then back as staff
    first = services.enroll_office_user(username="staff-01", full_name="赵敏")
    promoted = services.enroll_office_user(username="staff-01", full_name="赵敏", role=Role.ADMIN)
    assert User.objects.get(pk=first.pk).is_superuser is True

    demoted = services.enroll_office_user(username="staff-01", full_name="赵敏（办公室）", role=Role.STAFF)

    # then it is one account throughout, and the admin rights are gone again
    assert first.pk == promoted.pk == demoted.pk
    assert User.objects.filter(username="staff-01").count() == 1
    stored = User.objects.get(pk=first.pk)
    assert (stored.role, stored.full_name, stored.is_staff, stored.is_superuser) == (
        Role.STAFF,
        "赵敏（办公室）",
        False,
        False,
    )


@pytest.mark.parametrize("role", [Role.DEPUTY, Role.EXPERT, Role.HANDLER])
def test_enroll_office_user_with_a_non_office_role_refuses_and_creates_nothing(db: None, role: Role) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_office_user(username="not-office", full_name="某人", role=role)

    assert caught.value.field == "role"
    assert snapshot() == before


def test_re_enrolling_staff_with_a_non_office_role_leaves_the_account_unchanged(staff: User) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_office_user(username=staff.username, full_name="改名", role=Role.DEPUTY)

    assert caught.value.field == "role"
    assert snapshot() == before


# --- update_own_contact -----------------------------------------------------


def test_deputy_updates_their_own_contact_details(deputy: User) -> None:
    record = services.update_own_contact(actor=deputy, contact=GOOD_CONTACT)

    stored = DeputyContact.objects.get(profile__user=deputy)
    assert stored.pk == record.pk
    assert (stored.mobile, stored.email, stored.address, stored.postcode) == (
        GOOD_CONTACT.mobile,
        GOOD_CONTACT.email,
        GOOD_CONTACT.address,
        GOOD_CONTACT.postcode,
    )


def test_deputy_update_touches_no_other_deputys_contact(deputy: User, cosigner: User, member: User) -> None:
    others_before = list(DeputyContact.objects.exclude(profile__user=deputy).order_by("pk").values())

    services.update_own_contact(actor=deputy, contact=GOOD_CONTACT)

    assert list(DeputyContact.objects.exclude(profile__user=deputy).order_by("pk").values()) == others_before


def test_deputy_without_a_contact_row_gets_one_on_first_update(db: None) -> None:
    # given a deputy whose contact row was never made
    profile = DeputyProfileFactory(user__username="no-contact", contact=None)
    assert not DeputyContact.objects.filter(profile=profile).exists()

    services.update_own_contact(actor=profile.user, contact=ContactDetails(mobile="13600000000"))

    assert DeputyContact.objects.get(profile=profile).mobile == "13600000000"


def test_updating_own_contact_twice_keeps_one_row_with_the_latest_details(deputy: User) -> None:
    first = services.update_own_contact(actor=deputy, contact=GOOD_CONTACT)

    second = services.update_own_contact(actor=deputy, contact=ContactDetails(email="new@haibin.example.cn"))

    assert second.pk == first.pk
    assert DeputyContact.objects.filter(profile__user=deputy).count() == 1
    stored = DeputyContact.objects.get(profile__user=deputy)
    assert (stored.mobile, stored.email, stored.address, stored.postcode) == ("", "new@haibin.example.cn", "", "")


@pytest.mark.parametrize(("contact", "stored"), NORMALISED_CONTACTS)
def test_contact_typed_in_full_width_or_with_stray_whitespace_is_stored_as_ascii(
    deputy: User, contact: ContactDetails, stored: dict[str, str]
) -> None:
    services.update_own_contact(actor=deputy, contact=contact)

    row = DeputyContact.objects.filter(profile__user=deputy).values(*stored).get()
    assert row == stored


def test_contact_accepts_an_address_of_exactly_200_characters(deputy: User) -> None:
    services.update_own_contact(actor=deputy, contact=ContactDetails(address="路" * 200))

    assert DeputyContact.objects.get(profile__user=deputy).address == "路" * 200


@pytest.mark.parametrize(("field", "contact"), [*BAD_CONTACTS, *SLIPPING_CONTACTS])
def test_deputy_updating_contact_with_bad_input_is_refused_and_nothing_changes(
    deputy: User, field: str, contact: ContactDetails
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.update_own_contact(actor=deputy, contact=contact)

    assert caught.value.field == field
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["expert", "handler", "staff", "admin_user", "outsider"])
def test_non_deputy_cannot_update_contact_details_and_nothing_changes(
    request: pytest.FixtureRequest, deputy: User, persona: str
) -> None:
    # given a deputy with contact details, and someone who is not a deputy
    actor: User = request.getfixturevalue(persona)
    before = snapshot()

    # when that person tries to update contact details
    with pytest.raises(NotAllowed) as caught:
        services.update_own_contact(actor=actor, contact=GOOD_CONTACT)

    # then it is refused and no contact row is made or changed
    assert caught.value.code == "not_allowed"
    assert caught.value.status == 403
    assert snapshot() == before


# --- validate_contact -------------------------------------------------------


@pytest.mark.parametrize(
    "contact",
    [
        ContactDetails(),
        GOOD_CONTACT,
        ContactDetails(mobile="19900000000"),
        ContactDetails(email="a.b+c@sub.haibin.example.cn"),
        ContactDetails(postcode="000000"),
        ContactDetails(address="x" * 200),
    ],
)
def test_good_and_empty_contact_details_are_accepted_and_stored_as_given(deputy: User, contact: ContactDetails) -> None:
    services.validate_contact(contact)  # raises InvalidInput on a bad field

    record = services.update_own_contact(actor=deputy, contact=contact)

    stored = DeputyContact.objects.get(pk=record.pk)
    assert (stored.mobile, stored.email, stored.address, stored.postcode) == (
        contact.mobile,
        contact.email,
        contact.address,
        contact.postcode,
    )


@pytest.mark.parametrize(("field", "contact"), BAD_CONTACTS)
def test_validate_contact_names_the_bad_field(field: str, contact: ContactDetails) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.validate_contact(contact)

    assert caught.value.field == field
    assert caught.value.message


def test_validate_contact_names_the_first_bad_field_in_form_order() -> None:
    everything_wrong = ContactDetails(mobile="1", email="x", address="路" * 201, postcode="1")

    with pytest.raises(InvalidInput) as caught:
        services.validate_contact(everything_wrong)

    assert caught.value.field == "mobile"


# --- accounts keep their password and their role -----------------------------


def test_re_enrolling_without_credentials_keeps_the_existing_password(db: None) -> None:
    services.enroll_office_user(username="keeper", full_name="周密", credentials=Credentials(password="s3cret-pass"))

    services.enroll_office_user(username="keeper", full_name="周密")

    assert User.objects.get(username="keeper").check_password("s3cret-pass")


def test_enrolling_an_expert_under_a_deputys_username_is_refused_and_changes_nothing(
    deputy: User, bureau_a: Bureau
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_expert(username=deputy.username, full_name="冒名", post=BureauPost(bureau=bureau_a))

    assert caught.value.field == "username"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "kwargs"), [("full_name", {"full_name": "名" * 65}), ("full_name", {"full_name": " "})]
)
def test_enrolling_with_a_bad_name_is_refused_naming_the_field(db: None, field: str, kwargs: dict[str, str]) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_office_user(username="named", **kwargs)

    assert caught.value.field == field
    assert snapshot() == before


def test_enrolling_a_deputy_with_an_unknown_chamber_is_refused(db: None) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as caught:
        services.enroll_deputy(username="nowhere", full_name="钱多", chamber="senate", term="第一届")  # type: ignore[arg-type]

    assert caught.value.field == "chamber"
    assert snapshot() == before
