from __future__ import annotations

import gc
import json
import threading
from contextlib import nullcontext
from datetime import timedelta
from decimal import Decimal

import factory
import pytest
import time_machine
import xxhash
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp import pg_fast, rescoring, tasks
from icp import services as icp_services
from icp.models import RescoreRequest
from icp.rescoring import (
    SWEEP_GRACE,
    lead_rescore,
    lead_rescore_key,
    leads_rescore,
    request_icp_rescore,
    request_rescore,
)
from icp.scoring import CriterionSpec, IcpSpec, LeadFacts, score_lead
from icp.tasks import rescore_lead, sweep_rescore_requests
from leads.models import ActivityKind, Lead, Seniority, Source
from leads.services import lead_update
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    CriterionFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
)
from tests.icp.conftest import NOW
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

SCORE_COLUMNS = (
    "fit_score",
    "intent_score",
    "total_score",
    "grade",
    "best_icp_id",
    "score_explanation",
)


def scores(lead_ids) -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in Lead.objects.filter(pk__in=lead_ids).values_list("id", *SCORE_COLUMNS)
    }


def saas_icp(owner, **kwargs):
    """Industry is SaaS (weight 30) and 50-500 staff (weight 10)."""
    icp = ICPFactory(owner=owner, name="SaaS scale-ups", **kwargs)
    CriterionFactory(icp=icp, field="industry", operator="equals", value="SaaS", weight=30)
    CriterionFactory(
        icp=icp, field="employee_count", operator="range", value={"min": 50, "max": 500}, weight=10
    )
    return icp


def saas_lead(owner, *, employees=120, **kwargs):
    company = CompanyFactory(owner=owner, industry="SaaS", employee_count=employees)
    return LeadFactory(owner=owner, company=company, **kwargs)


# --- facts and specs -------------------------------------------------------------------------


def test_facts_join_the_lead_and_its_company_and_blanks_become_unknown(salesperson):
    company = CompanyFactory(
        owner=salesperson,
        industry=" Retail ",
        employee_count=None,
        annual_revenue=Decimal("2500000"),
        country="",
        region="",
        city="Leeds",
        tags=["Stores", "b2c"],
    )
    lead = LeadFactory(
        owner=salesperson, company=company, title="", seniority="director", tags=["VIP ", "b2c"]
    )
    ActivityFactory(lead=lead, kind=ActivityKind.REPLIED, occurred_at=NOW - timedelta(days=2))
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_INFO, occurred_at=NOW)
    rows = Lead.objects.filter(pk=lead.pk).values(*rescoring.FACT_FIELDS)

    facts = rescoring.facts_for_leads(rows, rescoring.signals_by_lead([lead.pk], now=NOW))

    assert facts == {
        lead.pk: LeadFacts(
            industry="Retail",
            employee_count=None,
            annual_revenue=2_500_000,
            country=None,
            region=None,
            city="Leeds",
            title=None,
            seniority="director",
            tags=frozenset({"stores", "b2c", "vip"}),
            source="own_network",
            is_referred=False,
            signals=(
                ("replied", NOW - timedelta(days=2)),
                ("asked_for_info", NOW),
            ),
        )
    }


def test_the_owners_active_icps_load_in_two_queries(salesperson, django_assert_num_queries):
    first = saas_icp(salesperson)
    second = ICPFactory(owner=salesperson, name="Retail")
    CriterionFactory(icp=second, field="industry", operator="equals", value="Retail")
    ICPFactory(owner=salesperson, name="Parked", is_active=False)

    with django_assert_num_queries(2):
        specs = rescoring.icp_specs_for_owner(salesperson.id)

    assert [(spec.id, spec.name, len(spec.criteria)) for spec in specs] == [
        (first.id, "SaaS scale-ups", 2),
        (second.id, "Retail", 1),
    ]
    assert specs[0].criteria[1].label == "Employee count is between 50 and 500"


# --- one lead --------------------------------------------------------------------------------


def test_lead_rescore_stores_the_score_and_its_explanation(salesperson):
    icp = saas_icp(salesperson)
    lead = saas_lead(salesperson, employees=1000)
    ActivityFactory(
        lead=lead, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW - timedelta(days=14)
    )

    scored = lead_rescore(lead_id=lead.id, now=NOW)

    # fit 30 of 40 → 75; intent 40 / 2 = 20; total 45 + 8 = 53 → B
    assert (scored.fit_score, scored.intent_score, scored.total_score, scored.grade) == (
        75,
        20,
        53,
        "B",
    )
    assert scored.best_icp == icp
    assert scored.scored_at == NOW
    assert scored.score_explanation["icp"] == "SaaS scale-ups"
    assert scored.score_explanation["matched"] == ["Industry equals SaaS"]
    assert scored.score_explanation["unmatched"] == ["Employee count is between 50 and 500"]
    assert scored.score_explanation["signals"][0]["points"] == 20.0
    lead.refresh_from_db()
    assert (lead.total_score, lead.best_icp_id) == (53, icp.id)


def test_lead_rescore_returns_none_when_the_lead_is_gone(db):
    assert lead_rescore(lead_id=987654, now=NOW) is None


def test_only_recent_hand_raises_count_as_intent(salesperson):
    lead = saas_lead(salesperson)
    ActivityFactory(lead=lead, kind=ActivityKind.CALL, occurred_at=NOW)
    ActivityFactory(lead=lead, kind=ActivityKind.MEETING, occurred_at=NOW)
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW - timedelta(366))
    ActivityFactory(lead=lead, kind=ActivityKind.REPLIED, occurred_at=NOW - timedelta(hours=1))

    scored = lead_rescore(lead_id=lead.id, now=NOW)

    assert scored.intent_score == 20
    assert [s["kind"] for s in scored.score_explanation["signals"]] == ["replied"]


def test_only_the_owners_active_icps_score_the_lead(salesperson, other_salesperson):
    saas_icp(other_salesperson)
    saas_icp(salesperson, is_active=False)
    lead = saas_lead(salesperson)

    scored = lead_rescore(lead_id=lead.id, now=NOW)

    assert (scored.fit_score, scored.best_icp) == (0, None)
    assert "No active ICP" in scored.score_explanation["note"]


def test_lead_and_company_facts_feed_the_score(salesperson):
    icp = ICPFactory(owner=salesperson)
    CriterionFactory(icp=icp, field="tags", operator="contains", value="fintech", weight=10)
    CriterionFactory(icp=icp, field="region", operator="equals", value="munich", weight=10)
    CriterionFactory(icp=icp, field="annual_revenue", operator="range", value={"max": 10**6})
    company = CompanyFactory(owner=salesperson, tags=["FinTech "], city="Munich")
    referrer = ReferralSourceFactory(owner=salesperson)
    lead = LeadFactory(owner=salesperson, company=company, tags=["vip"], referred_by=referrer)

    scored = lead_rescore(lead_id=lead.id, now=NOW)

    # tags and city match, revenue unknown: 20 of 30 → 67; total 40 + referral bonus 10
    assert (scored.fit_score, scored.total_score) == (67, 50)
    assert scored.score_explanation["unknown"] == ["Annual revenue is at most 1,000,000"]
    assert scored.score_explanation["referral_bonus"] == 10


def test_a_demo_request_14_days_old_counts_half(salesperson):
    with time_machine.travel(NOW - timedelta(days=14), tick=False):
        lead = saas_lead(salesperson, source=Source.HAND_RAISER)
        ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_DEMO)
        assert lead_rescore(lead_id=lead.id).intent_score == 40

    with time_machine.travel(NOW, tick=False):
        scored = lead_rescore(lead_id=lead.id)

    assert scored.intent_score == 20
    assert scored.scored_at == NOW


# --- many leads ------------------------------------------------------------------------------


def test_leads_rescore_writes_only_the_scores_that_changed(salesperson):
    saas_icp(salesperson)
    fits = saas_lead(salesperson)
    half = saas_lead(salesperson, employees=5)
    no_company = LeadFactory(owner=salesperson, company=None)

    first = leads_rescore(now=NOW)
    again = leads_rescore(now=NOW + timedelta(hours=1))

    assert (first.scored, first.changed) == (3, 3)
    assert (again.scored, again.changed) == (3, 0)
    assert {lead.id: (lead.fit_score, lead.scored_at) for lead in Lead.objects.all()} == {
        fits.id: (100, NOW),
        half.id: (75, NOW),
        no_company.id: (0, NOW),
    }


def test_an_unchanged_nightly_run_sends_no_update(salesperson):
    # An unchanged explanation is recognised by its stored digest; a digest that did not
    # match would send every lead back in an UPDATE (that changed none).
    icp = saas_icp(salesperson)
    icp.name = "Café “scale-ups”\tEU"
    icp.save()
    lead = saas_lead(salesperson, source=Source.REFERRAL)
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW - timedelta(3))
    ActivityFactory(lead=lead, kind=ActivityKind.REPLIED, occurred_at=NOW - timedelta(days=9))
    LeadFactory(owner=salesperson, company=None)
    assert leads_rescore(now=NOW).changed == 2

    sql = statements(lambda: leads_rescore(now=NOW))

    assert not [statement for statement in sql if statement.lstrip().startswith("UPDATE")]
    lead.refresh_from_db()
    assert lead.score_explanation["icp"] == "Café “scale-ups”\tEU"
    assert [signal["points"] for signal in lead.score_explanation["signals"]] == [34.5, 12.8]


@pytest.mark.parametrize("half_life_days", [14, 10.5])
def test_the_explanation_text_is_json_dumps_of_the_explanation(half_life_days):
    # The digest the bulk run stores and compares is of this text, and it is the value sent.
    criteria = (
        CriterionSpec(1, "industry", "equals", "Café", 30, False, "Industry equals “Café”"),
        CriterionSpec(2, "employee_count", "range", {"min": 50}, 10, True, "50+ staff\t✓"),
    )
    icps = [IcpSpec(7, 'Zürich "B2B"', criteria), IcpSpec(8, "Empty", ())]
    signals = (("asked_for_demo", NOW - timedelta(days=3)), ("replied", NOW - timedelta(9)))
    cases = [
        (LeadFacts(industry="café", employee_count=80, signals=signals, is_referred=True), icps),
        (LeadFacts(industry="Retail"), icps),  # knocked out, an unknown
        (LeadFacts(), [icps[1]]),  # an ICP without criteria: a note
        (LeadFacts(), []),  # no ICP at all
    ]
    for facts, owner_icps in cases:
        score = score_lead(facts, owner_icps, now=NOW, half_life_days=half_life_days)
        # twice: the second time from the parts remembered for that fit
        for _ in range(2):
            assert score.explanation_json == json.dumps(
                score.explanation, ensure_ascii=False, separators=(", ", ": ")
            )
            score = score_lead(facts, owner_icps, now=NOW, half_life_days=half_life_days)


def stored_explanation_text(lead_id) -> str:
    """The explanation as the database gives its text back (jsonb's key order on PostgreSQL)."""
    column = "score_explanation::text" if connection.vendor == "postgresql" else "score_explanation"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM leads_lead WHERE id = %s", [lead_id])  # noqa: S608
        return cursor.fetchone()[0]


def score_as_the_rescoring_computes_it(lead_id, *, now):
    row = Lead.objects.filter(pk=lead_id).values(*rescoring.FACT_FIELDS).get()
    facts = rescoring.lead_facts(row, rescoring.signals_by_lead([lead_id], now=now)[lead_id])
    icps = rescoring.icp_specs_for_owner(row["owner_id"])
    return score_lead(facts, icps, now=now, half_life_days=rescoring.HALF_LIFE_DAYS)


def test_the_stored_digest_is_of_the_explanation_written(salesperson):
    saas_icp(salesperson)
    lead = saas_lead(salesperson)
    ActivityFactory(lead=lead, kind=ActivityKind.REPLIED, occurred_at=NOW - timedelta(days=2))

    leads_rescore(now=NOW)

    lead.refresh_from_db()
    text = score_as_the_rescoring_computes_it(lead.id, now=NOW).explanation_json
    assert json.loads(text) == lead.score_explanation
    assert lead.score_digest == xxhash.xxh3_128_hexdigest(text.encode())
    single = lead_rescore(lead_id=lead.id, now=NOW)
    assert (single.score_digest, single.score_explanation) == (
        lead.score_digest,
        lead.score_explanation,
    )


def test_a_changed_explanation_is_rewritten_though_the_scores_are_the_same(salesperson):
    icp = saas_icp(salesperson)
    lead = saas_lead(salesperson)
    leads_rescore(now=NOW)
    before = Lead.objects.get(pk=lead.id)
    icp.name = "SaaS, renamed"
    icp.save()

    summary = leads_rescore(now=NOW + timedelta(hours=1))

    after = Lead.objects.get(pk=lead.id)
    assert summary.changed == 1
    assert (after.fit_score, after.total_score) == (before.fit_score, before.total_score)
    assert after.score_explanation["icp"] == "SaaS, renamed"
    assert after.score_digest != before.score_digest
    assert after.scored_at == NOW + timedelta(hours=1)


def test_the_digest_does_not_depend_on_the_key_order_of_the_stored_json(salesperson):
    saas_icp(salesperson)
    lead = saas_lead(salesperson)
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW - timedelta(1))
    leads_rescore(now=NOW)
    stored = Lead.objects.get(pk=lead.id)
    # Stored with its keys in another order, at every level (SQLite keeps the text as given;
    # jsonb keeps its own order, shorter keys first, whatever it is given).
    shuffled = dict(reversed(stored.score_explanation.items()))
    shuffled["signals"] = [dict(reversed(s.items())) for s in shuffled["signals"]]
    Lead.objects.filter(pk=lead.id).update(score_explanation=shuffled)
    written = score_as_the_rescoring_computes_it(lead.id, now=NOW).explanation_json
    assert json.loads(stored_explanation_text(lead.id)) == json.loads(written)
    assert stored_explanation_text(lead.id).replace(" ", "") != written.replace(" ", "")

    sql = statements(lambda: leads_rescore(now=NOW))

    assert not [statement for statement in sql if statement.lstrip().startswith("UPDATE")]
    assert Lead.objects.get(pk=lead.id).score_digest == stored.score_digest


def test_a_lead_without_a_digest_is_rewritten_once(salesperson):
    # As every scored lead is after the migration that added the column.
    saas_icp(salesperson)
    leads = [saas_lead(salesperson) for _ in range(3)]
    leads_rescore(now=NOW)
    digest = Lead.objects.get(pk=leads[0].id).score_digest
    Lead.objects.filter(pk__in=[leads[0].id, leads[1].id]).update(score_digest="")

    first = leads_rescore(now=NOW + timedelta(hours=1))
    again = leads_rescore(now=NOW + timedelta(hours=2))

    assert (first.changed, again.changed) == (2, 0)
    assert {lead.score_digest for lead in Lead.objects.all()} == {digest}


@pytest.mark.parametrize("road", ["fast", "portable"])
def test_the_fast_and_the_portable_road_store_the_same_scores(salesperson, road):
    # pg_fast's accelerators (PostgreSQL) against the plain Django calls they stand in for.
    # A read `scored_at` that the UPDATE did not find equal would make every lead a conflict,
    # scored again under a row lock (FOR NO KEY UPDATE): the statements would show it.
    if road == "fast" and connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): SQLite has the portable road")
    saas_icp(salesperson)
    leads = [saas_lead(salesperson, employees=n, tags=["hot"]) for n in (10, 60, 600)]
    ActivityFactory(lead=leads[1], kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW)
    first_run = NOW + timedelta(microseconds=654321)
    expected = [
        score_as_the_rescoring_computes_it(lead.id, now=NOW + timedelta(days=28)) for lead in leads
    ]

    with pg_fast.portable() if road == "portable" else nullcontext():
        first = leads_rescore(now=first_run, batch_size=2)
        sql = statements(lambda: leads_rescore(now=NOW + timedelta(days=28), batch_size=2))

    assert (first.scored, first.changed) == (3, 3)
    assert [s for s in sql if s.lstrip().startswith("UPDATE")]
    assert not [s for s in sql if "FOR NO KEY UPDATE" in s]
    stored = Lead.objects.filter(pk__in=[lead.id for lead in leads]).order_by("pk")
    assert [(lead.total_score, lead.score_digest) for lead in stored] == [
        (score.total, rescoring.explanation_digest(score)) for score in expected
    ]
    assert {lead.scored_at for lead in stored} == {first_run, NOW + timedelta(days=28)}


def test_a_bulk_run_scores_with_the_cyclic_gc_paused(salesperson, monkeypatch):
    saas_icp(salesperson)
    saas_lead(salesperson)
    collector_on = []
    score = rescoring.score_lead

    def recording_score(*args, **kwargs):
        collector_on.append(gc.isenabled())
        return score(*args, **kwargs)

    monkeypatch.setattr(rescoring, "score_lead", recording_score)

    leads_rescore(now=NOW)

    assert collector_on == [False]
    assert gc.isenabled()


def test_nightly_rescoring_lets_intent_decay(salesperson):
    lead = saas_lead(salesperson)
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_INFO, occurred_at=NOW)
    leads_rescore(now=NOW)

    summary = leads_rescore(now=NOW + timedelta(days=28))

    lead.refresh_from_db()
    assert summary.changed == 1
    assert (lead.intent_score, lead.total_score, lead.scored_at) == (8, 3, NOW + timedelta(28))


def test_leads_rescore_narrows_to_an_owner_an_icp_or_some_leads(salesperson, other_salesperson):
    icp = saas_icp(salesperson)
    mine = [saas_lead(salesperson) for _ in range(3)]
    theirs = saas_lead(other_salesperson)

    assert leads_rescore(lead_ids=[mine[0].id], now=NOW).scored == 1
    assert leads_rescore(owner_id=other_salesperson.id, now=NOW).scored == 1
    assert leads_rescore(icp_id=icp.id, now=NOW).scored == 3
    assert leads_rescore(icp_id=icp.id, owner_id=other_salesperson.id, now=NOW).scored == 0
    assert leads_rescore(icp_id=987654, now=NOW).scored == 0
    assert Lead.objects.get(pk=theirs.id).fit_score == 0
    assert {lead.fit_score for lead in Lead.objects.filter(owner=salesperson)} == {100}


def test_leads_rescore_walks_all_batches(salesperson):
    saas_icp(salesperson)
    leads = [saas_lead(salesperson, employees=n) for n in (10, 60, 600, 100, 200)]

    summary = leads_rescore(now=NOW, batch_size=2)

    assert (summary.scored, summary.changed) == (5, 5)
    assert [Lead.objects.get(pk=lead.id).fit_score for lead in leads] == [75, 100, 75, 100, 100]


@pytest.mark.django_db(transaction=True)
def test_bulk_rescoring_commits_batch_by_batch_outside_a_transaction(salesperson):
    # The nightly task runs in autocommit mode: each batch's UPDATE is its own transaction
    # (with an asynchronous commit, on the writer threads' connections, on PostgreSQL). Their
    # statements reach the caller's execute wrappers, so `make bench` counts them.
    saas_icp(salesperson)
    leads = [saas_lead(salesperson, employees=n) for n in (10, 60, 600)]
    sql = []

    def record(execute, statement, params, many, context):
        sql.append(statement)
        return execute(statement, params, many, context)

    with connection.execute_wrapper(record):
        summary = leads_rescore(now=NOW, batch_size=2, background_writer=True)

    assert (summary.scored, summary.changed) == (3, 3)
    assert [Lead.objects.get(pk=lead.id).fit_score for lead in leads] == [75, 100, 75]
    assert len([s for s in sql if s.lstrip().startswith("UPDATE")]) == 2
    async_commits = [s for s in sql if "synchronous_commit" in s]
    assert len(async_commits) == (2 if connection.vendor == "postgresql" else 0)


def update_threads(run) -> list[str]:
    """The names of the threads that sent the run's UPDATEs (execute wrappers reach the
    writer threads' connections too)."""
    names = []

    def record(execute, statement, params, many, context):
        if statement.lstrip().startswith("UPDATE"):
            names.append(threading.current_thread().name)
        return execute(statement, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return names


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("background_writer", [False, True])
def test_writer_threads_are_the_callers_choice_not_a_guess(salesperson, background_writer):
    # In autocommit mode too, the writes stay on the run's connection unless asked for.
    saas_icp(salesperson)
    for employees in (10, 60, 600):
        saas_lead(salesperson, employees=employees)
    threads = threading.active_count()

    names = update_threads(
        lambda: leads_rescore(now=NOW, batch_size=2, background_writer=background_writer)
    )

    in_background = background_writer and connection.vendor == "postgresql"
    assert len(names) == 2
    assert all(name.startswith("rescore-writer-") == in_background for name in names), names
    assert threading.active_count() == threads
    assert Lead.objects.filter(scored_at=NOW).count() == 3


def test_the_default_writer_writes_in_the_callers_transaction(salesperson):
    saas_icp(salesperson)
    lead = saas_lead(salesperson)

    with transaction.atomic():
        names = update_threads(lambda: leads_rescore(now=NOW))
        assert Lead.objects.get(pk=lead.id).fit_score == 100
        transaction.set_rollback(True)

    assert names == [threading.current_thread().name]
    assert Lead.objects.get(pk=lead.id).scored_at is None


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_fails_the_run_and_leaves_no_writer_behind(salesperson, monkeypatch):
    saas_icp(salesperson)
    for employees in (10, 60, 600):
        saas_lead(salesperson, employees=employees)

    def disk_full(changes, *, now):
        raise OperationalError("could not extend file")

    monkeypatch.setattr(rescoring, "_write_changed_scores", disk_full)
    threads = threading.active_count()

    with pytest.raises(OperationalError, match="could not extend file"):
        leads_rescore(now=NOW, batch_size=2, background_writer=True)

    assert threading.active_count() == threads
    assert not Lead.objects.filter(scored_at__isnull=False).exists()


def _concurrent_rescore_after_the_first_read(monkeypatch, lead, *, edit):
    """Between the bulk run's read of `lead` and its write: edit the lead's facts and store a
    score for it, as a web request and the single-lead task would (each committed at once
    when the test runs outside a transaction)."""
    changed_scores = rescoring._changed_scores
    done = []

    def read_then_concurrent_rescore(rows, *args, **kwargs):
        changes = changed_scores(rows, *args, **kwargs)
        if not done and any(row["id"] == lead.id for row in rows):
            done.append(True)
            edit()
            lead_rescore(lead_id=lead.id, now=NOW - timedelta(days=7))
        return changes

    monkeypatch.setattr(rescoring, "_changed_scores", read_then_concurrent_rescore)
    return done


@pytest.mark.parametrize(
    "transactional",
    [pytest.param(False, id="in-a-transaction"), pytest.param(True, id="background-writers")],
)
def test_a_score_stored_after_the_bulk_read_is_not_overwritten_with_stale_facts(
    request, transactional, salesperson, monkeypatch
):
    if transactional:
        request.getfixturevalue("transactional_db")
    saas_icp(salesperson)
    leads = [saas_lead(salesperson, employees=n) for n in (10, 60, 600, 100)]
    lead = leads[1]
    ActivityFactory(lead=lead, kind=ActivityKind.ASKED_FOR_DEMO, occurred_at=NOW - timedelta(8))

    def edit():
        type(lead.company).objects.filter(pk=lead.company_id).update(industry="Retail")

    done = _concurrent_rescore_after_the_first_read(monkeypatch, lead, edit=edit)
    summary = leads_rescore(now=NOW, batch_size=2, background_writer=transactional)

    assert done
    # Not the score from the facts read before the edit (fit 100), nor the one the concurrent
    # rescore stored a week earlier: the lead is scored again, from the edited facts, at NOW.
    expected = lead_rescore_without_writing(lead.id)
    assert scores([lead.id])[lead.id] == expected
    assert Lead.objects.get(pk=lead.id).scored_at == NOW
    assert (expected[0], summary.scored, summary.changed) == (25, 4, 4)
    assert [Lead.objects.get(pk=other.id).fit_score for other in leads] == [75, 25, 75, 100]


def lead_rescore_without_writing(lead_id) -> tuple:
    with transaction.atomic():
        lead_rescore(lead_id=lead_id, now=NOW)
        stored = scores([lead_id])[lead_id]
        transaction.set_rollback(True)
    return stored


def statements(run) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    # Savepoints come from running inside the test's transaction, not from the rescoring.
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_bulk_rescoring_costs_the_same_statements_for_30_and_300_leads(
    salesperson, other_salesperson
):
    for owner, count in ((salesperson, 30), (other_salesperson, 300)):
        saas_icp(owner)
        company = CompanyFactory(owner=owner, industry="SaaS")
        leads = LeadFactory.create_batch(count, owner=owner, company=company)
        ActivityFactory.create_batch(
            count, lead=factory.Iterator(leads), kind=ActivityKind.REPLIED, occurred_at=NOW
        )

    small = statements(lambda: leads_rescore(owner_id=salesperson.id, now=NOW, batch_size=1000))
    large = statements(
        lambda: leads_rescore(owner_id=other_salesperson.id, now=NOW, batch_size=1000)
    )

    # ICPs, criteria, then per batch: leads, signals, one UPDATE
    assert len(small) == len(large) == 5
    assert large[-1].split()[:2] == ["UPDATE", "leads_lead"]
    assert Lead.objects.filter(intent_score=20, fit_score=100).count() == 330


def test_bulk_rescoring_statements_grow_with_batches_not_leads(salesperson):
    saas_icp(salesperson)
    company = CompanyFactory(owner=salesperson, industry="SaaS")
    LeadFactory.create_batch(30, owner=salesperson, company=company)

    sql = statements(lambda: leads_rescore(now=NOW, batch_size=10))

    # 2 for the ICPs, 3 full batches of 3, and the empty read that ends the walk
    assert len(sql) == 2 + 3 * 3 + 1


# --- the bulk and single-lead paths agree ---------------------------------------------------

CRITERION_TEMPLATES = [
    ("industry", "equals", "SaaS"),
    ("industry", "one_of", ["Retail", "saas"]),
    ("industry", "contains", "ail"),
    ("country", "one_of", ["GB", "ie"]),
    ("region", "equals", "London"),
    ("region", "contains", "mun"),
    ("title", "contains", "head"),
    ("seniority", "one_of", ["vp", "C-level"]),
    ("tags", "contains", "b2b"),
    ("tags", "one_of", ["hiring", "saas"]),
    ("source", "equals", "referral"),
    ("employee_count", "range", {"min": 50, "max": 500}),
    ("employee_count", "equals", 120),
    ("annual_revenue", "range", {"min": 1_000_000}),
]
criteria = st.lists(
    st.tuples(st.sampled_from(CRITERION_TEMPLATES), st.integers(1, 50), st.booleans()),
    min_size=1,
    max_size=4,
)
companies = st.none() | st.fixed_dictionaries(
    {
        "industry": st.sampled_from(["SaaS", " saas", "Retail", ""]),
        "employee_count": st.none() | st.sampled_from([0, 49, 50, 120, 500, 501]),
        "annual_revenue": st.none() | st.integers(0, 5_000_000),
        "country": st.sampled_from(["GB", "DE", ""]),
        "region": st.sampled_from(["London", "Bavaria", ""]),
        "city": st.sampled_from(["Munich", "London", ""]),
        "tags": st.lists(st.sampled_from(["B2B", "saas", "hiring"]), max_size=2),
    }
)
leads = st.fixed_dictionaries(
    {
        "company": companies,
        "title": st.sampled_from(["Head of Sales", "CTO", ""]),
        "seniority": st.sampled_from([*Seniority.values, ""]),
        "source": st.sampled_from(Source.values),
        "referred": st.booleans(),
        "tags": st.lists(st.sampled_from(["b2b", "Partner"]), max_size=2),
        # minutes before NOW; negative is in the future, beyond 525,600 is over a year ago
        "activities": st.lists(
            st.tuples(st.sampled_from(ActivityKind.values), st.integers(-5000, 530_000)),
            max_size=4,
        ),
    }
)
# Mostly active, and several of them, so that picking the best ICP is exercised.
icps = st.lists(st.tuples(st.sampled_from([True, True, False]), criteria), min_size=1, max_size=3)


def build_lead(owner, spec) -> Lead:
    company = CompanyFactory(owner=owner, **spec["company"]) if spec["company"] else None
    lead = LeadFactory(
        owner=owner,
        company=company,
        title=spec["title"],
        seniority=spec["seniority"],
        source=spec["source"],
        tags=spec["tags"],
        referred_by=ReferralSourceFactory(owner=owner) if spec["referred"] else None,
    )
    for kind, minutes in spec["activities"]:
        ActivityFactory(lead=lead, kind=kind, occurred_at=NOW - timedelta(minutes=minutes))
    return lead


def build_icps(owner, icp_specs) -> None:
    for is_active, criterion_specs in icp_specs:
        icp = ICPFactory(owner=owner, is_active=is_active)
        for (field, operator, value), weight, required in criterion_specs:
            CriterionFactory(
                icp=icp,
                field=field,
                operator=operator,
                value=value,
                weight=weight,
                required=required,
            )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(icp_specs=icps, lead_specs=st.lists(leads, min_size=1, max_size=4))
def test_bulk_and_single_lead_rescoring_store_identical_scores(salesperson, icp_specs, lead_specs):
    # Each example rolls back what it built, so the salesperson starts every example bare.
    with transaction.atomic():
        owner = salesperson
        build_icps(owner, icp_specs)
        lead_ids = [build_lead(owner, spec).id for spec in lead_specs]

        for lead_id in lead_ids:
            lead_rescore(lead_id=lead_id, now=NOW)
        one_by_one = scores(lead_ids)
        Lead.objects.filter(pk__in=lead_ids).update(
            fit_score=0,
            intent_score=0,
            total_score=0,
            grade="D",
            best_icp=None,
            score_explanation={},
            # The digest says what the stored explanation is: cleared with it, as a first
            # scoring finds it.
            score_digest="",
            scored_at=None,
        )
        summary = leads_rescore(lead_ids=lead_ids, now=NOW, batch_size=3)
        in_bulk = scores(lead_ids)
        transaction.set_rollback(True)

    assert summary.scored == len(lead_ids)
    assert all(explanation["total"] == total for _, _, total, _, _, explanation in in_bulk.values())
    assert in_bulk == one_by_one


# --- rescoring on request --------------------------------------------------------------------


def test_a_burst_of_edits_enqueues_one_rescore(
    salesperson, monkeypatch, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=salesperson)
    sent = []
    monkeypatch.setattr(
        rescore_lead, "apply_async", lambda *args, **kwargs: sent.append((args, kwargs))
    )
    cache.delete(lead_rescore_key(lead.id))

    for _ in range(5):  # five edits, each in its own transaction
        with django_capture_on_commit_callbacks(execute=True):
            request_rescore(lead.id)

    assert sent == [(((lead.id,),), {"countdown": 2})]


def test_an_edit_during_scoring_enqueues_again(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=salesperson)
    cache.delete(lead_rescore_key(lead.id))
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(lead.id)

    rescore_lead(lead.id)  # the task frees the key before it scores
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(lead.id)

    assert enqueued == [("icp.tasks.rescore_lead", (lead.id,), {"countdown": 2})] * 2


def test_nothing_is_enqueued_before_commit_or_after_a_rollback(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=salesperson)
    cache.delete(lead_rescore_key(lead.id))

    with django_capture_on_commit_callbacks() as callbacks:
        request_rescore(lead.id)
    assert (len(callbacks), enqueued) == (1, [])

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        request_rescore(lead.id)
        transaction.set_rollback(True)
    assert enqueued == []


def test_icp_rescore_requests_are_coalesced_too(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    icp = ICPFactory(owner=salesperson)
    cache.delete(rescoring.icp_rescore_key(icp.id))

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            request_icp_rescore(icp.id)

    assert enqueued == [("icp.tasks.rescore_icp_leads", (icp.id,), {"countdown": 2})]


def test_a_broker_outage_does_not_fail_the_edit_and_the_next_edit_retries(
    salesperson, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    lead = LeadFactory(owner=salesperson)
    cache.delete(lead_rescore_key(lead.id))

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(rescore_lead, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        request_rescore(lead.id)

    assert "broker unreachable" in caplog.text
    assert cache.get(lead_rescore_key(lead.id)) is None


@pytest.mark.django_db
def test_deferred_rescores_enqueue_one_owner_run_instead_of_one_per_lead(
    salesperson, monkeypatch, django_capture_on_commit_callbacks
):
    from icp import rescoring, tasks

    sent = []
    for name in ("rescore_lead", "rescore_owner_leads"):
        monkeypatch.setattr(
            getattr(tasks, name), "apply_async", lambda *a, n=name, **k: sent.append(n)
        )

    with (
        django_capture_on_commit_callbacks(execute=True),
        rescoring.deferred_rescores(owner_id=salesperson.pk),
    ):
        for lead in LeadFactory.create_batch(5, owner=salesperson):
            rescoring.request_rescore(lead.pk)

    assert sent == ["rescore_owner_leads"]


# --- rescore requests recorded in the database (issue 14, item 10) ---------------------------


def buyer_icp(owner):
    """Industry Retail and a buyer's title, 10 each: a Retail clerk fits 50, a buyer 100."""
    icp = ICPFactory(owner=owner, name="Retail buyers")
    CriterionFactory(icp=icp, field="industry", operator="equals", value="Retail", weight=10)
    CriterionFactory(icp=icp, field="title", operator="contains", value="Buyer", weight=10)
    return icp


def retail_clerk(owner):
    company = CompanyFactory(owner=owner, industry="Retail")
    lead = LeadFactory(owner=owner, company=company, title="Clerk")
    lead_rescore(lead_id=lead.pk)
    return lead


def requests_waiting() -> list[tuple[str, int]]:
    return list(
        RescoreRequest.objects.order_by("kind", "target_id").values_list("kind", "target_id")
    )


@pytest.mark.worker
def test_an_edit_saved_while_the_broker_is_down_is_rescored_once_it_is_back(
    request, transactional_db, salesperson, broker_unreachable, caplog
):
    buyer_icp(salesperson)
    lead = retail_clerk(salesperson)
    assert Lead.objects.get(pk=lead.pk).fit_score == 50

    with broker_unreachable():
        # The salesperson's edit, through the service the lead page calls.
        lead_update(lead=lead, user=salesperson, title="Head Buyer")

    # Saved, and the rescore it needs is recorded, though the broker never got the task.
    assert Lead.objects.get(pk=lead.pk).title == "Head Buyer"
    assert "Connection refused" in caplog.text
    assert requests_waiting() == [("lead", lead.pk)]
    assert Lead.objects.get(pk=lead.pk).fit_score == 50  # stale: nothing rescored it

    # The broker is back and a worker runs; beat's next sweep finds the request waiting for
    # longer than the grace period (as if those minutes had passed) and sends it.
    request.getfixturevalue("celery_worker")
    RescoreRequest.objects.update(requested_at=timezone.now() - SWEEP_GRACE)
    sweep_rescore_requests.delay()

    assert wait_for(lambda: Lead.objects.get(pk=lead.pk).fit_score == 100)
    assert wait_for(lambda: requests_waiting() == [])
    assert Lead.objects.get(pk=lead.pk).score_explanation["icp"] == "Retail buyers"


def test_an_edit_records_its_rescore_in_its_transaction_and_a_rollback_leaves_none(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    lead = LeadFactory(owner=salesperson)
    RescoreRequest.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lead_update(lead=lead, user=salesperson, title="Head Buyer")
        transaction.set_rollback(True)
    assert (requests_waiting(), enqueued) == ([], [])

    with django_capture_on_commit_callbacks(execute=True):
        lead_update(lead=lead, user=salesperson, title="Head Buyer")
    assert requests_waiting() == [("lead", lead.pk)]
    assert enqueued == [("icp.tasks.rescore_lead", (lead.pk,), {"countdown": 2})]


def test_a_burst_of_requests_is_one_row_that_keeps_the_first_time(salesperson, enqueued):
    lead = LeadFactory(owner=salesperson)
    icp = ICPFactory(owner=salesperson)
    RescoreRequest.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        request_rescore(lead.pk)
        request_icp_rescore(icp.pk)
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        request_rescore(lead.pk)
        request_icp_rescore(icp.pk)
        rescoring.request_owner_rescore(salesperson.pk)

    assert list(
        RescoreRequest.objects.order_by("kind").values_list("kind", "target_id", "requested_at")
    ) == [
        ("icp", icp.pk, NOW),
        ("lead", lead.pk, NOW),
        ("owner", salesperson.pk, NOW + timedelta(seconds=30)),
    ]


def test_an_edit_during_a_run_leaves_a_request_for_the_next_run(
    salesperson, monkeypatch, enqueued, django_capture_on_commit_callbacks
):
    buyer_icp(salesperson)
    lead = retail_clerk(salesperson)
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(lead=lead, user=salesperson, title="Buyer")
    assert requests_waiting() == [("lead", lead.pk)]
    score_now = tasks.lead_rescore

    def edited_while_scoring(*, lead_id):
        # The run has taken its request; the salesperson saves another edit meanwhile.
        assert requests_waiting() == []
        with django_capture_on_commit_callbacks(execute=True):
            lead_update(lead=Lead.objects.get(pk=lead_id), user=salesperson, title="Clerk")
        return score_now(lead_id=lead_id)

    monkeypatch.setattr(tasks, "lead_rescore", edited_while_scoring)
    tasks.rescore_lead(lead.pk)

    assert requests_waiting() == [("lead", lead.pk)]  # the edit's own request, for a new run
    assert [name for name, *_ in enqueued] == ["icp.tasks.rescore_lead"] * 2


def test_a_bulk_run_takes_its_request_and_an_edit_during_it_leaves_one(
    salesperson, monkeypatch, enqueued, django_capture_on_commit_callbacks
):
    icp = buyer_icp(salesperson)
    with django_capture_on_commit_callbacks(execute=True):
        request_icp_rescore(icp.pk)
    score_now = tasks.leads_rescore

    def edited_while_scoring(**scope):
        with django_capture_on_commit_callbacks(execute=True):
            request_icp_rescore(icp.pk)  # a criterion saved while the run scores
        return score_now(**scope)

    monkeypatch.setattr(tasks, "leads_rescore", edited_while_scoring)
    tasks.rescore_icp_leads(icp.pk)

    assert requests_waiting() == [("icp", icp.pk)]


def test_a_run_that_starts_while_an_edit_is_committing_waits_for_it_and_scores_it(
    transactional_db, salesperson, enqueued
):
    """The edit's request holds its row's lock until the edit commits, so a run that starts
    meanwhile cannot take the request and then read the facts from before the edit."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL only (CI runs it on PostgreSQL): SQLite has one writer at a time, so no "
            "run starts while an edit is open"
        )
    icp = buyer_icp(salesperson)
    lead = retail_clerk(salesperson)  # fit 50: Retail, but not a buyer
    title = icp.criteria.get(field="title")
    # An earlier edit's request is waiting, so the next one finds the row there.
    RescoreRequest.objects.create(kind="icp", target_id=icp.pk, requested_at=timezone.now())
    saved, commit = threading.Event(), threading.Event()

    def save_criterion() -> None:
        try:
            with transaction.atomic():
                icp_services.criterion_update(criterion=title, value="Clerk")
                saved.set()
                commit.wait(10)
        finally:
            connection.close()

    def run() -> None:
        try:
            tasks.rescore_icp_leads(icp.pk)
        finally:
            connection.close()

    editor = threading.Thread(target=save_criterion)
    editor.start()
    assert saved.wait(10)
    runner = threading.Thread(target=run)
    runner.start()
    runner.join(1.5)
    assert runner.is_alive()  # waiting at the request's row for the edit to commit
    commit.set()
    editor.join(10)
    runner.join(30)

    assert Lead.objects.get(pk=lead.pk).fit_score == 100  # scored with the saved criterion
    assert requests_waiting() == []


def test_the_sweep_sends_only_what_waited_past_the_grace_oldest_first_and_bounded(
    salesperson, enqueued
):
    leads = LeadFactory.create_batch(4, owner=salesperson)
    RescoreRequest.objects.all().delete()
    for minutes, lead in zip((10, 5, 3, 1), leads, strict=True):
        RescoreRequest.objects.create(
            kind="lead", target_id=lead.pk, requested_at=NOW - timedelta(minutes=minutes)
        )

    with CaptureQueriesContext(connection) as queries:
        sent = rescoring.rescore_requests_sweep(now=NOW, limit=2)

    assert sent == 2
    assert [args for _, args, _ in enqueued] == [(leads[0].pk,), (leads[1].pk,)]
    assert len(queries) == 2  # the waiting requests, and moving on the time of those sent
    # Sent again only after another grace period, should this message be lost as well.
    assert RescoreRequest.objects.get(target_id=leads[0].pk).requested_at == NOW
    assert rescoring.rescore_requests_sweep(now=NOW + timedelta(seconds=59)) == 1  # leads[2]
    assert enqueued[-1][1] == (leads[2].pk,)

    # Another grace period later (the coalescing keys long expired), the messages are lost:
    # the sweep sends those sent at NOW again, and the one that was never sent.
    cache.delete_many([lead_rescore_key(lead.pk) for lead in leads])
    assert rescoring.rescore_requests_sweep(now=NOW + SWEEP_GRACE) == 3
    assert sorted(args for _, args, _ in enqueued[-3:]) == sorted(
        [(leads[0].pk,), (leads[1].pk,), (leads[3].pk,)]
    )


def test_the_sweep_costs_one_query_when_nothing_waits(db, django_assert_num_queries, enqueued):
    RescoreRequest.objects.all().delete()
    with django_assert_num_queries(1):
        assert rescoring.rescore_requests_sweep(now=NOW) == 0
    assert enqueued == []


def test_the_sweep_leaves_a_request_whose_run_is_queued_and_stops_when_the_broker_is_down(
    salesperson, enqueued, broker_unreachable, monkeypatch
):
    queued, waiting = LeadFactory.create_batch(2, owner=salesperson)
    RescoreRequest.objects.all().delete()
    for lead in (queued, waiting):
        RescoreRequest.objects.create(
            kind="lead", target_id=lead.pk, requested_at=NOW - timedelta(minutes=5)
        )
    cache.add(lead_rescore_key(queued.pk), 1)  # its task is on the broker and not started

    monkeypatch.undo()  # the real apply_async, to an unreachable broker
    with broker_unreachable():
        assert rescoring.rescore_requests_sweep(now=NOW) == 0

    # Neither is marked sent; the next sweep tries again.
    assert set(RescoreRequest.objects.values_list("requested_at", flat=True)) == {
        NOW - timedelta(minutes=5)
    }
    assert cache.get(lead_rescore_key(waiting.pk)) is None


def test_an_import_records_one_owner_request_not_one_per_lead(
    salesperson, enqueued, django_capture_on_commit_callbacks
):
    RescoreRequest.objects.all().delete()
    with (
        django_capture_on_commit_callbacks(execute=True),
        rescoring.deferred_rescores(owner_id=salesperson.pk),
    ):
        for lead in LeadFactory.create_batch(5, owner=salesperson):
            request_rescore(lead.pk)

    assert requests_waiting() == [("owner", salesperson.pk)]
    assert [name for name, *_ in enqueued] == ["icp.tasks.rescore_owner_leads"]
