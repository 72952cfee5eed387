"""Cadence rules: when a lead's next follow-up is due. Pure functions, no database.

Times are computed in the owner's time zone: business days skip Saturday and Sunday, and a
follow-up is due at the start of the working day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from leads.models import (
    ANSWERED_OUTCOMES,
    CLOSED_STAGES,
    HAND_RAISE_KINDS,
    OPEN_STAGES,
    TOUCH_KINDS,
    ActivityKind,
    Direction,
    FollowUpKind,
    Stage,
)


@dataclass(frozen=True)
class CadenceRules:
    first_touch_business_days: int = 1
    no_reply_business_days: tuple[int, ...] = (2, 5, 10)
    hand_raise_business_days: int = 1
    after_conversation_business_days: int = 3
    won_referral_ask_days: int = 30
    won_check_in_days: int = 90
    re_engage_days: int = 90
    working_day_starts: time = time(9, 0)


DEFAULT_RULES = CadenceRules()


@dataclass(frozen=True)
class CadenceState:
    """What the cadence needs to know about one lead."""

    stage: str
    created_at: datetime
    stage_changed_at: datetime
    won_at: datetime | None = None
    last_contacted_at: datetime | None = None
    last_inbound_at: datetime | None = None
    unanswered_touches: int = 0
    first_unanswered_at: datetime | None = None
    referral_ask_done: bool = False
    check_in_done: bool = False
    re_engage_done: bool = False


@dataclass(frozen=True)
class DueFollowUp:
    kind: str
    due_at: datetime
    rule: str


@dataclass(frozen=True)
class ActivityFacts:
    """What the cadence needs to know about an activity being logged."""

    kind: str
    direction: str
    occurred_at: datetime
    outcome: str = ""


@dataclass(frozen=True)
class AfterActivity:
    """A lead's facts once an activity is logged, and the stage it moves to ("" if none)."""

    state: CadenceState
    to_stage: str = ""
    reason: str = ""
    # Notes and referral asks leave the lead's follow-ups as they are.
    moves_plan: bool = True

    @property
    def keeps_a_persons_follow_up(self) -> bool:
        """A move within the open pipeline keeps a follow-up a person planned."""
        return self.to_stage in OPEN_STAGES


def add_business_days(
    moment: datetime, days: int, zone: ZoneInfo, *, rules: CadenceRules = DEFAULT_RULES
) -> datetime:
    """The start of the working day `days` business days after `moment`, in `zone`."""
    day = moment.astimezone(zone).date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            added += 1
    return datetime.combine(day, rules.working_day_starts, tzinfo=zone)


def add_calendar_days(
    moment: datetime, days: int, zone: ZoneInfo, *, rules: CadenceRules = DEFAULT_RULES
) -> datetime:
    """`days` later at the start of the working day, moved forward off a weekend."""
    day = moment.astimezone(zone).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, rules.working_day_starts, tzinfo=zone)


def nurture_after_no_reply(unanswered_touches: int, *, rules: CadenceRules = DEFAULT_RULES) -> bool:
    """True once a lead has had every no-reply follow-up and still not answered."""
    return unanswered_touches > len(rules.no_reply_business_days)


def due_follow_up(
    state: CadenceState, zone: ZoneInfo, *, rules: CadenceRules = DEFAULT_RULES
) -> DueFollowUp | None:
    """The follow-up the rules want for a lead with no pending one, or None."""
    if state.stage == Stage.WON:
        return _after_won(state, zone, rules)
    if state.stage in (*CLOSED_STAGES, Stage.NURTURE):
        if state.re_engage_done:
            return None
        due = add_calendar_days(state.stage_changed_at, rules.re_engage_days, zone, rules=rules)
        return DueFollowUp(FollowUpKind.RE_ENGAGE, due, "re_engage")
    return _while_open(state, zone, rules)


def _after_won(state: CadenceState, zone: ZoneInfo, rules: CadenceRules) -> DueFollowUp | None:
    won_at = state.won_at or state.stage_changed_at
    if not state.referral_ask_done:
        due = add_calendar_days(won_at, rules.won_referral_ask_days, zone, rules=rules)
        return DueFollowUp(FollowUpKind.REFERRAL_ASK, due, "won_referral_ask")
    if not state.check_in_done:
        due = add_calendar_days(won_at, rules.won_check_in_days, zone, rules=rules)
        return DueFollowUp(FollowUpKind.CHECK_IN, due, "won_check_in")
    return None


def _while_open(state: CadenceState, zone: ZoneInfo, rules: CadenceRules) -> DueFollowUp:
    # Strictly later: an outbound touch that was answered (a connected call) sets both moments
    # to the same time, and that is a conversation we started, not a hand-raise waiting on us.
    # selectors.hand_raisers_new uses the same strict comparison.
    inbound_is_latest = state.last_inbound_at is not None and (
        state.last_contacted_at is None or state.last_inbound_at > state.last_contacted_at
    )
    if inbound_is_latest:
        due = add_business_days(
            state.last_inbound_at, rules.hand_raise_business_days, zone, rules=rules
        )
        return DueFollowUp(FollowUpKind.RESPOND, due, "hand_raise")
    if state.unanswered_touches and state.first_unanswered_at:
        step = min(state.unanswered_touches, len(rules.no_reply_business_days))
        days = rules.no_reply_business_days[step - 1]
        due = add_business_days(state.first_unanswered_at, days, zone, rules=rules)
        return DueFollowUp(FollowUpKind.FOLLOW_UP, due, f"no_reply_{step}")
    if state.last_contacted_at is not None:
        due = add_business_days(
            state.last_contacted_at, rules.after_conversation_business_days, zone, rules=rules
        )
        return DueFollowUp(FollowUpKind.FOLLOW_UP, due, "after_conversation")
    due = add_business_days(state.created_at, rules.first_touch_business_days, zone, rules=rules)
    return DueFollowUp(FollowUpKind.FIRST_TOUCH, due, "first_touch")


def after_activity(state: CadenceState, activity: ActivityFacts, *, now: datetime) -> AfterActivity:
    """How an activity moves a lead along; activity_log writes this, its preview shows it.

    - an outbound touch counts as contact; unanswered ones walk the no-reply cadence and, when
      it is used up, park the lead in Nurture;
    - a hand-raise (or an answered/inbound touch) resets the no-reply count, and a hand-raise
      moves a new, contacted or nurtured lead to Engaged; a first outbound touch moves a new
      lead to Contacted.
    """
    if activity.kind in (ActivityKind.NOTE, ActivityKind.REFERRAL_ASK):
        return AfterActivity(state, moves_plan=False)
    hand_raise = activity.kind in HAND_RAISE_KINDS
    outbound_touch = activity.kind in TOUCH_KINDS and activity.direction == Direction.OUTBOUND
    answered = (
        hand_raise
        or activity.direction == Direction.INBOUND
        or activity.outcome in ANSWERED_OUTCOMES
    )
    moment = activity.occurred_at
    facts: dict[str, object] = {}
    if outbound_touch:
        facts["last_contacted_at"] = max(filter(None, [state.last_contacted_at, moment]))
    if answered:
        facts["last_inbound_at"] = max(filter(None, [state.last_inbound_at, moment]))
        facts["unanswered_touches"] = 0
        facts["first_unanswered_at"] = None
    elif activity.kind in TOUCH_KINDS:
        if state.unanswered_touches == 0:
            facts["first_unanswered_at"] = moment
        facts["unanswered_touches"] = state.unanswered_touches + 1
    after = replace(state, **facts)
    to_stage, reason = "", ""
    if hand_raise and state.stage in (Stage.NEW, Stage.CONTACTED, Stage.NURTURE):
        to_stage, reason = Stage.ENGAGED, ActivityKind(activity.kind).label
    elif outbound_touch and state.stage == Stage.NEW:
        to_stage = Stage.CONTACTED
    elif state.stage in OPEN_STAGES and nurture_after_no_reply(after.unanswered_touches):
        to_stage = Stage.NURTURE
        reason = f"No reply after {after.unanswered_touches} touches"
    if to_stage:
        # A new stage starts a new re-engage clock.
        after = replace(after, stage=to_stage, stage_changed_at=now, re_engage_done=False)
    return AfterActivity(after, to_stage=to_stage, reason=reason)


def next_after_activity(
    change: AfterActivity, zone: ZoneInfo, *, now: datetime, rules: CadenceRules = DEFAULT_RULES
) -> DueFollowUp | None:
    """The follow-up the rules plan once an activity is logged (see after_activity).

    Without a stage move the activity completes today's step, so the next one is due the next
    business day at the earliest."""
    due = due_follow_up(change.state, zone, rules=rules)
    if due is None or change.to_stage:
        return due
    earliest = add_business_days(now, 1, zone, rules=rules)
    return replace(due, due_at=max(due.due_at, earliest))
