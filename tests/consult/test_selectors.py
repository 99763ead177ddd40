"""Who sees which people and organisations: ``visible_to(user)`` for every model and every persona.

The rules are the table in ``consult/people/selectors.py``. Each test builds one small world (two active
bureaus, one closed bureau, experts and handlers in each, deputies of both chambers), asks one
persona's question, and compares the exact set of rows returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet

from consult.models import (
    Bureau,
    Department,
    DeputyContact,
    DeputyProfile,
    ExpertProfile,
    HandlerProfile,
    User,
)
from consult.people.roles import Chamber, Role
from tests.factories import (
    BureauFactory,
    DepartmentFactory,
    DeputyProfileFactory,
    ExpertProfileFactory,
    HandlerProfileFactory,
    UserFactory,
)

OFFICE = ["staff", "admin_user"]
DEPUTIES = ["deputy", "cosigner", "member"]
BUREAU_PEOPLE = ["expert", "handler"]
SIGNED_IN_OUTSIDE_OFFICE = [*DEPUTIES, *BUREAU_PEOPLE, "outsider"]
EVERYONE = [*OFFICE, *SIGNED_IN_OUTSIDE_OFFICE, "anonymous"]


@dataclass
class World:
    """Everything the visibility rules distinguish, with each persona's account by fixture name."""

    people: dict[str, User]
    bureau_a: Bureau
    bureau_b: Bureau
    closed_bureau: Bureau
    expert_b: ExpertProfile
    retired_expert: ExpertProfile
    closed_expert: ExpertProfile
    handler_a: HandlerProfile
    closed_handler: HandlerProfile
    member_2: DeputyProfile

    def viewer(self, name: str) -> User | AnonymousUser:
        return AnonymousUser() if name == "anonymous" else self.people[name]


@pytest.fixture
def world(
    deputy: User,
    cosigner: User,
    member: User,
    expert: User,
    handler: User,
    staff: User,
    admin_user: User,
    outsider: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
) -> World:
    closed_bureau = BureauFactory(code="gone", name="市已撤销局", is_active=False)
    DepartmentFactory(bureau=closed_bureau, name="撤销处")
    return World(
        people={
            "deputy": deputy,
            "cosigner": cosigner,
            "member": member,
            "expert": expert,
            "handler": handler,
            "staff": staff,
            "admin_user": admin_user,
            "outsider": outsider,
        },
        bureau_a=bureau_a,
        bureau_b=bureau_b,
        closed_bureau=closed_bureau,
        expert_b=ExpertProfileFactory(user__full_name="交通专家", bureau=bureau_b),
        retired_expert=ExpertProfileFactory(user__full_name="已离职专家", user__is_active=False, bureau=bureau_a),
        closed_expert=ExpertProfileFactory(user__full_name="撤销局专家", bureau=closed_bureau),
        handler_a=HandlerProfileFactory(user__full_name="教委承办人", bureau=bureau_a),
        closed_handler=HandlerProfileFactory(user__full_name="撤销局承办人", bureau=closed_bureau),
        member_2=DeputyProfileFactory(user__full_name="周委员", chamber=Chamber.CPPCC, delegation="", sector="经济界"),
    )


def pks(queryset: QuerySet[Model]) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def all_pks(model: type[Model]) -> set[int]:
    return set(model._default_manager.values_list("pk", flat=True))


# --- users ------------------------------------------------------------------


@pytest.mark.parametrize("persona", OFFICE)
def test_office_sees_every_user_account_including_inactive_ones(world: World, persona: str) -> None:
    # given an inactive expert account among the users
    assert world.retired_expert.user.is_active is False

    # when the office lists users
    visible = User.objects.visible_to(world.viewer(persona))

    # then every account is there
    assert pks(visible) == all_pks(User)
    assert world.retired_expert.user_id in pks(visible)


@pytest.mark.parametrize("persona", SIGNED_IN_OUTSIDE_OFFICE)
def test_user_outside_the_office_sees_only_their_own_account(world: World, persona: str) -> None:
    viewer = world.viewer(persona)

    visible = User.objects.visible_to(viewer)

    assert pks(visible) == {viewer.pk}


def test_anonymous_visitor_sees_no_user_accounts(world: World) -> None:
    assert User.objects.visible_to(AnonymousUser()).count() == 0


def test_user_visibility_is_a_queryset_that_chains(world: World) -> None:
    # given the staff member, when they filter the users they may see by role
    experts = User.objects.visible_to(world.viewer("staff")).filter(role=Role.EXPERT)

    # then the filter applies on top of the scope
    assert pks(experts) == set(User.objects.filter(role=Role.EXPERT).values_list("pk", flat=True))
    assert world.people["expert"].pk in pks(experts)


# --- bureaus and departments ------------------------------------------------


@pytest.mark.parametrize("persona", OFFICE)
def test_office_sees_active_and_inactive_bureaus(world: World, persona: str) -> None:
    visible = Bureau.objects.visible_to(world.viewer(persona))

    assert pks(visible) == {world.bureau_a.pk, world.bureau_b.pk, world.closed_bureau.pk}


@pytest.mark.parametrize("persona", SIGNED_IN_OUTSIDE_OFFICE)
def test_signed_in_user_outside_the_office_sees_only_active_bureaus(world: World, persona: str) -> None:
    visible = Bureau.objects.visible_to(world.viewer(persona))

    assert pks(visible) == {world.bureau_a.pk, world.bureau_b.pk}


def test_anonymous_visitor_sees_no_bureaus(world: World) -> None:
    assert Bureau.objects.visible_to(AnonymousUser()).count() == 0


def test_expert_of_an_inactive_bureau_does_not_see_their_own_closed_bureau(world: World) -> None:
    # given an expert whose bureau has been deactivated
    viewer = world.closed_expert.user

    # when they list bureaus
    visible = Bureau.objects.visible_to(viewer)

    # then only the active bureaus are there
    assert pks(visible) == {world.bureau_a.pk, world.bureau_b.pk}


@pytest.mark.parametrize("persona", OFFICE)
def test_office_sees_departments_of_every_bureau(world: World, persona: str) -> None:
    visible = Department.objects.visible_to(world.viewer(persona))

    assert pks(visible) == all_pks(Department)
    assert set(visible.values_list("bureau_id", flat=True)) == {
        world.bureau_a.pk,
        world.bureau_b.pk,
        world.closed_bureau.pk,
    }


@pytest.mark.parametrize("persona", SIGNED_IN_OUTSIDE_OFFICE)
def test_signed_in_user_outside_the_office_sees_departments_of_active_bureaus_only(world: World, persona: str) -> None:
    visible = Department.objects.visible_to(world.viewer(persona))

    assert pks(visible) == set(
        Department.objects.filter(bureau__in=[world.bureau_a, world.bureau_b]).values_list("pk", flat=True)
    )
    assert not visible.filter(bureau=world.closed_bureau).exists()


def test_anonymous_visitor_sees_no_departments(world: World) -> None:
    assert Department.objects.visible_to(AnonymousUser()).count() == 0


def test_departments_of_a_bureau_disappear_when_the_bureau_is_deactivated(world: World) -> None:
    # given a deputy who sees bureau A's departments
    viewer = world.viewer("deputy")
    assert Department.objects.visible_to(viewer).filter(bureau=world.bureau_a).exists()

    # when bureau A is deactivated
    Bureau.objects.filter(pk=world.bureau_a.pk).update(is_active=False)

    # then its departments are no longer visible to the deputy, but still to the office
    assert not Department.objects.visible_to(viewer).filter(bureau=world.bureau_a).exists()
    assert Department.objects.visible_to(world.viewer("staff")).filter(bureau=world.bureau_a).exists()


# --- experts ----------------------------------------------------------------


@pytest.mark.parametrize("persona", OFFICE)
def test_office_sees_every_expert_including_inactive_accounts_and_closed_bureaus(world: World, persona: str) -> None:
    visible = ExpertProfile.objects.visible_to(world.viewer(persona))

    assert pks(visible) == all_pks(ExpertProfile)
    assert {world.retired_expert.pk, world.closed_expert.pk} <= pks(visible)


@pytest.mark.parametrize("persona", SIGNED_IN_OUTSIDE_OFFICE)
def test_signed_in_user_sees_active_experts_of_every_active_bureau(world: World, persona: str) -> None:
    visible = ExpertProfile.objects.visible_to(world.viewer(persona))

    assert pks(visible) == {world.people["expert"].expert_profile.pk, world.expert_b.pk}


def test_anonymous_visitor_sees_no_experts(world: World) -> None:
    assert ExpertProfile.objects.visible_to(AnonymousUser()).count() == 0


def test_deputy_does_not_see_experts_of_a_deactivated_bureau(world: World) -> None:
    # given a deputy who can pick bureau B's expert
    viewer = world.viewer("deputy")
    assert world.expert_b.pk in pks(ExpertProfile.objects.visible_to(viewer))

    # when bureau B is deactivated
    Bureau.objects.filter(pk=world.bureau_b.pk).update(is_active=False)

    # then bureau B's expert is gone from the deputy's choice
    assert world.expert_b.pk not in pks(ExpertProfile.objects.visible_to(viewer))


# --- handlers ---------------------------------------------------------------


@pytest.mark.parametrize("persona", OFFICE)
def test_office_sees_every_handler(world: World, persona: str) -> None:
    visible = HandlerProfile.objects.visible_to(world.viewer(persona))

    assert pks(visible) == {world.people["handler"].handler_profile.pk, world.handler_a.pk, world.closed_handler.pk}


def test_bureau_expert_sees_only_the_handlers_of_their_own_bureau(world: World) -> None:
    visible = HandlerProfile.objects.visible_to(world.viewer("expert"))

    assert pks(visible) == {world.handler_a.pk}


def test_bureau_handler_sees_themself_and_colleagues_but_not_other_bureaus(world: World) -> None:
    # given a second handler in bureau B
    colleague = HandlerProfileFactory(user__full_name="交通委同事", bureau=world.bureau_b)

    visible = HandlerProfile.objects.visible_to(world.viewer("handler"))

    assert pks(visible) == {world.people["handler"].handler_profile.pk, colleague.pk}


def test_handler_of_an_inactive_bureau_still_sees_only_their_own_bureau(world: World) -> None:
    visible = HandlerProfile.objects.visible_to(world.closed_handler.user)

    assert pks(visible) == {world.closed_handler.pk}


@pytest.mark.parametrize("persona", [*DEPUTIES, "outsider", "anonymous"])
def test_deputies_outsiders_and_anonymous_visitors_see_no_handlers(world: World, persona: str) -> None:
    assert HandlerProfile.objects.visible_to(world.viewer(persona)).count() == 0


# --- deputy profiles --------------------------------------------------------


@pytest.mark.parametrize("persona", [*OFFICE, *BUREAU_PEOPLE])
def test_office_and_bureau_people_see_every_deputy_profile(world: World, persona: str) -> None:
    visible = DeputyProfile.objects.visible_to(world.viewer(persona))

    assert pks(visible) == all_pks(DeputyProfile)
    assert set(visible.values_list("chamber", flat=True)) == {Chamber.NPC, Chamber.CPPCC}


@pytest.mark.parametrize("persona", ["deputy", "cosigner"])
def test_npc_deputy_sees_only_npc_deputies(world: World, persona: str) -> None:
    visible = DeputyProfile.objects.visible_to(world.viewer(persona))

    assert pks(visible) == {world.people["deputy"].deputy_profile.pk, world.people["cosigner"].deputy_profile.pk}


def test_cppcc_member_sees_only_cppcc_members(world: World) -> None:
    visible = DeputyProfile.objects.visible_to(world.viewer("member"))

    assert pks(visible) == {world.people["member"].deputy_profile.pk, world.member_2.pk}


def test_expert_of_an_inactive_bureau_still_sees_deputy_profiles(world: World) -> None:
    visible = DeputyProfile.objects.visible_to(world.closed_expert.user)

    assert pks(visible) == all_pks(DeputyProfile)


@pytest.mark.parametrize("persona", ["outsider", "anonymous"])
def test_outsider_and_anonymous_visitor_see_no_deputy_profiles(world: World, persona: str) -> None:
    assert DeputyProfile.objects.visible_to(world.viewer(persona)).count() == 0


def test_deputy_account_without_a_profile_sees_no_deputy_profiles(world: World) -> None:
    # given a deputy-role account that was never given a profile
    bare = UserFactory(username="bare-deputy", role=Role.DEPUTY)

    assert DeputyProfile.objects.visible_to(bare).count() == 0


# --- deputy contacts --------------------------------------------------------


@pytest.mark.parametrize("persona", OFFICE)
def test_office_sees_every_deputy_contact(world: World, persona: str) -> None:
    visible = DeputyContact.objects.visible_to(world.viewer(persona))

    assert pks(visible) == all_pks(DeputyContact)
    assert len(pks(visible)) == 4  # deputy, cosigner, member, member_2


@pytest.mark.parametrize("persona", DEPUTIES)
def test_deputy_sees_only_their_own_contact_details(world: World, persona: str) -> None:
    viewer = world.people[persona]

    visible = DeputyContact.objects.visible_to(viewer)

    assert pks(visible) == {viewer.deputy_profile.contact.pk}


@pytest.mark.parametrize("persona", BUREAU_PEOPLE)
def test_bureau_people_cannot_see_deputy_contacts(world: World, persona: str) -> None:
    # given bureau people who see every deputy profile
    viewer = world.viewer(persona)
    assert DeputyProfile.objects.visible_to(viewer).count() == DeputyProfile.objects.count()

    # then they still see no contact details at all
    assert DeputyContact.objects.visible_to(viewer).count() == 0


@pytest.mark.parametrize("persona", ["outsider", "anonymous"])
def test_outsider_and_anonymous_visitor_cannot_see_deputy_contacts(world: World, persona: str) -> None:
    assert DeputyContact.objects.visible_to(world.viewer(persona)).count() == 0


def test_npc_deputy_cannot_see_a_fellow_deputys_contact_details(world: World) -> None:
    # given the deputy sees the co-signer's profile (same chamber)
    cosigner_profile = world.people["cosigner"].deputy_profile
    assert cosigner_profile.pk in pks(DeputyProfile.objects.visible_to(world.viewer("deputy")))

    # then the co-signer's contact is still private
    assert not DeputyContact.objects.visible_to(world.viewer("deputy")).filter(profile=cosigner_profile).exists()


def test_deputy_account_without_a_profile_sees_no_contacts(world: World) -> None:
    bare = UserFactory(username="bare-deputy", role=Role.DEPUTY)

    assert DeputyContact.objects.visible_to(bare).count() == 0
