from __future__ import annotations

from django.contrib import admin

from imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: imports are run from the import page or `manage.py import_leads`."""

    list_display = [
        "filename",
        "owner",
        "format",
        "status",
        "total_rows",
        "created",
        "updated",
        "skipped_duplicates",
        "errors",
        "created_at",
    ]
    list_filter = ["status", "format"]
    search_fields = ["filename", "owner__username"]
    list_select_related = ["owner"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
