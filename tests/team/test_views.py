"""The Team page: managers only; add, set goals, deactivate; the admin a manager sees."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from leads.models import Company, FollowUp, Lead
from referrals.models import ReferralSource
from team import services
from tests.factories import (
    TEST_PASSWORD,
    FollowUpFactory,
    LeadFactory,
    ManagerFactory,
    ReferralSourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def can_log_in(username: str, password: str) -> bool:
    """Through the login form, as a person would."""
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


TEAM_URLS = ["/team/", "/team/add/", "/team/1/goal/", "/team/1/deactivate/", "/team/remove-demo/"]


@pytest.mark.parametrize("url", TEAM_URLS)
def test_a_salesperson_gets_403_everywhere_on_the_team_pages(client_of, salesperson, url):
    client = client_of(salesperson)

    # 405 for a method the page never takes, before anything else is checked.
    answers = {client.get(url).status_code, client.post(url, {"username": "x"}).status_code}
    assert answers in ({403}, {403, 405})


def test_only_managers_see_the_team_link(client_of, salesperson, manager):
    assert b'href="/team/"' not in client_of(salesperson).get("/").content
    assert b'href="/team/"' in client_of(manager).get("/").content


def test_the_team_lists_names_roles_goals_and_open_leads(client_of, manager, salesperson):
    LeadFactory.create_batch(3, owner=salesperson)
    LeadFactory(owner=salesperson, stage="won")
    UserFactory(username="gone", is_active=False)

    page = client_of(manager).get("/team/")

    text = page.content.decode()
    assert page.status_code == 200
    row = re.search(rf'<tr id="member-{salesperson.pk}">(.*?)</tr>', text, re.S).group(1)
    assert "Salesperson" in row
    assert "sam@example.com" in row
    assert 'value="20"' in row
    assert f'?owner={salesperson.pk}">3</a>' in row
    assert "Sales manager" in text
    assert "Deactivated" in text


def test_adding_without_email_shows_a_one_time_password_once(client_of, manager):
    response = client_of(manager).post(
        "/team/add/",
        {
            "first_name": "Jo",
            "username": "jo",
            "email": "",
            "role": "salesperson",
            "time_zone": "Europe/Paris",
        },
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    password = re.search(r'id="new-member-password"[^>]*value="([^"]+)"', response.text).group(1)
    jo = User.objects.get(username="jo")
    assert jo.check_password(password)
    assert not jo.is_manager
    assert jo.time_zone == "Europe/Paris"
    assert can_log_in("jo", password)
    assert password not in client_of(manager).get("/team/").text


def test_adding_with_email_sends_a_link_to_choose_a_password(
    client_of, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_of(manager).post(
            "/team/add/",
            {
                "first_name": "Kim",
                "username": "kim",
                "email": "kim@example.org",
                "role": "manager",
                "time_zone": "UTC",
            },
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is queued after the commit
    assert "We emailed kim@example.org a link" in client_of(manager).get("/team/").text
    kim = User.objects.get(username="kim")
    assert kim.is_manager

    assert account_services.team_invite_send(user_id=kim.pk, invited_by_id=manager.pk)

    email = mail.outbox[-1]
    assert email.to == ["kim@example.org"]
    assert "added you to LeadHunter" in email.subject
    link = re.search(r"http://\S+/accounts/reset/\S+", email.body).group(0)
    visitor = Client()
    form_page = visitor.get(urlsplit(link).path, follow=True)
    assert b"new password" in form_page.content.lower()
    done = visitor.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "kims own passphrase 9", "new_password2": "kims own passphrase 9"},
    )
    assert done.status_code == 302
    assert can_log_in("kim", "kims own passphrase 9")


def test_the_invite_is_not_sent_twice_to_someone_who_logged_in(manager):
    added = account_services.team_member_add(by=manager, username="lee", email="lee@x.org")
    User.objects.filter(pk=added.user.pk).update(last_login="2026-12-01T09:00:00Z")

    assert not account_services.team_invite_send(user_id=added.user.pk)
    assert mail.outbox == []


def test_a_taken_username_or_bad_email_is_shown_next_to_the_field(client_of, manager, salesperson):
    response = client_of(manager).post(
        "/team/add/",
        {
            "first_name": "Sam",
            "username": "SAM",
            "email": "not-an-email",
            "role": "salesperson",
            "time_zone": "UTC",
        },
    )

    assert response.status_code == 422
    form = response.context["add_form"]
    assert "already has this username" in form.errors["username"][0]
    assert "valid email" in form.errors["email"][0]
    assert 'value="SAM"' in response.text
    assert User.objects.count() == 2


def test_a_manager_sets_a_touch_goal_and_bad_goals_are_refused(client_of, manager, salesperson):
    client = client_of(manager)

    assert client.post(f"/team/{salesperson.pk}/goal/", {"daily_touch_goal": 35}).status_code == 302
    salesperson.refresh_from_db()
    assert salesperson.daily_touch_goal == 35
    bad = client.post(f"/team/{salesperson.pk}/goal/", {"daily_touch_goal": 0})
    assert bad.status_code == 422
    assert "greater than or equal to 1" in bad.text
    salesperson.refresh_from_db()
    assert salesperson.daily_touch_goal == 35


def test_deactivating_moves_everything_and_locks_them_out(client_of, manager, salesperson):
    heir = UserFactory(username="alex")
    lead = LeadFactory(owner=salesperson)
    FollowUpFactory(lead=lead)
    source = ReferralSourceFactory(owner=salesperson)
    Lead.objects.filter(pk=lead.pk).update(referred_by=source)
    client = client_of(manager)
    page = client.get(f"/team/{salesperson.pk}/deactivate/")
    assert "1 lead" in page.text
    assert "1 pending follow-up" in page.text

    response = client.post(f"/team/{salesperson.pk}/deactivate/", {"to_owner": heir.pk})

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == heir
    assert lead.company.owner == heir  # the company went first, so the link stayed
    assert lead.referred_by == source
    assert ReferralSource.objects.get(pk=source.pk).owner == heir
    assert FollowUp.objects.get(lead=lead).done_at is None
    salesperson.refresh_from_db()
    assert not salesperson.is_active
    assert not can_log_in("sam", TEST_PASSWORD)
    assert "is deactivated" in client.get("/team/").text


def test_deactivating_needs_someone_to_take_over(client_of, manager, salesperson):
    LeadFactory(owner=salesperson)
    response = client_of(manager).post(f"/team/{salesperson.pk}/deactivate/", {"to_owner": ""})

    assert response.status_code == 422
    assert "This field is required" in response.text
    salesperson.refresh_from_db()
    assert salesperson.is_active


def test_a_lead_the_heir_already_has_stays_and_is_named(manager, salesperson):
    heir = UserFactory(username="alex")
    LeadFactory(owner=heir, email="same@person.example")
    twin = LeadFactory(owner=salesperson, email="same@person.example")

    done = services.team_member_deactivate(member=salesperson, to_owner=heir, by=manager)

    assert done.leads == 0
    assert len(done.skipped) == 1
    assert Lead.objects.get(pk=twin.pk).owner == salesperson


def test_a_company_the_heir_has_too_is_shared_not_lost(manager, salesperson):
    heir = UserFactory(username="alex")
    theirs = Company.objects.create(owner=heir, name="Acme", domain="acme.example")
    mine = Company.objects.create(owner=salesperson, name="Acme Ltd", domain="acme.example")
    lead = LeadFactory(owner=salesperson, company=mine)

    services.team_member_deactivate(member=salesperson, to_owner=heir, by=manager)

    lead.refresh_from_db()
    assert lead.owner == heir
    assert lead.company == theirs


def test_a_manager_cannot_deactivate_themselves(manager, salesperson):
    with pytest.raises(Exception, match="yourself"):
        services.team_member_deactivate(member=manager, to_owner=salesperson, by=manager)


def test_managers_do_not_see_the_scheduler_in_the_admin_but_superusers_do(client_of, manager):
    index = client_of(manager).get("/admin/").text
    assert "Leads" in index
    for hidden in ("Clocked", "Crontabs", "Intervals", "Periodic tasks", "Solar events"):
        assert hidden not in index
    assert client_of(manager).get("/admin/django_celery_beat/crontabschedule/").status_code == 403
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert "Periodic tasks" in client_of(root).get("/admin/").text


def test_the_demo_is_removed_from_the_team_page(client_of, manager):
    LeadFactory(owner=UserFactory(username="jordan", first_name="Jordan", is_demo=True))
    mine = LeadFactory(owner=manager)
    client = client_of(manager)
    assert "Remove the demo data" in client.get("/team/").text
    confirm = client.get("/team/remove-demo/")
    assert "1 lead" in confirm.text

    response = client.post("/team/remove-demo/")

    assert response.status_code == 302
    assert not User.objects.filter(is_demo=True).exists()
    assert Lead.objects.filter(pk=mine.pk).exists()
    assert "Remove the demo data" not in client.get("/team/").text


def test_a_demo_manager_beside_real_accounts_is_told_why_not(client_of):
    demo_manager = ManagerFactory(username="morgan", is_demo=True)
    UserFactory(username="real")
    client = client_of(demo_manager)

    page = client.get("/team/remove-demo/")
    assert page.status_code == 409
    assert "logged in as a demo account" in page.text
    assert client.post("/team/remove-demo/").status_code == 409
    assert User.objects.filter(is_demo=True).exists()


def test_a_demo_manager_alone_removes_the_demo_and_is_sent_to_create_an_account(client_of):
    client = client_of(ManagerFactory(username="morgan", is_demo=True))

    response = client.post("/team/remove-demo/")

    assert response["Location"] == "/accounts/first-account/"
    assert "Create your own account" in client.get("/accounts/first-account/").text


@pytest.mark.parametrize("people", [2, 20])
def test_the_team_page_query_count_does_not_grow_with_the_team(
    client_of, manager, django_assert_max_num_queries, people
):
    for number in range(people):
        LeadFactory(owner=UserFactory(username=f"rep-{number}"))
    client = client_of(manager)

    with django_assert_max_num_queries(20):
        assert client.get("/team/").status_code == 200


def test_adding_with_email_says_so_when_this_install_prints_emails_instead(
    client_of, manager, settings
):
    """Seen in a new-user trial: "We emailed" under `make run`, whose emails go to its log."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    client = client_of(manager)
    client.post(
        "/team/add/",
        {
            "first_name": "Lee",
            "username": "lee",
            "email": "lee@example.org",
            "role": "salesperson",
            "time_zone": "UTC",
        },
    )

    page = client.get("/team/").text
    assert "We emailed lee@example.org a link" in page
    assert "Emails are printed in the log here, not delivered" in page
