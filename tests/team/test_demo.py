from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from api import services as api_services
from icp.models import ICP
from leads import services as lead_services
from leads.models import OPEN_STAGES, STAGE_LIMIT_DAYS, Activity, Lead, Source, Stage
from leads.selectors import going_cold_condition
from referrals import services as referral_services
from referrals.models import ReferralSource
from referrals.selectors import referral_asks_due, referral_tree
from reports.selectors import Period, by_source, referral_months_total, referrals
from team import services
from team.selectors import demo_data
from tests.factories import ActivityFactory, CriterionFactory, FollowUpFactory, LeadFactory

Rows = dict[str, dict[object, dict]]


def every_row() -> Rows:
    """Every row of every table, by model and primary key (the leads' search table, which
    only PostgreSQL has, included there)."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: {
            row["pk"]: row
            for row in model._base_manager.values(
                "pk", *[f.attname for f in model._meta.concrete_fields]
            )
        }
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table in tables
    }


def add_real_team() -> dict[str, object]:
    """A real manager and salesperson beside the demo, with the records real use makes."""
    manager = account_services.user_create(
        username="real-manager", password="x" * 20, email="boss@real.example", is_manager=True
    )
    rep = account_services.user_create(
        username="real-rep", password="x" * 20, email="rep@real.example"
    )
    lead = lead_services.lead_create(
        owner=rep, first_name="Real", last_name="Customer", email="real@customer.example"
    )
    lead_services.activity_log(lead=lead, user=rep, kind="call", outcome="connected")
    other = LeadFactory(owner=rep, first_name="Second", last_name="Real")
    FollowUpFactory(lead=other)
    ActivityFactory(lead=other, user=manager)
    source = referral_services.referral_source_create(
        owner=rep, name="Real Partner", email="partner@real.example", kind="partner"
    )
    referral_services.referral_ask_record(source=source, user=rep, channel="email")
    CriterionFactory(icp__owner=rep)
    api_services.api_token_create(user=rep, name="Zapier")
    return {"manager": manager, "rep": rep, "lead": lead}


@dataclass(frozen=True)
class Demo:
    before_demo: Rows  # every row before the demo was loaded
    with_demo: Rows  # and after


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[Demo]:
    """The demo database, loaded once for this module (it takes several seconds)."""
    # In one transaction rolled back at the end: everything the demo wrote goes, history and
    # audit events included, and the rows migrations made stay. Each test nests inside it.
    with django_db_blocker.unblock(), transaction.atomic():
        before_demo = every_row()
        call_command("seed_demo")
        yield Demo(before_demo, every_row())
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_has_a_team_with_logins(demo, capsys):
    call_command("seed_demo")

    assert "already has users" in capsys.readouterr().out
    assert User.objects.get(username="morgan").is_manager
    assert not User.objects.get(username="sam").is_manager
    assert User.objects.count() == 3
    assert set(User.objects.filter(is_demo=True).values_list("username", flat=True)) == {
        "sam",
        "jordan",
        "morgan",
    }


@pytest.mark.django_db
def test_demo_leads_cover_every_source_and_stage_with_scores_and_next_steps(demo):
    sam = User.objects.get(username="sam")
    leads = Lead.objects.filter(owner=sam)

    assert leads.count() == 200
    assert set(leads.values_list("source", flat=True)) == set(Source.values)
    assert set(leads.values_list("stage", flat=True)) == set(Stage.values)
    assert leads.filter(scored_at__isnull=False).count() == 200
    assert leads.filter(grade="A").exists()
    open_without_next_step = leads.filter(stage__in=OPEN_STAGES, next_follow_up_at__isnull=True)
    assert not open_without_next_step.exists()
    assert Activity.objects.filter(lead__owner=sam, kind="asked_for_demo").exists()
    assert ICP.objects.filter(owner=sam, is_active=True).count() == 2


@pytest.mark.django_db
def test_demo_has_a_referral_chain_and_customers_due_an_ask(demo):
    sam = User.objects.get(username="sam")
    trees = [referral_tree(source) for source in ReferralSource.objects.filter(owner=sam)]

    assert any(node.children for tree in trees for node in tree), "a referral chain exists"
    assert referral_asks_due(sam, now=timezone.now())


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["sam", "jordan"])
def test_demo_pipeline_is_worked_daily_with_a_few_leads_going_cold(demo, username):
    """The board must not show "Going cold" on almost every card: a demo that looks abandoned
    looks broken. A few cold leads stay, so the feature has something to show."""
    now = timezone.now()
    open_leads = Lead.objects.filter(owner__username=username, stage__in=OPEN_STAGES)
    cold = open_leads.filter(going_cold_condition(now)).count()

    assert 1 <= cold <= 0.15 * open_leads.count()
    # The leads past New were touched recently: inside their stage's limit, most of them.
    touched = open_leads.exclude(stage=Stage.NEW)
    recent = sum(
        lead.last_contacted_at >= now - timedelta(days=STAGE_LIMIT_DAYS[lead.stage])
        for lead in touched.only("stage", "last_contacted_at")
    )
    assert recent >= 0.8 * touched.count()


@pytest.mark.django_db
def test_demo_people_have_names_of_their_own(demo):
    """Two referral sources (or leads) with one name look like a duplicate nobody merged."""
    source_names = list(ReferralSource.objects.values_list("name", flat=True))
    lead_names = list(Lead.objects.values_list("first_name", "last_name"))

    assert len(source_names) > 10
    assert len(set(source_names)) == len(source_names)
    assert len(set(lead_names)) == len(lead_names) == 260


@pytest.mark.django_db
def test_demo_reports_agree_on_referred_leads_and_a_few_ask_who_referred(demo):
    sam = User.objects.get(username="sam")
    leads = Lead.objects.filter(owner=sam)
    today = timezone.localdate()
    ever = Period(today - timedelta(days=3650), today + timedelta(days=1), sam.zone)

    sources_row = next(row for row in by_source(sam, ever) if row.source == Source.REFERRAL)
    referral_total = referral_months_total(referrals(sam, ever).months).referred_leads

    assert sources_row.created == referral_total == leads.referred().count()
    assert leads.referred().count() > leads.filter(source=Source.REFERRAL).count() - 4
    assert 1 <= leads.referrer_unknown().count() <= 3


@pytest.mark.django_db
def test_each_demo_leads_last_history_record_is_what_the_lead_is(demo):
    """The Change history diffs consecutive records: a record saved from a stale instance would
    show, at the next real edit, a stage change nobody made (found by a new user's trial)."""
    latest = {}
    for record in Lead.history.order_by("id", "history_id").values(
        "id", "stage", "referred_by_id", "source"
    ):
        latest[record["id"]] = (record["stage"], record["referred_by_id"], record["source"])
    leads = {
        lead["id"]: (lead["stage"], lead["referred_by_id"], lead["source"])
        for lead in Lead.objects.values("id", "stage", "referred_by_id", "source")
    }

    assert leads
    assert {pk: latest.get(pk) for pk in leads} == leads


@pytest.mark.django_db
def test_removing_the_demo_leaves_every_other_row_exactly_as_it_was(demo):
    """On the demo of this module (the test's writes are rolled back with its savepoint; the
    deferred foreign keys are checked at its end, as for every test, so a row left pointing
    at a removed one fails it as a commit would)."""
    real = add_real_team()
    before = every_row()
    assert demo_data().leads == 260

    removal = services.demo_remove(by=real["manager"])

    after = every_row()
    assert sorted(removal.users) == ["Jordan Blake", "Morgan Lee", "Sam Rivera"]
    assert removal.deleted["leads.Lead"] == 260
    for label, rows in after.items():
        demo_pks = set(demo.with_demo[label]) - set(demo.before_demo[label])
        expected = {pk: row for pk, row in before[label].items() if pk not in demo_pks}
        # Rows the migrations made (groups, permissions, schedules) and the real team's rows
        # are all there, unchanged; not one demo row is left.
        assert rows == expected, f"{label} changed"
    assert not User.objects.filter(is_demo=True).exists()
    assert User.objects.filter(username__in=["real-manager", "real-rep"]).count() == 2
