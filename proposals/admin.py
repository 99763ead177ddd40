"""Django admin for the proposal cycle: sessions, the working-day calendar, and read-mostly records."""

from django.contrib import admin

import proposals.admin_calendar  # noqa: F401  (registers the calendar admin)
from proposals.models import Assignment, Proposal, ProposalEvent, ProposalSession


@admin.register(ProposalSession)
class ProposalSessionAdmin(admin.ModelAdmin[ProposalSession]):
    list_display = ["name", "chamber", "year", "number_prefix", "is_open", "next_number"]
    list_filter = ["chamber", "is_open"]


class AssignmentInline(admin.TabularInline[Assignment, Proposal]):
    model = Assignment
    extra = 0
    can_delete = False
    fields = readonly_fields = ("bureau", "role", "status", "round", "reply_due", "opinion_due", "return_by")


class EventInline(admin.TabularInline[ProposalEvent, Proposal]):
    model = ProposalEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "actor", "action", "from_status", "to_status", "reason", "audience")


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin[Proposal]):
    """Read-only here: every change goes through the services (and their audit trail)."""

    list_display = ["title", "kind", "session", "number", "status", "outcome_class", "reply_due"]
    list_filter = ["kind", "status", "outcome_class", "session"]
    search_fields = ["title", "number", "proposer__full_name"]
    inlines = [AssignmentInline, EventInline]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False
