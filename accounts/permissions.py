"""The permissions of the Sales managers group, kept in step after every migrate."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, Permission

# Managers administer the team's records and the background schedules; users are managed by
# superusers (a manager may view them, to reassign work).
MANAGER_APPS = ("leads", "referrals", "icp", "reminders", "django_celery_beat")
MANAGER_USER_PERMISSIONS = ("view_user",)


def grant_manager_permissions(**kwargs: object) -> None:
    """post_migrate: the group exists and holds exactly the permissions it needs."""
    group, _ = Group.objects.get_or_create(name=settings.SALES_MANAGERS_GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label__in=MANAGER_APPS
    ) | Permission.objects.filter(
        content_type__app_label="accounts", codename__in=MANAGER_USER_PERMISSIONS
    )
    group.permissions.set(permissions)
