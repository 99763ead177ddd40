"""Chat's admin: the audit log of calls' recordings, read-only, for staff (``RecordingAccess``)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from chat.models import RecordingAccess


@admin.register(RecordingAccess)
class RecordingAccessAdmin(admin.ModelAdmin[RecordingAccess]):
    list_display = ["at", "user", "kind", "call", "track", "ip"]
    list_filter = ["kind"]
    search_fields = ["user__full_name", "user__username", "ip"]
    date_hierarchy = "at"
    list_select_related = ["user", "call", "track"]
    raw_id_fields = ["user", "call", "track"]

    # An audit log: nobody adds, changes or deletes a row; staff read it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RecordingAccess | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RecordingAccess | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: RecordingAccess | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)
