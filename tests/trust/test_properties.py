"""Property-based tests with a fixed budget (derandomize=True: the same examples on every run, so
a failure in CI is reproducible and never a flake): scoring, the cadence rules, and that an
import writes each row fully or not at all."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp.scoring import SIGNAL_POINTS, CriterionSpec, IcpSpec, LeadFacts, grade_for, score_lead
from imports import engine
from imports.parsing import read_file
from leads.cadence import CadenceState, add_business_days, due_follow_up
from leads.models import Company, Lead

FIXED = {"derandomize": True, "database": None, "deadline": None}
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

# --- scoring ---------------------------------------------------------------------------------

industries = st.sampled_from(["Retail", "Software", "Health", None])
countries = st.sampled_from(["GB", "FR", "US", None])
facts = st.builds(
    LeadFacts,
    industry=industries,
    country=countries,
    employee_count=st.one_of(st.none(), st.integers(0, 100_000)),
    is_referred=st.booleans(),
    signals=st.lists(
        st.tuples(
            st.sampled_from(sorted(SIGNAL_POINTS)),
            st.integers(0, 400 * 86_400_000_000).map(
                lambda microseconds: NOW - timedelta(microseconds=microseconds)
            ),
        ),
        max_size=6,
    ).map(tuple),
)
criteria = st.lists(
    st.one_of(
        st.builds(
            lambda value, weight, required: CriterionSpec(
                None, "industry", "equals", value, weight, required, f"industry {value}"
            ),
            st.sampled_from(["Retail", "Software"]),
            st.integers(1, 100),
            st.booleans(),
        ),
        st.builds(
            lambda value, weight, required: CriterionSpec(
                None, "country", "equals", value, weight, required, f"country {value}"
            ),
            st.sampled_from(["GB", "FR"]),
            st.integers(1, 100),
            st.booleans(),
        ),
    ),
    max_size=4,
)
icps = st.lists(criteria, max_size=3).map(
    lambda specs: [IcpSpec(index + 1, f"ICP {index}", tuple(c)) for index, c in enumerate(specs)]
)


@settings(max_examples=200, **FIXED)
@given(lead=facts, owner_icps=icps)
def test_a_score_is_bounded_graded_and_explained_by_its_own_numbers(lead, owner_icps):
    score = score_lead(lead, owner_icps, now=NOW)

    assert 0 <= score.fit <= 100
    assert 0 <= score.intent <= 100
    assert 0 <= score.total <= 100
    assert score.grade == grade_for(score.total)
    bonus = 10 if lead.is_referred else 0
    assert score.total == min(100, (2 * (6 * score.fit + 4 * score.intent) + 10) // 20 + bonus)
    why = score.explanation
    assert (why["fit"], why["intent"], why["total"], why["grade"]) == (
        score.fit,
        score.intent,
        score.total,
        score.grade,
    )
    assert why["icp_id"] == score.best_icp_id
    if not owner_icps:
        assert score.fit == 0
        assert score.best_icp_id is None


@settings(max_examples=200, **FIXED)
@given(lead=facts, owner_icps=icps, half_life_days=st.sampled_from([14, 30, 10.5]))
def test_the_explanation_text_the_bulk_rescore_stores_is_the_explanation(
    lead, owner_icps, half_life_days
):
    """The bulk rescore writes `explanation_json`, built from parts, not the dict itself."""
    score = score_lead(lead, owner_icps, now=NOW, half_life_days=half_life_days)

    assert json.loads(score.explanation_json) == score.explanation
    assert score.explanation_json == json.dumps(
        score.explanation, ensure_ascii=False, separators=(", ", ": ")
    )


@settings(max_examples=100, **FIXED)
@given(lead=facts, owner_icps=icps, days=st.integers(1, 200))
def test_intent_only_decays_as_time_passes(lead, owner_icps, days):
    now_score = score_lead(lead, owner_icps, now=NOW)
    later = score_lead(lead, owner_icps, now=NOW + timedelta(days=days))
    assert later.intent <= now_score.intent
    assert later.fit == now_score.fit


# --- cadence ---------------------------------------------------------------------------------

zones = st.sampled_from(["Europe/London", "America/Los_Angeles", "Asia/Tokyo", "UTC"]).map(ZoneInfo)
moments = st.integers(0, 3 * 365 * 24 * 60).map(
    lambda minutes: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
)
maybe_moment = st.one_of(st.none(), moments)
states = st.builds(
    CadenceState,
    stage=st.sampled_from(["new", "contacted", "engaged", "proposal", "won", "lost", "nurture"]),
    created_at=moments,
    stage_changed_at=moments,
    won_at=maybe_moment,
    last_contacted_at=maybe_moment,
    last_inbound_at=maybe_moment,
    unanswered_touches=st.integers(0, 6),
    first_unanswered_at=maybe_moment,
    referral_ask_done=st.booleans(),
    check_in_done=st.booleans(),
    re_engage_done=st.booleans(),
)


@settings(max_examples=300, **FIXED)
@given(state=states, zone=zones)
def test_a_follow_up_is_due_on_a_working_day_at_9_in_the_owners_zone(state, zone):
    due = due_follow_up(state, zone)

    if state.stage in ("new", "contacted", "engaged", "proposal"):
        assert due is not None  # an open lead always has a next step
    if due is None:
        return
    local = due.due_at.astimezone(zone)
    assert local.weekday() < 5
    assert (local.hour, local.minute) == (9, 0)
    latest_fact = max(
        filter(
            None,
            [
                state.created_at,
                state.stage_changed_at,
                state.won_at,
                state.last_contacted_at,
                state.last_inbound_at,
                state.first_unanswered_at,
            ],
        )
    )
    assert due.due_at <= latest_fact + timedelta(days=95)


@settings(max_examples=200, **FIXED)
@given(moment=moments, days=st.integers(1, 30), zone=zones)
def test_business_days_skip_weekends_and_always_move_forward(moment, days, zone):
    due = add_business_days(moment, days, zone)
    local_start = moment.astimezone(zone).date()
    local_due = due.astimezone(zone).date()
    assert local_due > local_start
    weekdays_between = sum(
        1
        for offset in range(1, (local_due - local_start).days + 1)
        if (local_start + timedelta(days=offset)).weekday() < 5
    )
    assert weekdays_between == days


# --- imports: each row fully or not at all ---------------------------------------------------

POISON = "Poison"
_SQLITE_TRIGGER = """
    CREATE TRIGGER poison_follow_up BEFORE INSERT ON leads_followup
    WHEN (SELECT last_name FROM leads_lead WHERE id = NEW.lead_id) = 'Poison'
    BEGIN SELECT RAISE(ABORT, 'poisoned row'); END
"""
_PG_TRIGGER = [
    """
    CREATE FUNCTION poison_follow_up() RETURNS trigger AS $$
    BEGIN
        IF (SELECT last_name FROM leads_lead WHERE id = NEW.lead_id) = 'Poison' THEN
            RAISE EXCEPTION 'poisoned row' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER poison_follow_up BEFORE INSERT ON leads_followup
    FOR EACH ROW EXECUTE FUNCTION poison_follow_up()
    """,
]


@pytest.fixture
def poisoned_follow_ups(db):
    """The database refuses the follow-up of a lead named "Poison": the row's lead, company,
    history and stage-change rows are already written when its last insert fails."""
    with connection.cursor() as cursor:
        for statement in _PG_TRIGGER if connection.vendor == "postgresql" else [_SQLITE_TRIGGER]:
            cursor.execute(statement)


rows = st.lists(
    st.tuples(
        st.text(alphabet="abcdefghij", min_size=1, max_size=6),  # first name
        st.booleans(),  # poisoned?
        st.sampled_from(["", "ok", "bad"]),  # email
        st.sampled_from(["", "Acme", "Globex"]),  # company
    ),
    min_size=1,
    max_size=14,
)


def _file(data_rows) -> tuple[bytes, set[int]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["First Name", "Last Name", "Email", "Company"])
    poisoned = set()
    for number, (first, poison, email, company) in enumerate(data_rows):
        if poison:
            poisoned.add(number + 2)  # the file's line: the header is line 1
        writer.writerow(
            [
                first,
                POISON if poison else "Smith",
                {"": "", "ok": f"{first}{number}@example.org", "bad": "not-an-email"}[email],
                f"Poison Co {number}" if poison else company,
            ]
        )
    return buffer.getvalue().encode(), poisoned


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], **FIXED)
@given(data_rows=rows)
def test_an_import_writes_each_row_fully_or_not_at_all(salesperson, poisoned_follow_ups, data_rows):
    data, poisoned = _file(data_rows)
    with transaction.atomic():
        parsed = read_file(data, max_bytes=1024 * 1024)
        result = engine.import_file(
            parsed, owner=salesperson, options=engine.ImportOptions(), batch_rows=4
        )

        leads = Lead.objects.filter(owner=salesperson)
        assert not leads.filter(last_name=POISON).exists()
        assert not Lead.history.filter(last_name=POISON).exists()
        assert not Company.objects.filter(name__startswith="Poison Co").exists()
        # Every lead that was written is whole: its stage history and its next follow-up.
        whole = leads.annotate(
            stage_rows=Count("stage_changes", distinct=True),
            pending=Count("follow_ups", filter=Q(follow_ups__done_at__isnull=True), distinct=True),
        )
        assert {(lead.stage_rows, lead.pending) for lead in whole} <= {(1, 1)}
        assert result.created == leads.count()
        assert poisoned <= {error["row"] for error in result.error_rows}
        transaction.set_rollback(True)
