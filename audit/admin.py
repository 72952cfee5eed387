"""Audit events in the admin: a read-only list for sales managers, with filters."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_bases import RecordAdmin
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
class AuditEventAdmin(RecordAdmin):
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
