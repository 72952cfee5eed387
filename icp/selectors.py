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
from icp.rescoring import (
    FACT_FIELDS,
    HALF_LIFE_DAYS,
    facts_for_leads,
    icp_specs_for_owner,
    lead_facts,
)
from icp.rescoring import signals_by_lead as load_signals
from icp.scoring import (
    CriterionSpec,
    IcpSpec,
    LeadFacts,
    LeadScore,
    best_fit,
    grade_for,
    icp_fit,
    intent_score,
    score_lead,
    total_score,
)
from icp.suggestions import Candidate, SuggestionResult, suggest
from leads.models import OPEN_STAGES, Grade, Lead, Stage

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


# --- Suggestions from wins and losses ----------------------------------------------------------

# The most recent wins, and as many losses, a suggestion is drawn from: a team's history can
# be large (its 20k closed deals took ~0.3 s to load and count at the bench's 100k leads). Each
# outcome is its own query so that PostgreSQL reads the newest from the (stage,
# stage_changed_at) index instead of sorting them all. The preview scores as many open leads.
SUGGESTION_SAMPLE_SIZE = 1000
SUGGESTION_PREVIEW_SIZE = 2000


def closed_deal_facts(user: User) -> tuple[list[LeadFacts], list[LeadFacts]]:
    """The facts of the won and the lost deals the user may see (their own; a manager's team),
    the SUGGESTION_SAMPLE_SIZE most recently closed of each. Two queries."""
    leads = Lead.objects.all() if user.is_manager else Lead.objects.filter(owner=user)

    def newest(stage: str) -> list[LeadFacts]:
        rows = (
            leads.filter(stage=stage)
            .order_by("-stage_changed_at")
            .values(*FACT_FIELDS)[:SUGGESTION_SAMPLE_SIZE]
        )
        return [lead_facts(row, ()) for row in rows]

    return newest(Stage.WON), newest(Stage.LOST)


def icp_suggestions(user: User) -> SuggestionResult:
    """Facts more common in the user's wins than losses, leaving out the criteria their active
    ICPs already have. Four queries."""
    won, lost = closed_deal_facts(user)
    existing = [
        Candidate(criterion.field, criterion.operator, criterion.value)
        for spec in icp_specs_for_owner(user.pk)
        for criterion in spec.criteria
    ]
    return suggest(won, lost, exclude=existing)


@dataclass(frozen=True)
class SuggestionEffect:
    """What adding a criterion to an ICP would do to the owner's open leads' scores."""

    criterion: str
    icp_name: str
    icp_active: bool
    leads_considered: int
    sample_capped: bool
    gain: int  # leads whose total score would go up
    lose: int  # and down (an ICP with one more criterion weighs the others less)
    grade_up: int
    grade_down: int
    examples: list[PreviewExample]  # the leads that gain most


_GRADE_RANK: dict[str, int] = {Grade.A: 4, Grade.B: 3, Grade.C: 2, Grade.D: 1}


def suggestion_effect(
    *,
    icp: ICP | None,
    criterion: CriterionSpec,
    owner: User,
    new_icp_name: str = "",
    now: datetime | None = None,
) -> SuggestionEffect:
    """Score the owner's open leads (the SUGGESTION_PREVIEW_SIZE most recent) with and without
    the criterion, without writing anything. `icp` None: it would start a new active ICP.
    At most four queries."""
    now = now or timezone.now()
    saved = icp_specs_for_owner(owner.pk)
    if icp is None:
        before = saved
        after = (*saved, IcpSpec(None, new_icp_name, (criterion,)))
    else:
        target = next((spec for spec in saved if spec.id == icp.pk), None)
        before = saved
        if target is None:  # an inactive ICP scores nothing, with or without the criterion
            after = saved
        else:
            grown = IcpSpec(target.id, target.name, (*target.criteria, criterion))
            after = tuple(grown if spec.id == icp.pk else spec for spec in saved)
    rows = list(
        Lead.objects.filter(owner=owner, stage__in=OPEN_STAGES)
        .order_by("-created_at", "-id")
        .values(*FACT_FIELDS, "first_name", "last_name", "email", "company__name")[
            : SUGGESTION_PREVIEW_SIZE + 1
        ]
    )
    capped = len(rows) > SUGGESTION_PREVIEW_SIZE
    rows = rows[:SUGGESTION_PREVIEW_SIZE]
    facts = facts_for_leads(rows, load_signals([r["id"] for r in rows], now=now))
    gain = lose = up = down = 0
    gains = []
    for row in rows:
        lead = facts[row["id"]]
        # Only the fit differs with and without the criterion: the intent is computed once,
        # and the whole score (with its explanation) only for the leads shown.
        intent, _ = intent_score(lead.signals, now=now, half_life_days=HALF_LIFE_DAYS)
        old = total_score(_fit(lead, before), intent, referred=lead.is_referred)
        new = total_score(_fit(lead, after), intent, referred=lead.is_referred)
        if new > old:
            gain += 1
            gains.append((new - old, new, row))
        elif new < old:
            lose += 1
        rank_change = _GRADE_RANK[grade_for(new)] - _GRADE_RANK[grade_for(old)]
        up += rank_change > 0
        down += rank_change < 0
    gains.sort(key=lambda item: (-item[0], -item[1], -item[2]["id"]))
    shown = [
        (row, score_lead(facts[row["id"]], after, now=now, half_life_days=HALF_LIFE_DAYS))
        for _, _, row in gains[:PREVIEW_EXAMPLES]
    ]
    return SuggestionEffect(
        criterion=criterion.label,
        icp_name=icp.name if icp else new_icp_name,
        icp_active=icp is None or icp.is_active,
        leads_considered=len(rows),
        sample_capped=capped,
        gain=gain,
        lose=lose,
        grade_up=up,
        grade_down=down,
        examples=[_example(row, score.fit, score) for row, score in shown],
    )


def _fit(facts: LeadFacts, icps: Sequence[IcpSpec]) -> int:
    best = best_fit(facts, icps)
    return best.fit if best else 0
