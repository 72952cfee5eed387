"""Each report on a small data set whose right answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from leads.models import Activity, Lead
from referrals.models import ReferralAsk
from reports import selectors
from tests.factories import ActivityFactory, ReferralSourceFactory, UserFactory
from tests.reports.builders import at, history, lead, period

pytestmark = pytest.mark.django_db

SPRING = period("2025-01-01", "2025-04-30")


# --- Period --------------------------------------------------------------------------------


def test_period_covers_whole_days_in_the_readers_time_zone():
    summer = period("2025-07-01", "2025-07-31")

    assert summer.start_at.isoformat() == "2025-07-01T00:00:00+01:00"
    assert summer.end_at.isoformat() == "2025-08-01T00:00:00+01:00"
    assert SPRING.months() == [date(2025, m, 1) for m in (1, 2, 3, 4)]


def test_period_weeks_are_iso_weeks_and_cut_off_weeks_have_fewer_business_days():
    # Wed 5 Mar → Wed 19 Mar 2025
    mid = period("2025-03-05", "2025-03-19")

    assert mid.weeks() == [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]
    assert [mid.business_days_in_week(monday) for monday in mid.weeks()] == [3, 5, 3]


# --- 1. Own your leads ---------------------------------------------------------------------


@pytest.fixture
def march_leads(salesperson, other_salesperson):
    for source, value in (
        ("referral", 10_000),
        ("own_network", 20_000),
        ("icp_prospecting", 30_000),
    ):
        lead(salesperson, source=source, created="2025-03-10 10:00", value=value)
    lead(salesperson, source="marketing", created="2025-03-12 10:00", value=40_000)
    # Won in March, created earlier: a win counts in the month it was won.
    lead(
        salesperson,
        source="referral",
        created="2025-01-15 10:00",
        stage="won",
        won="2025-03-20 10:00",
        value=50_000,
    )
    lead(
        salesperson,
        source="marketing",
        created="2025-02-01 10:00",
        stage="won",
        won="2025-03-21 10:00",
        value=10_000,
    )
    # 31 Mar 23:30 UTC is already 1 April in London (BST): an April lead.
    late = lead(salesperson, source="marketing", created="2025-04-01 00:30")
    assert late.created_at.isoformat() == "2025-03-31T23:30:00+00:00"
    # Someone else's leads never count in the salesperson's report.
    lead(other_salesperson, source="marketing", created="2025-03-10 10:00", value=99_000)


def test_own_your_leads_self_sourced_share_by_month(salesperson, march_leads):
    months = {row.month: row for row in selectors.own_your_leads(salesperson, SPRING)}
    march, april = months[date(2025, 3, 1)], months[date(2025, 4, 1)]

    assert (march.leads_self, march.leads_marketing) == (3, 1)
    assert march.leads_share == 75.0
    assert (march.pipeline_self, march.pipeline_marketing) == (Decimal(60_000), Decimal(40_000))
    assert march.pipeline_share == 60.0
    assert (march.wins_self, march.wins_marketing) == (1, 1)
    assert march.wins_share == 50.0
    assert march.won_value_share == 83.3  # 50,000 of 60,000
    assert (april.leads_self, april.leads_marketing) == (0, 1)
    assert april.leads_share == 0.0
    # February: only the marketing lead that was won in March.
    assert (months[date(2025, 2, 1)].leads, months[date(2025, 2, 1)].leads_share) == (1, 0.0)


def test_own_your_leads_lists_empty_months_and_totals_the_period(salesperson, march_leads):
    months = selectors.own_your_leads(salesperson, SPRING)
    total = selectors.own_your_leads_total(months)

    assert [row.month for row in months] == SPRING.months()
    assert months[0].leads == 1  # January: the referral lead won in March
    assert (total.leads_self, total.leads_marketing) == (4, 3)
    assert total.wins_share == 50.0


def test_a_manager_sees_the_team_or_one_rep(manager, salesperson, other_salesperson, march_leads):
    team = selectors.own_your_leads(manager, SPRING)
    alex = selectors.own_your_leads(manager, SPRING, other_salesperson)

    assert team[2].leads_marketing == 2
    assert (alex[2].leads_self, alex[2].leads_marketing) == (0, 1)


def test_a_salespersons_rep_filter_is_ignored(salesperson, other_salesperson, march_leads):
    months = selectors.own_your_leads(salesperson, SPRING, other_salesperson)

    assert (months[2].leads_self, months[2].leads_marketing) == (3, 1)


# --- 2. By source --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "duration",
    [
        timedelta(0),
        timedelta(seconds=1),
        timedelta(hours=36, microseconds=250),
        timedelta(days=731),
    ],
)
def test_the_days_between_two_moments_are_what_python_counts(salesperson, duration):
    won = lead(salesperson, stage="won", created="2025-03-30 23:59")
    Lead.objects.filter(pk=won.pk).update(won_at=won.created_at + duration)

    [days] = Lead.objects.filter(pk=won.pk).values_list(
        selectors.DaysBetween("created_at", "won_at"), flat=True
    )

    assert days == pytest.approx(duration.total_seconds() / 86400, abs=1e-8)


def test_by_source_win_rate_deal_size_and_median_cycle(salesperson, other_salesperson):
    ada = ReferralSourceFactory(owner=salesperson)
    # Referral: won after 10, 20 and 45 days; one lost in the period → 3 of 4.
    for created, won, value in (
        ("2025-02-01 09:00", "2025-02-11 09:00", 10_000),
        ("2025-02-01 09:00", "2025-02-21 09:00", 20_000),
        ("2024-12-20 09:00", "2025-02-03 09:00", 30_000),
    ):
        lead(
            salesperson,
            source="referral",
            created=created,
            stage="won",
            won=won,
            value=value,
            referred_by=ada,
        )
    lead(
        salesperson,
        source="referral",
        created="2025-02-01 09:00",
        stage="lost",
        stage_changed="2025-03-01 09:00",
        referred_by=ada,
    )
    # Open and lost-before-the-period leads are not closed in the period.
    lead(
        salesperson,
        source="referral",
        created="2025-03-01 09:00",
        stage="proposal",
        referred_by=ada,
    )
    lead(
        salesperson,
        source="marketing",
        created="2024-10-01 09:00",
        stage="lost",
        stage_changed="2024-12-01 09:00",
    )
    lead(
        salesperson,
        source="marketing",
        created="2025-03-01 09:00",
        stage="lost",
        stage_changed="2025-03-05 09:00",
    )
    lead(other_salesperson, source="referral", created="2025-02-01 09:00", stage="lost")

    rows = {row.source: row for row in selectors.by_source(salesperson, SPRING)}
    referral, marketing, event = rows["referral"], rows["marketing"], rows["event"]

    assert (referral.created, referral.won, referral.lost) == (4, 3, 1)
    assert referral.win_rate == 75.0
    assert referral.average_won_value == Decimal("20000.00")
    assert referral.median_cycle_days == 20.0
    assert (marketing.created, marketing.won, marketing.lost) == (1, 0, 1)
    assert marketing.win_rate == 0.0
    assert marketing.median_cycle_days is None
    assert (event.created, event.win_rate, event.average_won_value) == (0, None, None)
    assert list(rows) == [
        "referral",
        "own_network",
        "hand_raiser",
        "icp_prospecting",
        "marketing",
        "event",
        "other",
    ]


# --- 3. Funnel -----------------------------------------------------------------------------


def test_funnel_reach_conversion_and_days_in_stage(salesperson, other_salesperson):
    won = lead(salesperson, created="2025-03-01 09:00", stage="won", won="2025-03-20 09:00")
    history(
        won,
        ("new", "2025-03-01 09:00"),
        ("contacted", "2025-03-03 09:00"),
        ("engaged", "2025-03-06 09:00"),
        ("qualified", "2025-03-10 09:00"),
        ("proposal", "2025-03-12 09:00"),
        ("won", "2025-03-20 09:00"),
    )
    still_contacted = lead(salesperson, created="2025-03-01 09:00", stage="contacted")
    history(still_contacted, ("new", "2025-03-01 09:00"), ("contacted", "2025-03-02 09:00"))
    lost = lead(salesperson, created="2025-03-01 09:00", stage="lost")
    history(
        lost,
        ("new", "2025-03-01 09:00"),
        ("contacted", "2025-03-02 09:00"),
        ("engaged", "2025-03-09 09:00"),
        ("lost", "2025-03-15 09:00"),
    )
    parked = lead(salesperson, created="2025-03-01 09:00", stage="nurture")
    history(
        parked,
        ("new", "2025-03-01 09:00"),
        ("contacted", "2025-03-04 09:00"),
        ("nurture", "2025-03-14 09:00"),
    )
    untouched = lead(salesperson, created="2025-03-01 09:00")
    history(untouched, ("new", "2025-03-01 09:00"))
    # Created before the period, or someone else's: not in this funnel.
    lead(salesperson, created="2024-12-01 09:00", stage="won", won="2025-03-01 09:00")
    lead(other_salesperson, created="2025-03-01 09:00", stage="won", won="2025-03-20 09:00")

    steps = {step.stage: step for step in selectors.funnel(salesperson, SPRING)}

    assert [steps[s].reached for s in steps] == [5, 4, 2, 1, 1, 1]
    assert steps["new"].conversion is None
    assert steps["contacted"].conversion == 80.0
    assert steps["engaged"].conversion == 50.0  # Contacted → Engaged
    assert steps["engaged"].conversion_label == "Contacted → Engaged"
    assert steps["qualified"].conversion == 50.0
    assert steps["won"].conversion == 100.0
    # New: 2, 1, 1, 3 days (the untouched lead is still in New) → 1.5
    assert steps["new"].median_days_in_stage == 1.5
    # Contacted: 3, 7, 10 days (one lead is still there) → 7
    assert steps["contacted"].median_days_in_stage == 7.0
    assert steps["proposal"].median_days_in_stage == 8.0
    assert steps["won"].median_days_in_stage is None


def test_days_in_stage_pairs_consecutive_history_rows_on_any_database(salesperson):
    # PostgreSQL takes the funnel's medians in SQL; this is the pairing SQLite relies on.
    moving = lead(salesperson, created="2025-03-01 09:00", stage="engaged")
    history(
        moving,
        ("new", "2025-03-01 09:00"),
        ("contacted", "2025-03-01 21:00"),
        ("engaged", "2025-03-04 21:00"),
    )
    waiting = lead(salesperson, created="2025-03-02 09:00")
    history(waiting, ("new", "2025-03-02 09:00"))

    days = selectors._days_in_stage(Lead.objects.all())

    assert days == {"new": [0.5], "contacted": [3.0]}
    assert selectors.funnel(salesperson, SPRING)[1].median_days_in_stage == 3.0


def test_funnel_counts_a_skipped_stage_as_passed_and_reads_the_current_stage(salesperson):
    hand_raiser = lead(salesperson, created="2025-03-01 09:00", stage="engaged")
    history(hand_raiser, ("new", "2025-03-01 09:00"), ("engaged", "2025-03-02 09:00"))
    # No history at all (imported): its current stage still says how far it got.
    lead(salesperson, created="2025-03-01 09:00", stage="proposal")

    steps = selectors.funnel(salesperson, SPRING)

    assert [step.reached for step in steps] == [2, 2, 2, 1, 1, 0]
    assert all(step.conversion is None or step.conversion <= 100 for step in steps)


# --- 4. Activity ---------------------------------------------------------------------------


@pytest.fixture
def touches(salesperson, other_salesperson):
    salesperson.daily_touch_goal = 4  # 20 a week
    salesperson.save()
    mine = lead(salesperson, created="2025-02-01 09:00")
    theirs = lead(other_salesperson, created="2025-02-01 09:00")
    ActivityFactory.create_batch(
        6, lead=mine, user=salesperson, kind="call", occurred_at=at("2025-03-04 10:00")
    )
    ActivityFactory.create_batch(
        4, lead=mine, user=salesperson, kind="email", occurred_at=at("2025-03-09 22:00")
    )
    # Notes and referral asks are not touches.
    ActivityFactory(lead=mine, user=salesperson, kind="note", occurred_at=at("2025-03-05 10:00"))
    ActivityFactory(
        lead=mine, user=salesperson, kind="referral_ask", occurred_at=at("2025-03-05 10:00")
    )
    ActivityFactory.create_batch(
        25, lead=mine, user=salesperson, kind="meeting", occurred_at=at("2025-03-11 10:00")
    )
    ActivityFactory.create_batch(
        5, lead=theirs, user=other_salesperson, kind="linkedin", occurred_at=at("2025-03-12 10:00")
    )


@pytest.mark.parametrize(
    "zone", ["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
)
def test_a_moment_is_in_the_week_of_its_date_in_the_readers_zone(salesperson, zone):
    # March and April 2025: each zone's clocks change in them (Kolkata's never do).
    reader = selectors.Period(date(2025, 3, 3), date(2025, 4, 13), ZoneInfo(zone))
    weeks = reader.weeks()
    days = [weeks[0] + timedelta(days=number) for number in range(7 * len(weeks))]
    # In UTC: a local time in the spring gap is the same instant as one an hour later.
    moments = {
        datetime.combine(day, clock, tzinfo=reader.zone).astimezone(UTC)
        for day in days
        for clock in (time.min, time(1, 30), time(2, 30), time(12), time.max)
    }
    mine = lead(salesperson, created="2025-02-01 09:00")
    for moment in moments:
        ActivityFactory(lead=mine, user=salesperson, kind="call", occurred_at=moment)

    buckets = Activity.objects.filter(lead=mine).annotate(
        week=selectors.Bucket("occurred_at", reader.midnights(weeks))
    )

    def monday_of(moment: datetime) -> date:
        local_day = moment.astimezone(reader.zone).date()
        return local_day - timedelta(days=local_day.weekday())

    assert {activity.occurred_at: weeks[activity.week] for activity in buckets} == {
        moment: monday_of(moment) for moment in moments
    }


@pytest.mark.parametrize(
    "zone", ["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
)
def test_the_activity_report_counts_each_touch_in_the_week_of_its_date_in_the_readers_zone(
    manager, salesperson, other_salesperson, zone
):
    # The team's report counts week by week (on PostgreSQL, a range of the touch index per
    # week), a salesperson's by one grouping: both must put each touch in its local week,
    # including those at local midnight, in a clock change's gap and at the period's ends.
    reader = selectors.Period(date(2025, 3, 5), date(2025, 4, 9), ZoneInfo(zone))
    weeks = reader.weeks()
    days = [weeks[0] + timedelta(days=number) for number in range(7 * len(weeks))]
    moments = sorted(
        {
            datetime.combine(day, clock, tzinfo=reader.zone).astimezone(UTC)
            for day in days
            for clock in (time.min, time(1, 30), time(2, 30), time.max)
        }
    )
    mine = lead(salesperson, created="2025-02-01 09:00")
    theirs = lead(other_salesperson, created="2025-02-01 09:00")
    for number, moment in enumerate(moments):
        person, on = (salesperson, mine) if number % 3 else (other_salesperson, theirs)
        ActivityFactory(lead=on, user=person, kind="call", occurred_at=moment)

    def expected(person) -> dict[tuple[str, date], int]:
        counts = {(str(person), monday): 0 for monday in weeks}
        for number, moment in enumerate(moments):
            if (salesperson if number % 3 else other_salesperson) != person:
                continue
            local_day = moment.astimezone(reader.zone).date()
            if reader.start <= local_day <= reader.end:
                counts[(str(person), local_day - timedelta(days=local_day.weekday()))] += 1
        return counts

    def counted(rows) -> dict[tuple[str, date], int]:
        return {(row.rep, row.week): row.touches for row in rows}

    assert counted(selectors.activity(manager, reader)) == expected(salesperson) | expected(
        other_salesperson
    )
    assert counted(selectors.activity(manager, reader, salesperson)) == expected(salesperson)
    assert counted(selectors.activity(salesperson, reader)) == expected(salesperson)
    assert sum(expected(salesperson).values()) > 0


def test_activity_touches_per_week_against_the_goal(salesperson, touches):
    weeks = selectors.activity(salesperson, period("2025-03-03", "2025-03-16"))

    assert [(row.iso_week, row.touches, row.goal) for row in weeks] == [
        ("2025-W10", 10, 20),
        ("2025-W11", 25, 20),
    ]
    assert [row.percent_of_goal for row in weeks] == [50.0, 125.0]
    assert {row.rep for row in weeks} == {str(salesperson)}


def test_activity_shows_a_week_without_touches_and_prorates_a_cut_off_week(salesperson, touches):
    # Mon 10 → Wed 19 March: week 12 has 3 business days in the period and no touches.
    weeks = selectors.activity(salesperson, period("2025-03-10", "2025-03-19"))

    assert [(row.iso_week, row.touches, row.goal) for row in weeks] == [
        ("2025-W11", 25, 20),
        ("2025-W12", 0, 12),
    ]
    assert weeks[1].percent_of_goal == 0.0


def test_activity_for_a_manager_is_per_rep_and_filterable(
    manager, salesperson, other_salesperson, touches
):
    team = selectors.activity(manager, period("2025-03-10", "2025-03-16"))
    alex = selectors.activity(manager, period("2025-03-10", "2025-03-16"), other_salesperson)

    assert {(row.rep, row.touches) for row in team} == {
        (str(salesperson), 25),
        (str(other_salesperson), 5),
    }
    assert [(row.rep, row.touches, row.goal) for row in alex] == [(str(other_salesperson), 5, 100)]
    per_rep = {row.rep: row for row in selectors.activity_per_rep(team)}
    assert per_rep[str(salesperson)].percent_of_goal == 125.0


# --- 5. Referrals --------------------------------------------------------------------------


@pytest.fixture
def referral_tree(salesperson, other_salesperson):
    customer = lead(salesperson, created="2024-06-01 09:00", stage="won", won="2024-09-01 09:00")
    ada = ReferralSourceFactory(owner=salesperson, name="Ada Lovelace", lead=customer)
    first = lead(
        salesperson,
        source="referral",
        created="2025-03-05 09:00",
        stage="won",
        won="2025-04-01 09:00",
        value=5_000,
        referred_by=ada,
    )
    lead(salesperson, source="referral", created="2025-03-20 09:00", referred_by=ada)
    # The referred customer refers in turn: their win counts in Ada's tree too.
    first_source = ReferralSourceFactory(owner=salesperson, name="Ben Ross", lead=first)
    lead(
        salesperson,
        source="referral",
        created="2025-04-10 09:00",
        stage="won",
        won="2025-04-20 09:00",
        value=7_000,
        referred_by=first_source,
    )
    ReferralSourceFactory(owner=salesperson, name="Never Referred")
    for asked in ("2025-03-01 09:00", "2025-03-02 09:00", "2025-04-02 09:00"):
        ReferralAsk.objects.create(source=ada, asked_by=salesperson, asked_at=at(asked))
    theirs = ReferralSourceFactory(owner=other_salesperson, name="Alex's Source")
    lead(other_salesperson, source="referral", created="2025-03-05 09:00", referred_by=theirs)
    ReferralAsk.objects.create(source=theirs, asked_at=at("2025-03-03 09:00"))
    return ada


def test_referrals_leaderboard_and_months(salesperson, referral_tree):
    report = selectors.referrals(salesperson, SPRING)

    assert [
        (row.name, row.referrals_given, row.won_value_of_tree) for row in report.leaderboard
    ] == [
        ("Ada Lovelace", 2, Decimal(12_000)),
        ("Ben Ross", 1, Decimal(7_000)),
    ]
    assert report.leaderboard[0].referred_in_period == 2
    months = {row.month: row for row in report.months}
    assert (months[date(2025, 3, 1)].asks, months[date(2025, 3, 1)].referred_leads) == (2, 2)
    assert (months[date(2025, 4, 1)].asks, months[date(2025, 4, 1)].referred_leads) == (1, 1)
    assert months[date(2025, 1, 1)].asks == 0


def test_referrals_leaderboard_lists_sources_that_referred_in_the_period(
    salesperson, referral_tree
):
    april = selectors.referrals(salesperson, period("2025-04-01", "2025-04-30"))

    # Ada referred no one in April, but her tree still grew: Ben's referral won.
    assert [(r.name, r.referred_in_period, r.referrals_given) for r in april.leaderboard] == [
        ("Ben Ross", 1, 1)
    ]


def test_referrals_for_a_manager_cover_the_team_or_one_rep(
    manager, other_salesperson, referral_tree
):
    team = selectors.referrals(manager, SPRING)
    alex = selectors.referrals(manager, SPRING, other_salesperson)

    assert {row.name for row in team.leaderboard} == {"Ada Lovelace", "Ben Ross", "Alex's Source"}
    assert selectors.referral_months_total(team.months).asks == 4
    assert [row.name for row in alex.leaderboard] == ["Alex's Source"]
    assert selectors.referral_months_total(alex.months).referred_leads == 1


def test_reports_are_empty_for_a_new_salesperson(db):
    newcomer = UserFactory(username="newcomer")

    assert not any(row.leads for row in selectors.own_your_leads(newcomer, SPRING))
    assert selectors.funnel(newcomer, SPRING)[0].reached == 0
    assert not any(row.touches for row in selectors.activity(newcomer, SPRING))
    assert selectors.referrals(newcomer, SPRING).leaderboard == []


# --- 6. Speed to lead ----------------------------------------------------------------------


def raise_hand(on: Lead, when: str, kind: str = "replied") -> None:
    ActivityFactory(lead=on, kind=kind, direction="inbound", occurred_at=at(when))


def touch(on: Lead, when: str, kind: str = "call", direction: str = "outbound") -> None:
    ActivityFactory(lead=on, kind=kind, direction=direction, occurred_at=at(when))


def answered_after(owner, minutes: float, *, raised: str = "2025-03-10 09:00") -> Lead:
    """A lead that raised a hand at `raised` and got a call `minutes` later."""
    one = lead(owner, created="2025-03-01 09:00")
    raise_hand(one, raised)
    ActivityFactory(lead=one, kind="call", occurred_at=at(raised) + timedelta(minutes=minutes))
    return one


def month_of(report: selectors.SpeedToLeadReport, month: date, rep) -> selectors.SpeedToLead:
    return next(row for row in report.months if row.month == month and row.rep_id == rep.pk)


def test_speed_to_lead_counts_answers_within_5_minutes_1_hour_and_1_day_inclusive(salesperson):
    for minutes in (5, 5 + 1 / 60, 60, 60 + 1 / 60, 24 * 60, 24 * 60 + 1 / 60):
        answered_after(salesperson, minutes)
    never = lead(salesperson, created="2025-03-01 09:00")
    raise_hand(never, "2025-03-12 09:00", kind="asked_for_demo")

    report = selectors.speed_to_lead(salesperson, SPRING)

    march = month_of(report, date(2025, 3, 1), salesperson)
    assert march.hand_raises == 7
    assert march.answered == 6
    assert march.within_5_minutes == 1  # exactly 5:00 is within; 5:01 is not
    assert march.within_1_hour == 3
    assert march.within_1_day == 5
    assert march.answered_later == 1
    assert march.waiting == 1
    # Over the answered six: (60 + 60:01) / 2
    assert march.median_minutes == pytest.approx(60 + 1 / 120)
    assert [row.rep for row in report.reps] == [str(salesperson)]
    assert report.reps[0].within_5_minutes == 1
    assert report.total.hand_raises == 7


@pytest.mark.parametrize(
    ("minutes", "median"),
    [((2, 10, 30), 10), ((2, 10, 30, 60), 20), ((7,), 7)],
    ids=["odd", "even", "one"],
)
def test_speed_to_lead_median_over_odd_and_even_counts(salesperson, minutes, median):
    for wait in minutes:
        answered_after(salesperson, wait)

    report = selectors.speed_to_lead(salesperson, SPRING)

    assert month_of(report, date(2025, 3, 1), salesperson).median_minutes == median
    assert report.total.median_minutes == median


def test_speed_to_lead_clock_runs_from_the_first_unanswered_hand_raise(salesperson):
    again = lead(salesperson, created="2025-03-01 09:00")
    touch(again, "2025-03-09 09:00")  # before any hand-raise: answers nothing
    raise_hand(again, "2025-03-10 09:00")
    raise_hand(again, "2025-03-10 11:00", kind="asked_for_info")  # the same wait
    touch(again, "2025-03-10 12:00", kind="email", direction="inbound")  # theirs, no answer
    touch(again, "2025-03-10 13:00", kind="note")  # not a touch
    touch(again, "2025-03-10 14:00", kind="linkedin")  # the answer: 5 hours after the first
    touch(again, "2025-03-10 14:30")
    raise_hand(again, "2025-04-02 10:00", kind="asked_for_demo")  # a new wait, in April…
    touch(again, "2025-04-02 10:00", kind="meeting")  # …answered at the same moment

    report = selectors.speed_to_lead(salesperson, SPRING)

    march = month_of(report, date(2025, 3, 1), salesperson)
    assert (march.hand_raises, march.median_minutes, march.within_1_day) == (1, 300, 1)
    april = month_of(report, date(2025, 4, 1), salesperson)
    assert (april.hand_raises, april.median_minutes, april.within_5_minutes) == (1, 0, 1)
    assert report.total.hand_raises == 2


def test_speed_to_lead_a_wait_started_before_the_period_is_not_counted_in_it(salesperson):
    old = lead(salesperson, created="2024-12-01 09:00")
    raise_hand(old, "2024-12-20 09:00")
    raise_hand(old, "2025-01-05 09:00")  # still the December wait
    touch(old, "2025-01-06 09:00")
    late = lead(salesperson, created="2025-04-01 09:00")
    raise_hand(late, "2025-04-30 23:00")
    touch(late, "2025-05-01 08:00")  # answered after the period ends: still counted

    report = selectors.speed_to_lead(salesperson, SPRING)

    assert report.total.hand_raises == 1
    assert month_of(report, date(2025, 4, 1), salesperson).within_1_day == 1


def test_speed_to_lead_month_is_the_readers(salesperson):
    one = lead(salesperson, created="2025-03-01 09:00")
    raise_hand(one, "2025-04-01 00:30")  # London; still 31 March in UTC

    in_london = selectors.speed_to_lead(salesperson, SPRING)
    in_utc = selectors.speed_to_lead(
        salesperson, selectors.Period(date(2025, 1, 1), date(2025, 4, 30), ZoneInfo("UTC"))
    )

    assert month_of(in_london, date(2025, 4, 1), salesperson).waiting == 1
    assert month_of(in_utc, date(2025, 3, 1), salesperson).waiting == 1


def test_speed_to_lead_per_salesperson_for_a_manager_own_for_a_salesperson(
    manager, salesperson, other_salesperson
):
    answered_after(salesperson, 3)
    answered_after(other_salesperson, 90)
    answered_after(other_salesperson, 30)

    team = selectors.speed_to_lead(manager, SPRING)
    own = selectors.speed_to_lead(salesperson, SPRING, rep=other_salesperson)
    alex = selectors.speed_to_lead(manager, SPRING, rep=other_salesperson)

    sam, alex_name = str(salesperson), str(other_salesperson)
    assert {row.rep: row.median_minutes for row in team.reps} == {alex_name: 60, sam: 3}
    assert {row.rep for row in team.months} == {alex_name, sam}
    assert len(team.months) == 2 * 4
    assert (team.total.hand_raises, team.total.within_5_minutes) == (3, 1)
    assert [(row.rep, row.hand_raises) for row in own.reps] == [(sam, 1)]
    assert [(row.rep, row.hand_raises) for row in alex.reps] == [(alex_name, 2)]


@pytest.mark.parametrize("leads", [2, 40])
def test_speed_to_lead_takes_two_queries_whatever_the_hand_raises(
    manager, salesperson, other_salesperson, django_assert_num_queries, leads
):
    for number in range(leads):
        owner = (salesperson, other_salesperson)[number % 2]
        answered_after(owner, number, raised=f"2025-{number % 4 + 1:02d}-10 09:00")

    assert manager.is_manager  # read once per request, before the report
    with django_assert_num_queries(2):
        report = selectors.speed_to_lead(manager, SPRING)

    assert report.total.hand_raises == leads


def test_speed_to_lead_is_empty_for_a_new_salesperson(db):
    newcomer = UserFactory(username="newcomer")

    report = selectors.speed_to_lead(newcomer, SPRING)

    assert report.total.hand_raises == 0
    assert report.total.median_minutes is None
    assert [row.rep for row in report.reps] == [str(newcomer)]
