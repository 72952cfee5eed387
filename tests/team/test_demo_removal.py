"""Removing the demo data: exactly the demo accounts' records go, everyone else's stay as they
were, row for row (on the real demo: tests/team/test_demo.py, whose module loads it once)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from accounts import services as account_services
from accounts.models import User
from leads import services as lead_services
from leads.models import Activity, Lead
from referrals.models import ReferralSource
from team import services
from tests.factories import (
    ActivityFactory,
    LeadFactory,
    ManagerFactory,
    ReferralSourceFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_real_records_that_mention_demo_ones_stay_and_only_lose_the_mention():
    demo_manager = ManagerFactory(username="morgan", is_demo=True)
    demo_rep = UserFactory(username="sam", is_demo=True)
    rep = UserFactory(username="real")
    demo_lead = LeadFactory(owner=demo_rep)
    real_lead = LeadFactory(owner=rep)
    # A real referral source whose person is a demo lead, a real lead referred by a demo
    # source, an activity the demo manager logged on a real lead, a lead a demo account had.
    real_source = ReferralSourceFactory(owner=rep, lead=demo_lead, name="Kept Source")
    demo_source = ReferralSourceFactory(owner=demo_rep)
    Lead.objects.filter(pk=real_lead.pk).update(referred_by=demo_source)
    note = ActivityFactory(lead=real_lead, user=demo_manager, kind="note")
    handed_over = LeadFactory(owner=demo_rep, company=None)
    lead_services.leads_reassign(leads=[handed_over], to_owner=rep, by=demo_manager)

    services.demo_remove()

    real_source.refresh_from_db()
    assert real_source.lead is None
    assert real_source.name == "Kept Source"
    real_lead.refresh_from_db()
    assert real_lead.referred_by is None
    assert Activity.objects.get(pk=note.pk).user is None
    assert Lead.objects.get(pk=handed_over.pk).owner == rep
    assert not Lead.objects.filter(pk=demo_lead.pk).exists()
    assert not ReferralSource.objects.filter(pk=demo_source.pk).exists()


@pytest.mark.django_db
def test_a_lead_once_owned_by_a_demo_account_still_opens(client):
    demo_manager = ManagerFactory(username="morgan", is_demo=True)
    demo_rep = UserFactory(username="sam", is_demo=True)
    rep = UserFactory(username="real")
    lead = LeadFactory(owner=demo_rep, company=None)
    lead_services.leads_reassign(leads=[lead], to_owner=rep, by=demo_manager)
    services.demo_remove()
    client.force_login(rep)

    response = client.get(f"/leads/{lead.pk}/")

    assert response.status_code == 200
    assert lead.first_name.encode() in response.content


@pytest.mark.django_db
def test_a_demo_account_may_not_remove_the_demo_beside_real_accounts():
    demo_manager = ManagerFactory(username="morgan", is_demo=True)
    UserFactory(username="real")

    with pytest.raises(services.DemoRemovalRefused, match="demo account"):
        services.demo_remove(by=demo_manager)
    assert User.objects.filter(is_demo=True).exists()


@pytest.mark.django_db
def test_a_demo_manager_alone_removes_the_demo_and_the_database_starts_fresh():
    demo_manager = ManagerFactory(username="morgan", is_demo=True)
    LeadFactory(owner=UserFactory(username="sam", is_demo=True))

    removal = services.demo_remove(by=demo_manager)

    assert removal.removed_self
    assert not User.objects.exists()
    assert account_services.no_user_exists()


@pytest.mark.django_db
def test_a_salesperson_may_not_remove_the_demo():
    UserFactory(username="sam", is_demo=True)
    with pytest.raises(PermissionDenied, match="managers"):
        services.demo_remove(by=UserFactory(username="real"))
    assert User.objects.filter(is_demo=True).exists()


@pytest.mark.django_db
def test_the_command_says_what_goes_and_asks_for_yes(capsys):
    LeadFactory(owner=UserFactory(username="sam", first_name="Sam", last_name="R", is_demo=True))
    real_lead = LeadFactory(owner=UserFactory(username="real"))

    with pytest.raises(CommandError, match="--yes"):
        call_command("remove_demo")
    assert "1 lead" in capsys.readouterr().out
    assert User.objects.filter(is_demo=True).exists()

    call_command("remove_demo", "--yes")

    assert "Removed the demo data: Sam R and their 1 lead." in capsys.readouterr().out
    assert not User.objects.filter(is_demo=True).exists()
    assert Lead.objects.filter(pk=real_lead.pk).exists()
    call_command("remove_demo", "--yes")
    assert "No demo data" in capsys.readouterr().out
