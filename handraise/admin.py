"""Read-only admin: a sales manager sees the hand-raises that landed (with the consent the
visitor gave and where it came from) and whether the salesperson's email went out, and the
meetings booked on the pages."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from handraise.models import Booking, HandRaise


@admin.register(HandRaise)
class HandRaiseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "page", "kind", "channel", "name", "email", "notify_status")
    list_filter = ("kind", "channel", "notify_status")
    list_select_related = ("page__owner",)
    search_fields = ("name", "email", "company", "page__owner__username")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    raw_id_fields = ("activity",)

    # Rows are written by hand_raise_land and the email outbox only; sales managers (staff,
    # not superusers) may read them without a permission row of their own, as in audit/admin.py.
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


@admin.register(Booking)
class BookingAdmin(HandRaiseAdmin):
    list_display = ("starts_at", "owner", "hand_raise", "visitor_time_zone", "cancelled_at")
    list_filter = ("cancelled_at",)
    list_select_related = ("owner", "hand_raise")
    search_fields = ("hand_raise__name", "hand_raise__email", "owner__username")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at", "-id")
    raw_id_fields = ("hand_raise", "page")
    exclude = ("cancel_token",)  # the visitor's credential: not shown even to managers
