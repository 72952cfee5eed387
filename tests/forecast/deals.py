"""Closed and open deals with their stage history, for the forecast and suggestion tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from leads.models import Lead, Stage, StageChange
from tests.factories import CompanyFactory, LeadFactory


def deal(
    owner,
    *,
    outcome: str,
    through: tuple[str, ...] = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED),
    source: str = "own_network",
    industry: str = "Software",
    closed_at: datetime | None = None,
    value: int | None = None,
    **company,
) -> Lead:
    """A lead that went through `through` (open stages) and then to `outcome` (won, lost or
    an open stage: then it stays there), with a StageChange per move as the services record."""
    closed_at = closed_at or timezone.now()
    start = closed_at - timedelta(days=10 * len(through))
    lead = LeadFactory(
        owner=owner,
        source=source,
        stage=outcome,
        stage_changed_at=closed_at,
        expected_value=value,
        company=CompanyFactory(owner=owner, industry=industry, **company),
    )
    previous = ""
    for index, stage in enumerate(through):
        StageChange.objects.create(
            lead=lead,
            from_stage=previous,
            to_stage=stage,
            changed_by=owner,
            changed_at=start + timedelta(days=10 * index),
        )
        previous = stage
    if outcome != previous:
        StageChange.objects.create(
            lead=lead, from_stage=previous, to_stage=outcome, changed_by=owner, changed_at=closed_at
        )
    if outcome == Stage.WON:
        Lead.objects.filter(pk=lead.pk).update(won_at=closed_at)
    return lead
