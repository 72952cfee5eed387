"""People in the admin: superusers manage accounts; sales managers see the team (view only,
from the group's permissions) to know who to give leads to and to jump to someone's leads."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from team.selectors import with_open_leads_and_role


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Selling",
            {
                "fields": (
                    "time_zone",
                    "daily_touch_goal",
                    "weekly_referral_email",
                    "daily_digest_email",
                )
            },
        ),
    )
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        "is_active",
        "is_sales_manager",
        "open_leads",
        "time_zone",
    ]
    list_filter = ["is_active", "groups", "is_staff", "is_superuser"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return with_open_leads_and_role(super().get_queryset(request))

    @admin.display(description="sales manager", boolean=True, ordering="in_managers_group")
    def is_sales_manager(self, user: User) -> bool:
        return user.in_managers_group or user.is_superuser

    @admin.display(description="open leads", ordering="open_lead_count")
    def open_leads(self, user: User) -> str:
        url = reverse("admin:leads_lead_changelist")
        return format_html(
            '<a href="{}?owner__id__exact={}">{}</a>', url, user.pk, user.open_lead_count
        )
