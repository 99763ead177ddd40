"""factory_boy factories for people and organisations."""

from __future__ import annotations

from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from consult.models import Bureau, Department, DeputyContact, DeputyProfile, ExpertProfile, HandlerProfile, User
from consult.people.roles import Chamber, Role

PASSWORD = "correct-horse-42"


@cache
def password_hash() -> str:
    """One real hash, computed once: hashing per user would dominate the suite's time."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    role = Role.DEPUTY
    password = factory.LazyFunction(password_hash)


class BureauFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bureau

    code = factory.Sequence(lambda n: f"b{n}")
    name = factory.Sequence(lambda n: f"市测试局{n}")
    full_name = factory.LazyAttribute(lambda o: f"海滨{o.name.removeprefix('市')}")
    topics = factory.LazyFunction(lambda: ["交通拥堵", "停车难"])


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    bureau = factory.SubFactory(BureauFactory)
    name = factory.Sequence(lambda n: f"综合处{n}")


class ExpertProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpertProfile

    user = factory.SubFactory(UserFactory, role=Role.EXPERT)
    bureau = factory.SubFactory(BureauFactory)
    title = "处长"
    expertise = factory.LazyFunction(lambda: ["学区划分"])


class HandlerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandlerProfile

    user = factory.SubFactory(UserFactory, role=Role.HANDLER)
    bureau = factory.SubFactory(BureauFactory)
    title = "联络员"


class DeputyProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeputyProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.DEPUTY)
    chamber = Chamber.NPC
    delegation = "东湖区代表团"
    term = "海滨市第十六届人民代表大会"
    contact = factory.RelatedFactory("tests.factories.DeputyContactFactory", factory_related_name="profile")


class DeputyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeputyContact

    profile = factory.SubFactory(DeputyProfileFactory, contact=None)
    mobile = "13800138000"
    email = factory.Sequence(lambda n: f"deputy{n}@haibin.example.cn")
    address = "海滨市东湖区翠湖路18号"
    postcode = "310012"
