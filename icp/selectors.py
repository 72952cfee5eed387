"""Reads of ICPs, scoped to the user, and the live preview of an ICP being edited."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from icp.models import ICP
from icp.rescoring import FACT_FIELDS, HALF_LIFE_DAYS, facts_for_leads, icp_specs_for_owner
from icp.rescoring import signals_by_lead as load_signals
from icp.scoring import CriterionSpec, IcpSpec, LeadScore, icp_fit, score_lead
from leads.models import Grade, Lead

# Enough leads to be representative while the editor answers within a keystroke's patience.
PREVIEW_SAMPLE_SIZE = 5000
PREVIEW_EXAMPLES = 5


def icps_visible_to(user: User) -> QuerySet[ICP]:
    """A salesperson's own ICPs; a sales manager sees the whole team's."""
    icps = ICP.objects.select_related("owner")
    if user.is_manager:
        return icps
    return icps.filter(owner=user)


@dataclass(frozen=True)
class PreviewExample:
    lead_id: int
    name: str
    company: str
    fit: int
    total: int
    grade: str
    explanation: dict


@dataclass(frozen=True)
class IcpPreview:
    """How the owner's leads would score if the ICP being edited were saved as it is."""

    leads_considered: int
    sample_capped: bool
    matching: int  # leads with a fit above 0 against the edited ICP
    grades: dict[str, int]  # would-be grade distribution, every grade present
    examples: list[PreviewExample]
    note: str


def icp_preview(
    *,
    icp: ICP | None,
    criteria_specs: Sequence[CriterionSpec],
    owner: User,
    name: str | None = None,
    now: datetime | None = None,
) -> IcpPreview:
    """Score the owner's most recent leads against the edited ICP, without writing anything.

    The would-be scores use the owner's other active ICPs plus the edited one, treated as
    active and replacing its saved version, as the rescoring would after saving it active.
    The sample is capped at the owner's PREVIEW_SAMPLE_SIZE most recent leads, and the
    preview says so. At most four queries, whatever the sample size.
    """
    now = now or timezone.now()
    draft = IcpSpec(
        id=icp.pk if icp else None,
        name=name or (icp.name if icp else "New ICP"),
        criteria=tuple(criteria_specs),
    )
    others = tuple(spec for spec in icp_specs_for_owner(owner.pk) if spec.id != draft.id)
    rows = list(
        Lead.objects.filter(owner=owner)
        .order_by("-created_at", "-id")
        .values(*FACT_FIELDS, "first_name", "last_name", "email", "company__name")[
            : PREVIEW_SAMPLE_SIZE + 1
        ]
    )
    capped = len(rows) > PREVIEW_SAMPLE_SIZE
    rows = rows[:PREVIEW_SAMPLE_SIZE]
    facts = facts_for_leads(rows, load_signals([r["id"] for r in rows], now=now))
    scored = []
    for row in rows:
        lead_facts = facts[row["id"]]
        draft_fit = icp_fit(lead_facts, draft).fit
        score = score_lead(lead_facts, (*others, draft), now=now, half_life_days=HALF_LIFE_DAYS)
        scored.append((row, draft_fit, score))
    grades = Counter(score.grade for _, _, score in scored)
    best_first = sorted(scored, key=lambda item: (-item[1], -item[2].total, -item[0]["id"]))
    return IcpPreview(
        leads_considered=len(rows),
        sample_capped=capped,
        matching=sum(1 for _, draft_fit, _ in scored if draft_fit > 0),
        grades={grade: grades.get(grade, 0) for grade in Grade.values},
        examples=[_example(row, fit, score) for row, fit, score in best_first[:PREVIEW_EXAMPLES]],
        note=(
            f"Based on your {PREVIEW_SAMPLE_SIZE:,} most recent leads."
            if capped
            else f"Based on all {len(rows):,} of your leads."
        ),
    )


def _example(row: dict, fit: int, score: LeadScore) -> PreviewExample:
    name = f"{row['first_name']} {row['last_name']}".strip() or row["email"]
    return PreviewExample(
        lead_id=row["id"],
        name=name,
        company=row["company__name"] or "",
        fit=fit,
        total=score.total,
        grade=score.grade,
        explanation=score.explanation,
    )


def icps_with_counts(user: User) -> list[ICP]:
    """The visible ICPs, each with `criteria_count` and `best_fit_leads` (leads it fits best
    with a fit above 0). Two queries, however many leads."""
    icps: list[ICP] = list(
        icps_visible_to(user)
        .annotate(criteria_count=Count("criteria"))
        .order_by("-is_active", "name")
    )
    fitting = dict(
        Lead.objects.filter(best_icp__in=[icp.pk for icp in icps], fit_score__gt=0)
        .order_by()
        .values_list("best_icp")
        .annotate(count=Count("id"))
    )
    for icp in icps:
        icp.best_fit_leads = fitting.get(icp.pk, 0)  # type: ignore[attr-defined]  # for the template
    return icps
