"""``seed_demo`` builds the demo city 海滨市, and running it again changes nothing."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from consult.demo.city import DEMO_LOGINS, DEMO_PASSWORD, FIXTURES
from consult.models import Bureau, Department, DeputyContact, DeputyProfile, ExpertProfile, HandlerProfile, User
from consult.people.roles import Chamber, Role


def _snapshot() -> dict[str, object]:
    return {
        "users": sorted(User.objects.values_list("username", "full_name", "role")),
        "bureaus": sorted(Bureau.objects.values_list("code", "name", "full_name")),
        "departments": Department.objects.count(),
        "experts": sorted(ExpertProfile.objects.values_list("user__username", "bureau__code", "title")),
        "contacts": sorted(DeputyContact.objects.values_list("profile__user__username", "mobile")),
    }


@pytest.mark.django_db
def test_seed_demo_builds_a_realistic_city() -> None:
    call_command("seed_demo", proposals=0, verbosity=0)

    assert Bureau.objects.count() == len(json.loads((FIXTURES / "bureaus.json").read_text(encoding="utf-8"))) == 42
    assert Bureau.objects.filter(name="市卫生健康委").exists()
    assert Department.objects.count() >= 200
    assert 90 <= ExpertProfile.objects.count() <= 120
    lead_bureaus = set(HandlerProfile.objects.filter(is_bureau_lead=True).values_list("bureau_id", flat=True))
    assert lead_bureaus == set(Bureau.objects.values_list("id", flat=True)), "every bureau has a proposals lead"
    assert DeputyProfile.objects.filter(chamber=Chamber.NPC).count() >= 120
    assert DeputyProfile.objects.filter(chamber=Chamber.CPPCC).count() >= 80
    assert User.objects.filter(role=Role.STAFF).count() >= 2
    # every bureau has experts on call and every deputy has private contact details
    assert not Bureau.objects.filter(expertprofile__isnull=True).exists()
    assert DeputyContact.objects.count() == DeputyProfile.objects.count()
    names = list(User.objects.exclude(role=Role.ADMIN).values_list("full_name", flat=True))
    assert len(names) == len(set(names)), "demo people have distinct names"
    assert all("\u4e00" <= name[0] <= "\u9fff" for name in names), "demo people have Chinese names"


@pytest.mark.django_db
def test_seed_demo_is_idempotent() -> None:
    call_command("seed_demo", verbosity=0)
    first = _snapshot()

    call_command("seed_demo", verbosity=0)

    assert _snapshot() == first


@pytest.mark.django_db
def test_each_demo_login_signs_in_with_its_role() -> None:
    call_command("seed_demo", proposals=0, verbosity=0)

    signed_in = {login.username: authenticate(username=login.username, password=DEMO_PASSWORD) for login in DEMO_LOGINS}

    for login in DEMO_LOGINS:
        user = signed_in[login.username]
        assert user is not None, login.username
        assert (user.role, user.full_name) == (login.role, login.full_name)


@pytest.mark.django_db
def test_generated_demo_people_cannot_sign_in() -> None:
    call_command("seed_demo", proposals=0, verbosity=0)

    assert not User.objects.get(username="npc-001").has_usable_password()
    assert authenticate(username="npc-001", password=DEMO_PASSWORD) is None


@pytest.mark.django_db
def test_only_the_demo_admin_reaches_django_admin() -> None:
    call_command("seed_demo", proposals=0, verbosity=0)

    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]
