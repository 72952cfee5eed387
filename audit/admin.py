"""Audit events in the admin: a read-only list for sales managers, with filters."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "action", "target", "count", "actor")
    list_filter = ("action", "target", ("actor", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("actor",)
    date_hierarchy = "occurred_at"
    fields = ("occurred_at", "action", "target", "count", "actor", "details")
    readonly_fields = fields
    show_facets = admin.ShowFacets.NEVER

    # A record of what happened: nobody adds, edits or deletes one by hand, and sales managers
    # (staff, not superusers) may read it without a permission row of their own.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        user = request.user
        return user.is_active and user.is_staff and user.is_manager

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
