"""Reads of leads and their records, always scoped to who is asking.

A salesperson sees their own rows only; a sales manager sees the whole team. Every page, export
and task that reads leads starts from one of these functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from leads.models import (
    OPEN_STAGES,
    STAGE_LIMIT_DAYS,
    Activity,
    Company,
    FollowUp,
    Lead,
    StageChange,
)


def leads_visible_to(user: User) -> QuerySet[Lead]:
    if user.is_manager:
        return Lead.objects.all()
    return Lead.objects.filter(owner=user)


def companies_visible_to(user: User) -> QuerySet[Company]:
    if user.is_manager:
        return Company.objects.all()
    return Company.objects.filter(owner=user)


def activities_visible_to(user: User) -> QuerySet[Activity]:
    if user.is_manager:
        return Activity.objects.all()
    return Activity.objects.filter(lead__owner=user)


def follow_ups_visible_to(user: User) -> QuerySet[FollowUp]:
    if user.is_manager:
        return FollowUp.objects.all()
    return FollowUp.objects.filter(lead__owner=user)


def stage_changes_visible_to(user: User) -> QuerySet[StageChange]:
    if user.is_manager:
        return StageChange.objects.all()
    return StageChange.objects.filter(lead__owner=user)


def going_cold_condition(now: datetime | None = None) -> Q:
    """Open leads that have sat in their stage longer than the stage's limit."""
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for stage, days in STAGE_LIMIT_DAYS.items():
        condition |= Q(stage=stage, stage_changed_at__lt=now - timedelta(days=days))
    return condition


def is_going_cold(lead: Lead, now: datetime | None = None) -> bool:
    limit = STAGE_LIMIT_DAYS.get(lead.stage)
    if limit is None:
        return False
    return lead.stage_changed_at < (now or timezone.now()) - timedelta(days=limit)


def follow_ups_due(user: User, *, until: datetime) -> QuerySet[FollowUp]:
    """The user's own pending follow-ups due up to `until` (overdue included), soonest first."""
    return (
        FollowUp.objects.filter(lead__owner=user, done_at__isnull=True, due_at__lte=until)
        .select_related("lead", "lead__company")
        .order_by("due_at", "id")
    )


def hand_raisers_new(user: User, *, since: datetime) -> QuerySet[Lead]:
    """The user's open leads who reached out since `since` and have not been answered yet."""
    return Lead.objects.filter(
        owner=user,
        stage__in=OPEN_STAGES,
        last_inbound_at__gte=since,
    ).filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=F("last_inbound_at")))
