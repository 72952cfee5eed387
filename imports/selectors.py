"""Reads for imports and exports, scoped to the person asking."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from icp.models import ICP, Criterion
from imports.models import ImportJob
from leads.models import Activity, Company, FollowUp, Lead, StageChange
from referrals.models import ReferralAsk, ReferralSource


def import_jobs_visible_to(user: User) -> QuerySet[ImportJob]:
    """A person's own imports only, managers included: an import is personal work in progress
    (and holds the uploaded file), not team data."""
    return ImportJob.objects.filter(owner=user)


def account_records(user: User) -> dict[str, QuerySet]:
    """Everything the user owns, by file name, for the data-portability download.

    Own records only, also for a manager: this is "my data", not the team's.
    """
    return {
        "leads": Lead.objects.filter(owner=user).order_by("id"),
        "companies": Company.objects.filter(owner=user).order_by("id"),
        "stage_changes": StageChange.objects.filter(lead__owner=user).order_by("id"),
        "activities": Activity.objects.filter(lead__owner=user).order_by("id"),
        "follow_ups": FollowUp.objects.filter(lead__owner=user).order_by("id"),
        "referral_sources": ReferralSource.objects.filter(owner=user).order_by("id"),
        "referral_asks": ReferralAsk.objects.filter(source__owner=user).order_by("id"),
        "icps": ICP.objects.filter(owner=user).order_by("id"),
        "icp_criteria": Criterion.objects.filter(icp__owner=user).order_by("id"),
    }
