"""Admin bases for rows that only services write, shared by every app's admin.

`ServiceWrittenAdmin`: the admin shows the rows and never adds or changes one (the services keep
other rows in step with them: a lead's last touch, next follow-up, score, an outbox's
exactly-once bookkeeping). `RecordAdmin`: a record of what happened, which nobody deletes by
hand either, and which sales managers (staff, not superusers) may read without a permission row
of their own.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class ServiceWrittenAdmin(admin.ModelAdmin):
    # False where deleting a row by hand would break what the services keep (an outbox).
    rows_deletable = True

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.rows_deletable and super().has_delete_permission(request, obj)


class RecordAdmin(ServiceWrittenAdmin):
    rows_deletable = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        user = request.user
        return user.is_active and user.is_staff and user.is_manager
