"""Writes for user accounts."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
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


SETTINGS_FIELDS = (
    "time_zone",
    "daily_touch_goal",
    "reconnects_per_day",
    "weekly_referral_email",
    "daily_digest_email",
)
# Called after a user's settings are saved, in the same transaction, with the user and the
# names of the settings that changed. Apps above accounts register here in their
# AppConfig.ready (leads plans the network pool again for a new number per day or time zone):
# accounts must not import them.
settings_saved_hooks: list[Callable[[User, frozenset[str]], None]] = []


@transaction.atomic
def user_update_settings(
    *,
    user: User,
    time_zone: str,
    daily_touch_goal: int,
    weekly_referral_email: bool,
    daily_digest_email: bool,
    reconnects_per_day: int | None = None,
) -> User:
    """Save a user's own preferences: time zone, daily touch goal, how many network contacts
    come up a day (None: unchanged) and which emails they get."""
    before = {name: getattr(user, name) for name in SETTINGS_FIELDS}
    user.time_zone = time_zone
    user.daily_touch_goal = daily_touch_goal
    if reconnects_per_day is not None:
        user.reconnects_per_day = reconnects_per_day
    user.weekly_referral_email = weekly_referral_email
    user.daily_digest_email = daily_digest_email
    other_fields = [field.name for field in user._meta.fields if field.name not in SETTINGS_FIELDS]
    try:
        user.full_clean(exclude=other_fields, validate_unique=False)
    except ValidationError:
        # `user` is often request.user: leave it as saved, not half-changed.
        user.refresh_from_db(fields=SETTINGS_FIELDS)
        raise
    user.save(update_fields=SETTINGS_FIELDS)
    changed = frozenset(name for name in SETTINGS_FIELDS if getattr(user, name) != before[name])
    for hook in settings_saved_hooks:
        hook(user, changed)
    return user
