"""Writes for user accounts."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    time_zone: str = "UTC",
    is_manager: bool = False,
) -> User:
    """Create a salesperson, or a sales manager (staff, in the Sales managers group)."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
        is_staff=is_manager,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    if is_manager:
        user.groups.add(sales_managers_group())
    return user


def sales_managers_group() -> Group:
    group, _ = Group.objects.get_or_create(name=settings.SALES_MANAGERS_GROUP)
    return group
