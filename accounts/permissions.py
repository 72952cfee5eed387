"""The permissions of the Sales managers group, kept in step after every migrate."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, Permission

# Managers administer the team's records in the admin; people are managed on the Team page
# (a manager may view them here, to reassign work). The scheduler's internals (django-celery-
# beat's periodic tasks, crontabs, intervals, solar events, clocked) are for superusers only:
# without a permission on them, the admin does not show them to a manager.
MANAGER_APPS = ("leads", "referrals", "icp", "reminders")
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
