"""Hand-built report data: leads with the dates, stages and history a test spells out."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from leads.models import Lead, StageChange
from leads.services.stages import leads_furthest_stage_recount
from reports.selectors import Period
from tests.factories import LeadFactory

LONDON = ZoneInfo("Europe/London")


def at(moment: str) -> datetime:
    """'2025-03-10 09:00' in London, where the test users live."""
    return datetime.fromisoformat(moment).replace(tzinfo=LONDON)


def period(start: str, end: str) -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end), LONDON)


def lead(
    owner,
    *,
    created: str,
    source: str = "own_network",
    stage: str = "new",
    won: str | None = None,
    stage_changed: str | None = None,
    value: int | None = None,
    **fields,
) -> Lead:
    """A lead whose timestamps are set afterwards, as auto_now_add would not let them be."""
    made = LeadFactory(
        owner=owner,
        source=source,
        stage=stage,
        expected_value=Decimal(value) if value is not None else None,
        **fields,
    )
    Lead.objects.filter(pk=made.pk).update(
        created_at=at(created),
        won_at=at(won) if won else None,
        stage_changed_at=at(stage_changed or won or created),
    )
    made.refresh_from_db()
    return made


def history(lead: Lead, *moves: tuple[str, str]) -> None:
    """Stage-history rows: each move is (to_stage, when), the first one usually ("new", created)."""
    previous = ""
    for to_stage, when in moves:
        StageChange.objects.create(
            lead=lead,
            from_stage=previous,
            to_stage=to_stage,
            changed_at=at(when),
            changed_by=lead.owner,
        )
        previous = to_stage
    leads_furthest_stage_recount([lead.pk])  # as lead_change_stage keeps it
