"""Django admin for bureaus, departments and accounts (the administrator's tools)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from consult.models import Bureau, Department, DeputyContact, DeputyProfile, ExpertProfile, HandlerProfile, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = ["username", "full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name"]
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Consult", {"fields": ("full_name", "role")}))


class DepartmentInline(admin.TabularInline[Department, Bureau]):
    model = Department
    extra = 0


@admin.register(Bureau)
class BureauAdmin(admin.ModelAdmin[Bureau]):
    list_display = ["name", "full_name", "code", "is_active", "sort_order"]
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
