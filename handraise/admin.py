"""Read-only admin: a sales manager sees the hand-raises that landed (with the consent the
visitor gave and where it came from) and whether the salesperson's email went out, and the
meetings booked on the pages."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_bases import RecordAdmin
from handraise.models import Booking, HandRaise


@admin.register(HandRaise)
class HandRaiseAdmin(RecordAdmin):
    # Rows are written by hand_raise_land and the email outbox only.
    list_display = ("created_at", "page", "kind", "channel", "name", "email", "notify_status")
    list_filter = ("kind", "channel", "notify_status")
    list_select_related = ("page__owner",)
    search_fields = ("name", "email", "company", "page__owner__username")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    raw_id_fields = ("activity",)


@admin.register(Booking)
class BookingAdmin(RecordAdmin):
    list_display = ("starts_at", "owner", "hand_raise", "visitor_time_zone", "cancelled_at")
    list_filter = ("cancelled_at",)
    list_select_related = ("owner", "hand_raise")
    search_fields = ("hand_raise__name", "hand_raise__email", "owner__username")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at", "-id")
    raw_id_fields = ("hand_raise", "page")
    exclude = ("cancel_token",)  # the visitor's credential: not shown even to managers
