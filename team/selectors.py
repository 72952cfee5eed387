"""Reads for the Team page: who is on the team, and what the demo data amounts to."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from icp.models import ICP
from imports.models import ImportJob
from leads.models import OPEN_STAGES, Activity, Company, FollowUp, Lead
from referrals.models import ReferralSource


def team_members() -> QuerySet[User]:
    """Everyone, active first, with their open leads counted and whether they manage."""
    return with_open_leads_and_role(User.objects.all()).order_by(
        "-is_active", "first_name", "last_name", "username"
    )


def with_open_leads_and_role(users: QuerySet[User]) -> QuerySet[User]:
    """`users` with `open_lead_count` and `in_managers_group`, for the Team page and the admin.

    Counted per user by index (a subquery each): no GROUP BY over the whole leads table.
    """
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
    return users.annotate(
        open_lead_count=Coalesce(Subquery(open_leads, output_field=IntegerField()), 0),
        in_managers_group=Exists(managers),
    )


def deactivation_targets(member: User) -> QuerySet[User]:
    """Who may take over someone's work: the other active people."""
    return (
        User.objects.filter(is_active=True)
        .exclude(pk=member.pk)
        .order_by("first_name", "last_name", "username")
    )


@dataclass(frozen=True)
class DemoData:
    """What "Remove the demo data" would delete."""

    users: list[str]
    leads: int
    activities: int
    follow_ups: int
    referral_sources: int
    companies: int
    icps: int
    imports: int

    def __bool__(self) -> bool:
        return bool(self.users)

    def lines(self) -> list[str]:
        """Each kind of record there is, with its count, in words (the accounts first)."""
        counts = [
            (len(self.users), "demo account", "demo accounts"),
            (self.leads, "lead", "leads"),
            (self.activities, "activity", "activities"),
            (self.follow_ups, "follow-up", "follow-ups"),
            (self.referral_sources, "referral source", "referral sources"),
            (self.companies, "company", "companies"),
            (self.icps, "ICP", "ICPs"),
            (self.imports, "import", "imports"),
        ]
        return [f"{count} {one if count == 1 else many}" for count, one, many in counts if count]


def demo_data() -> DemoData:
    demo_users = User.objects.filter(is_demo=True)
    return DemoData(
        users=[str(user) for user in demo_users.order_by("username")],
        leads=Lead.objects.filter(owner__in=demo_users).count(),
        activities=Activity.objects.filter(lead__owner__in=demo_users).count(),
        follow_ups=FollowUp.objects.filter(lead__owner__in=demo_users).count(),
        referral_sources=ReferralSource.objects.filter(owner__in=demo_users).count(),
        companies=Company.objects.filter(owner__in=demo_users).count(),
        icps=ICP.objects.filter(owner__in=demo_users).count(),
        imports=ImportJob.objects.filter(owner__in=demo_users).count(),
    )


@dataclass(frozen=True)
class Work:
    """What moves when someone is deactivated."""

    leads: int
    open_leads: int
    follow_ups: int
    referral_sources: int
    companies: int


def work_of(member: User) -> Work:
    leads = Lead.objects.filter(owner=member)
    return Work(
        leads=leads.count(),
        open_leads=leads.filter(stage__in=OPEN_STAGES).count(),
        follow_ups=FollowUp.objects.filter(lead__owner=member, done_at__isnull=True).count(),
        referral_sources=ReferralSource.objects.filter(owner=member).count(),
        companies=Company.objects.filter(owner=member).count(),
    )
