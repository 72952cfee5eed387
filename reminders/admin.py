"""Read-only admin: a sales manager sees which reminder emails went out and which failed."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import Truncator

from reminders.models import EmailLinkUse, Reminder


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows are written by the dispatcher and the email links only; editing one by hand would
    break the exactly-once bookkeeping."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "period", "status", "attempts", "sent_at", "last_error_short")
    list_filter = ("status", "kind")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "period", "subject")
    date_hierarchy = "due_at"
    ordering = ("-due_at", "-id")

    @admin.display(description="last error")
    def last_error_short(self, reminder: Reminder) -> str:
        return Truncator(reminder.last_error).chars(80)


@admin.register(EmailLinkUse)
class EmailLinkUseAdmin(ReadOnlyAdmin):
    list_display = ("used_at", "user", "action")
    list_filter = ("action",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    date_hierarchy = "used_at"
    ordering = ("-used_at",)
