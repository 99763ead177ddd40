"""Django admin for bureaus, departments and accounts (the administrator's tools)."""

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.models import (
    ApiToken,
    Bureau,
    Department,
    DeputyContact,
    DeputyProfile,
    ExpertProfile,
    HandlerProfile,
    User,
)
from consult.people import tokens


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = ["username", "full_name", "role", "office", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name"]
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Consult", {"fields": ("full_name", "role", "office")}))


class DepartmentInline(admin.TabularInline[Department, Bureau]):
    model = Department
    extra = 0


@admin.register(Bureau)
class BureauAdmin(admin.ModelAdmin[Bureau]):
    list_display = ["name", "full_name", "code", "is_active", "call_recording", "sort_order"]
    list_filter = ["call_recording"]
    search_fields = ["name", "full_name", "code"]
    inlines = [DepartmentInline]


@admin.register(ExpertProfile)
class ExpertProfileAdmin(admin.ModelAdmin[ExpertProfile]):
    list_display = ["user", "bureau", "department", "title", "capacity"]
    list_filter = ["bureau"]
    search_fields = ["user__full_name", "user__username"]
    raw_id_fields = ["user"]


@admin.register(HandlerProfile)
class HandlerProfileAdmin(admin.ModelAdmin[HandlerProfile]):
    list_display = ["user", "bureau", "department", "is_bureau_lead"]
    list_filter = ["bureau", "is_bureau_lead"]
    search_fields = ["user__full_name", "user__username"]
    raw_id_fields = ["user"]


class DeputyContactInline(admin.StackedInline[DeputyContact, DeputyProfile]):
    model = DeputyContact


@admin.register(DeputyProfile)
class DeputyProfileAdmin(admin.ModelAdmin[DeputyProfile]):
    list_display = ["user", "chamber", "delegation", "sector", "term"]
    list_filter = ["chamber", "term"]
    search_fields = ["user__full_name", "delegation", "sector"]
    raw_id_fields = ["user"]
    inlines = [DeputyContactInline]


class ApiTokenAddForm(forms.ModelForm[ApiToken]):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expiry"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Personal API tokens: an administrator issues one for anyone (the secret shows once) or revokes one
    (delete). Only the hash is stored, so a lost secret cannot be shown again: issue a new token."""

    list_display = ["name", "user", "token_key", "created", "expiry"]
    search_fields = ["name", "token_key", "user__username", "user__full_name"]
    raw_id_fields = ["user"]
    readonly_fields = ["token_key", "created"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return ["user", "name", "expiry"] if obj is None else ["user", "name", "token_key", "created", "expiry"]

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        expires_in = obj.expiry - timezone.now() if obj.expiry else None
        token, secret = tokens.issue_token(
            actor=cast(User, request.user), owner=obj.user, name=obj.name, expires_in=expires_in
        )
        obj.pk, obj.digest, obj.token_key, obj.created = token.pk, token.digest, token.token_key, token.created
        obj._state.adding = False
        self.message_user(
            request, _("The token for %(name)s, shown this once: %(secret)s") % {"name": obj.user, "secret": secret}
        )
