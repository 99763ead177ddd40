"""Shapes of people and organisations in the API. Validation only, no side effects."""

from __future__ import annotations

from rest_framework import serializers

from consult.models import Bureau, Department, DeputyContact, DeputyProfile, ExpertProfile, User


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["id", "name"]


class BureauSerializer(serializers.ModelSerializer[Bureau]):
    departments = DepartmentSerializer(many=True, read_only=True)

    class Meta:
        model = Bureau
        fields = ["id", "code", "name", "full_name", "topics", "departments"]


class BureauRefSerializer(serializers.ModelSerializer[Bureau]):
    class Meta:
        model = Bureau
        fields = ["id", "code", "name"]


class ExpertSerializer(serializers.ModelSerializer[ExpertProfile]):
    """An expert; ``id`` is the user id, the one id of a person everywhere in the API."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.full_name")
    bureau = BureauRefSerializer()
    department = serializers.CharField(source="department.name", allow_null=True, default=None)

    class Meta:
        model = ExpertProfile
        fields = ["id", "name", "bureau", "department", "title", "expertise", "capacity"]


class DeputySerializer(serializers.ModelSerializer[DeputyProfile]):
    """A deputy or member; ``id`` is the user id (what ``deputy_id`` and the proposals' people take)."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.full_name")

    class Meta:
        model = DeputyProfile
        fields = ["id", "name", "chamber", "delegation", "sector", "term", "occupation"]


class ContactSerializer(serializers.ModelSerializer[DeputyContact]):
    """All four fields are required on PUT (send "" to clear one); PATCH changes only those sent."""

    class Meta:
        model = DeputyContact
        fields = ["mobile", "email", "address", "postcode"]
        extra_kwargs = {name: {"required": True, "allow_blank": True} for name in fields}


class MeSerializer(serializers.ModelSerializer[User]):
    name = serializers.CharField(source="full_name")
    bureau = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "role", "bureau"]

    def get_bureau(self, user: User) -> int | None:
        from consult.people.selectors import bureau_id_of

        return bureau_id_of(user)
