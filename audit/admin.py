"""Audit events in the admin: a read-only list for sales managers, with filters."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.models import AuditEvent


class MadeByFilter(admin.SimpleListFilter):
    """People's actions first: the nightly rescore alone writes an event a night, which buried
    the imports, reassignments and erasures a manager opens this list to find."""

    title = "made by"
    parameter_name = "made_by"
    DEFAULT = "people"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("people", "People"),
            ("system", "Scheduled tasks"),
            ("all", "Anyone"),
        ]

    def value(self) -> str:
        return super().value() or self.DEFAULT

    def choices(self, changelist: ChangeList) -> Iterator[dict]:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.value() == "people":
            return queryset.filter(actor__isnull=False)
        if self.value() == "system":
            return queryset.filter(actor__isnull=True)
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "action", "target", "count", "actor")
    list_filter = (
        MadeByFilter,
        "action",
        "target",
        ("actor", admin.RelatedOnlyFieldListFilter),
    )
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
