from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


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
        "is_staff",
        "is_active",
        "time_zone",
    ]
