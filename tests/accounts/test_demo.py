from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from icp.models import ICP
from leads.models import OPEN_STAGES, Activity, Lead, Source, Stage
from referrals.models import ReferralSource
from referrals.selectors import referral_asks_due, referral_tree


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo database, loaded once for this module (it takes several seconds)."""
    # In one transaction rolled back at the end: everything the demo wrote goes, history and
    # audit events included, and the rows migrations made stay. Each test nests inside it.
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo")
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_has_a_team_with_logins(demo, capsys):
    call_command("seed_demo")

    assert "already has users" in capsys.readouterr().out
    assert User.objects.get(username="morgan").is_manager
    assert not User.objects.get(username="sam").is_manager
    assert User.objects.count() == 3


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
