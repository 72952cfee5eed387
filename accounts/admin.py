"""People in the admin: superusers manage accounts; sales managers see the team (view only,
from the group's permissions) to know who to give leads to and to jump to someone's leads."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from leads.models import OPEN_STAGES, Lead


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
        # Per user on the page, by index: no GROUP BY over the whole leads table.
        open_leads = (
            Lead.objects.filter(owner=OuterRef("pk"), stage__in=OPEN_STAGES)
            .order_by()
            .values("owner")
            .annotate(count=Count("pk"))
            .values("count")
        )
        managers = User.groups.through.objects.filter(
            user=OuterRef("pk"), group__name=settings.SALES_MANAGERS_GROUP
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_lead_count=Coalesce(Subquery(open_leads, output_field=IntegerField()), 0),
                in_managers_group=Exists(managers),
            )
        )

    @admin.display(description="sales manager", boolean=True, ordering="in_managers_group")
    def is_sales_manager(self, user: User) -> bool:
        return user.in_managers_group or user.is_superuser

    @admin.display(description="open leads", ordering="open_lead_count")
    def open_leads(self, user: User) -> str:
        url = reverse("admin:leads_lead_changelist")
        return format_html(
            '<a href="{}?owner__id__exact={}">{}</a>', url, user.pk, user.open_lead_count
        )
