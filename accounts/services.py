"""Writes for user accounts."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import PasswordResetRequest, TeamSettings, User
from accounts.selectors import TEAM_SETTINGS_PK

PASSWORD_RESET_SUBJECT = "registration/password_reset_subject.txt"  # noqa: S105 - a template
PASSWORD_RESET_EMAIL = "registration/password_reset_email.html"  # noqa: S105 - a template


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
    is_demo: bool = False,
) -> User:
    """Create a salesperson, or a sales manager (staff, in the Sales managers group)."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
        is_staff=is_manager,
        is_demo=is_demo,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    if is_manager:
        user.groups.add(sales_managers_group())
    return user


class FirstAccountTaken(Exception):
    """Someone created the first account already (the first-run page is gone)."""


@transaction.atomic
def first_account_create(
    *,
    username: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    time_zone: str = "UTC",
) -> User:
    """The first account of a database without users: a sales manager, made from the browser.

    Two people submitting the first-run page at once must not both get in: the Sales managers
    group row is locked (on SQLite the IMMEDIATE transaction already holds the write lock) and
    "no user yet" is checked again under that lock, so the second waits and then finds a user.
    """
    Group.objects.select_for_update().filter(pk=sales_managers_group().pk).get()
    if User.objects.exists():
        raise FirstAccountTaken
    _after_first_account_check()
    return user_create(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
        is_manager=True,
    )


def _after_first_account_check() -> None:
    """Nothing; tests hold the race window open here."""


def no_user_exists() -> bool:
    """True on a fresh database: the first visit offers "Create the first account"."""
    return not User.objects.exists()


# A one-time password a manager reads out or pastes to a new salesperson: no look-alike
# characters (0/o, 1/l/i), four groups of four, about 80 bits.
ONE_TIME_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet


def one_time_password() -> str:
    return "-".join(
        "".join(secrets.choice(ONE_TIME_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4)
    )


@dataclass(frozen=True)
class TeamMemberAdded:
    user: User
    one_time_password: str | None  # shown once when there is no email to send a link to


@transaction.atomic
def team_member_add(
    *,
    by: User,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    time_zone: str = "UTC",
    is_manager: bool = False,
) -> TeamMemberAdded:
    """A sales manager adds a salesperson (or another manager) from the Team page.

    With an email address the new person gets a link to choose their own password (the
    password-reset machinery, sent by the worker after the commit), so the manager never knows
    it. Without one, a one-time password is returned for the manager to hand over; it is shown
    once and never stored in clear. Either way the account has a usable password (random when
    emailed), so "Forgot your password?" works for them later too.
    """
    if not by.is_manager:
        raise PermissionDenied("Only sales managers add people to the team.")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "Someone on the team already has this username."})
    password = one_time_password() if not email else secrets.token_urlsafe(32)
    user = user_create(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
        is_manager=is_manager,
    )
    if email:
        from accounts.tasks import send_team_invite

        transaction.on_commit(lambda: send_team_invite.delay(user.pk, by.pk))
        return TeamMemberAdded(user=user, one_time_password=None)
    return TeamMemberAdded(user=user, one_time_password=password)


TEAM_INVITE_SUBJECT = "registration/team_invite_subject.txt"
TEAM_INVITE_EMAIL = "registration/team_invite_email.txt"


def team_invite_send(*, user_id: int, invited_by_id: int | None = None) -> bool:
    """Email a new team member the link to choose their password; False when there is nothing
    to do (gone, deactivated, no address, or they have logged in already: a redelivered task
    sends nothing twice to someone who is using their account)."""
    user = User.objects.filter(pk=user_id, is_active=True, last_login__isnull=True).first()
    if user is None or not user.email:
        return False
    invited_by = User.objects.filter(pk=invited_by_id).first() if invited_by_id else None
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "invited_by": invited_by,
        "link": f"{settings.SITE_URL}{path}",
        "login_url": f"{settings.SITE_URL}{reverse('login')}",
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = "".join(render_to_string(TEAM_INVITE_SUBJECT, context).splitlines())
    body = render_to_string(TEAM_INVITE_EMAIL, context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True


@transaction.atomic
def user_set_daily_touch_goal(*, user: User, daily_touch_goal: int, by: User) -> User:
    """A manager sets how many touches a day someone on the team aims for."""
    if not by.is_manager:
        raise PermissionDenied("Only sales managers set other people's goals.")
    user.daily_touch_goal = daily_touch_goal
    user.full_clean(
        exclude=[f.name for f in user._meta.fields if f.name != "daily_touch_goal"],
        validate_unique=False,
    )
    user.save(update_fields=["daily_touch_goal"])
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """They can no longer log in: their sessions, API tokens and calendar feed stop working
    (each checks is_active) and no reminder is sent to them. The account and its history
    stay, so what they did keeps their name. Callers move their work first."""
    user.is_active = False
    user.save(update_fields=["is_active"])
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
    "lost_reasons",
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
    lost_reasons: list[str] | None = None,
) -> User:
    """Save a user's own preferences: time zone, daily touch goal, how many network contacts
    come up a day, which emails they get and the reasons offered when a lead is lost (None
    keeps a setting as it is)."""
    before = {name: getattr(user, name) for name in SETTINGS_FIELDS}
    user.time_zone = time_zone
    user.daily_touch_goal = daily_touch_goal
    if reconnects_per_day is not None:
        user.reconnects_per_day = reconnects_per_day
    user.weekly_referral_email = weekly_referral_email
    user.daily_digest_email = daily_digest_email
    if lost_reasons is not None:
        user.lost_reasons = list(lost_reasons)
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


def password_reset_send(*, email: str) -> int:
    """Email a reset link to each active account with this address; how many were sent.

    Runs in the worker, never in the request: the page answers the same, in the same time,
    whether or not the address has an account (no account enumeration by timing). Links point
    at SITE_URL, as every email link does.
    """
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    site = urlsplit(settings.SITE_URL)
    users = list(form.get_users(form.cleaned_data["email"]))
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        subject_template_name=PASSWORD_RESET_SUBJECT,
        email_template_name=PASSWORD_RESET_EMAIL,
        from_email=settings.DEFAULT_FROM_EMAIL,
        extra_email_context={"site_name": "LeadHunter"},
    )
    return len(users)


PASSWORD_RESET_WINDOW = timedelta(hours=1)


@transaction.atomic
def password_reset_request(*, email: str, ip_address: str | None) -> bool:
    """Note a reset request; False when this address or this IP asked too often in the last
    hour (PASSWORD_RESETS_PER_ADDRESS / PASSWORD_RESETS_PER_IP). The same for an address with
    an account and one without, so the answer tells nobody who has one."""
    now = timezone.now()
    PasswordResetRequest.objects.filter(requested_at__lt=now - timedelta(days=1)).delete()
    digest = salted_hmac("password-reset-throttle", email.strip().casefold()).hexdigest()
    recent = PasswordResetRequest.objects.filter(requested_at__gte=now - PASSWORD_RESET_WINDOW)
    if recent.filter(email_digest=digest).count() >= settings.PASSWORD_RESETS_PER_ADDRESS or (
        ip_address
        and recent.filter(ip_address=ip_address).count() >= settings.PASSWORD_RESETS_PER_IP
    ):
        return False
    PasswordResetRequest.objects.create(
        email_digest=digest, ip_address=ip_address, requested_at=now
    )
    return True


@transaction.atomic
def team_settings_update(*, by: User, share_contacts: bool) -> TeamSettings:
    """A sales manager changes the team's settings (the Team page)."""
    if not by.is_manager:
        raise PermissionDenied("Only a sales manager can change the team's settings.")
    team, _ = TeamSettings.objects.select_for_update().get_or_create(pk=TEAM_SETTINGS_PK)
    team.share_contacts = share_contacts
    team.updated_by = by
    team.save()
    return team
