"""Read-only admin: a sales manager sees which reminder emails went out and which failed."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator

from accounts.admin_bases import ServiceWrittenAdmin
from reminders.models import EmailLinkUse, Reminder


class OutboxAdmin(ServiceWrittenAdmin):
    # Rows are written by the dispatcher and the email links only; deleting one by hand would
    # break the exactly-once bookkeeping.
    rows_deletable = False


@admin.register(Reminder)
class ReminderAdmin(OutboxAdmin):
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
class EmailLinkUseAdmin(OutboxAdmin):
    list_display = ("used_at", "user", "action")
    list_filter = ("action",)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    date_hierarchy = "used_at"
    ordering = ("-used_at",)
