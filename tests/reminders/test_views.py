from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leads.models import Activity, ActivityKind, FollowUp, FollowUpResolution
from referrals.models import ReferralAsk
from reminders import links
from reminders.links import make_link
from reminders.models import EmailLinkUse
from tests.factories import FollowUpFactory, LeadFactory, ReferralSourceFactory
from tests.reminders.conftest import MONDAY_9_LONDON, link_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def monday(clock):
    return clock(MONDAY_9_LONDON)


@pytest.fixture
def dana(monday, salesperson):
    return ReferralSourceFactory(owner=salesperson, name="Dana Smith", ask_cadence_days=90)


@pytest.fixture
def follow_up(monday, salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Lee", last_name="Park", stage="contacted")
    return FollowUpFactory(lead=lead, due_at=MONDAY_9_LONDON - timedelta(days=1))


def test_i_asked_them_logs_one_referral_ask(client, salesperson, dana):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))

    response = client.post(path)

    assert response.status_code == 200
    assert "Logged: you asked Dana Smith for a referral" in response.text
    assert 'href="/"' in response.text  # a way into LeadHunter
    ask = ReferralAsk.objects.get()
    assert (ask.source, ask.asked_by, ask.asked_at) == (dana, salesperson, MONDAY_9_LONDON)
    dana.refresh_from_db()
    assert dana.last_asked_at == MONDAY_9_LONDON
    assert dana.next_ask_at == MONDAY_9_LONDON + timedelta(days=90)


def test_a_second_click_changes_nothing(client, salesperson, dana, clock):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))
    client.post(path)
    clock(MONDAY_9_LONDON + timedelta(days=1))

    response = client.post(path)

    assert response.status_code == 200
    assert "Already done" in response.text
    assert ReferralAsk.objects.count() == 1
    assert EmailLinkUse.objects.count() == 1
    dana.refresh_from_db()
    assert dana.last_asked_at == MONDAY_9_LONDON


def test_the_link_works_without_logging_in_and_whoever_is_logged_in(
    client_of, salesperson, other_salesperson, dana
):
    client = client_of(other_salesperson)  # a shared computer, someone else's session

    client.post(link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk)))

    assert ReferralAsk.objects.get().asked_by == salesperson


def test_a_tampered_link_is_refused(client, salesperson, dana):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]

    response = client.post(tampered)

    assert response.status_code == 400
    assert "This link is not valid" in response.text
    assert not ReferralAsk.objects.exists()


def test_an_expired_link_says_so(client, salesperson, follow_up, clock):
    path = link_path(make_link(salesperson, links.FOLLOW_UP_DONE, follow_up.pk))
    clock(MONDAY_9_LONDON + timedelta(days=3, minutes=1))

    response = client.post(path)

    assert response.status_code == 410
    assert "This link has expired — open LeadHunter to do it there" in response.text
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_someone_elses_follow_up_is_not_found(client, salesperson, other_salesperson, monday):
    theirs = FollowUpFactory(lead=LeadFactory(owner=other_salesperson), due_at=MONDAY_9_LONDON)
    # Validly signed for Sam, but pointing at Alex's follow-up.
    path = link_path(make_link(salesperson, links.FOLLOW_UP_DONE, theirs.pk))

    response = client.post(path)

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.done_at is None
    assert not EmailLinkUse.objects.exists()


def test_someone_elses_referral_source_is_not_found(client, salesperson, other_salesperson):
    theirs = ReferralSourceFactory(owner=other_salesperson)

    response = client.post(link_path(make_link(salesperson, links.REFERRAL_ASKED, theirs.pk)))

    assert response.status_code == 404
    assert not ReferralAsk.objects.exists()


def test_done_completes_the_follow_up_and_plans_the_next_step(client, salesperson, follow_up):
    response = client.post(link_path(make_link(salesperson, links.FOLLOW_UP_DONE, follow_up.pk)))

    assert response.status_code == 200
    assert "Done: Follow up with Lee Park." in response.text
    follow_up.refresh_from_db()
    assert follow_up.done_at == MONDAY_9_LONDON
    assert follow_up.resolution == FollowUpResolution.DONE
    assert FollowUp.objects.filter(lead=follow_up.lead, done_at__isnull=True).exists()


def test_done_on_a_follow_up_already_done_changes_nothing(client, salesperson, follow_up):
    FollowUp.objects.filter(pk=follow_up.pk).update(
        done_at=MONDAY_9_LONDON - timedelta(hours=1), resolution=FollowUpResolution.DONE
    )

    response = client.post(link_path(make_link(salesperson, links.FOLLOW_UP_DONE, follow_up.pk)))

    assert "already done" in response.text
    follow_up.refresh_from_db()
    assert follow_up.done_at == MONDAY_9_LONDON - timedelta(hours=1)


def test_snooze_moves_the_follow_up_three_days_on(client, salesperson, follow_up):
    response = client.post(link_path(make_link(salesperson, links.FOLLOW_UP_SNOOZE, follow_up.pk)))

    assert response.status_code == 200
    assert "Snoozed: Follow up with Lee Park is now due Thursday 3 December, 09:00" in (
        response.text
    )
    follow_up.refresh_from_db()
    assert follow_up.due_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 09:00 in London
    assert follow_up.snooze_count == 1
    assert follow_up.done_at is None


def test_snoozing_twice_with_the_same_link_snoozes_once(client, salesperson, follow_up):
    path = link_path(make_link(salesperson, links.FOLLOW_UP_SNOOZE, follow_up.pk))
    client.post(path)
    client.post(path)

    follow_up.refresh_from_db()
    assert follow_up.snooze_count == 1


def test_log_a_call_records_the_call_through_the_activity_service(client, salesperson, follow_up):
    response = client.post(
        link_path(make_link(salesperson, links.FOLLOW_UP_LOG_CALL, follow_up.pk))
    )

    assert response.status_code == 200
    assert "Logged a call with Lee Park." in response.text
    call = Activity.objects.get(lead=follow_up.lead)
    assert (call.kind, call.user, call.occurred_at) == (
        ActivityKind.CALL,
        salesperson,
        MONDAY_9_LONDON,
    )
    follow_up.lead.refresh_from_db()
    assert follow_up.lead.last_contacted_at == MONDAY_9_LONDON
    follow_up.refresh_from_db()
    assert follow_up.done_at == MONDAY_9_LONDON  # a touch completes the pending follow-up


def test_an_action_the_service_refuses_leaves_the_link_usable(client, salesperson, dana):
    dana.opted_out = True
    dana.save()
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))

    response = client.post(path)

    assert "Nothing changed" in response.text
    assert "opted out" in response.text
    assert not EmailLinkUse.objects.exists()


def test_an_html_name_is_escaped_on_the_result_page(client, salesperson, monday):
    nasty = ReferralSourceFactory(owner=salesperson, name="<script>alert(1)</script>")

    response = client.post(link_path(make_link(salesperson, links.REFERRAL_ASKED, nasty.pk)))

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_only_get_and_post_are_allowed(client, salesperson, dana):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))

    assert client.put(path).status_code == 405
    assert client.head(path).status_code == 405  # link scanners probe with HEAD
    assert not ReferralAsk.objects.exists()


# --- A mail scanner opening the link changes nothing ---------------------------------------


@pytest.mark.parametrize(
    ("action", "title", "button"),
    [
        (links.FOLLOW_UP_DONE, "Mark the follow-up done", "Mark it done"),
        (links.FOLLOW_UP_SNOOZE, "Snooze the follow-up", "Snooze 3 days"),
        (links.FOLLOW_UP_LOG_CALL, "Log a call", "Log the call"),
    ],
)
def test_opening_a_follow_up_link_only_says_what_it_will_do(
    client, salesperson, follow_up, action, title, button
):
    due_at = follow_up.due_at
    path = link_path(make_link(salesperson, action, follow_up.pk))

    pages = [client.get(path) for _ in range(3)]  # a scanner, a preview pane, the person

    follow_up.refresh_from_db()
    assert follow_up.done_at is None
    assert follow_up.due_at == due_at
    assert not Activity.objects.exists()
    assert not EmailLinkUse.objects.exists()
    for page in pages:
        assert page.status_code == 200
        assert title in page.text
        assert "Lee Park" in page.text
        assert f'<form method="post" action="{path}">' in page.text
        assert f">{button}</button>" in page.text


def test_opening_i_asked_them_logs_nothing_until_the_button(client, salesperson, dana):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))

    page = client.get(path)
    assert not ReferralAsk.objects.exists()
    assert "Log that you asked Dana Smith for a referral today?" in page.text

    client.post(path)
    assert ReferralAsk.objects.count() == 1


def test_the_button_posts_with_the_pages_csrf_token(salesperson, dana):
    """The confirmation works for a visitor who is not logged in, CSRF checks on."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))
    page = browser.get(path)
    token = page.context["csrf_token"]

    assert browser.post(path).status_code == 403  # a cross-site POST without the token
    assert browser.post(path, {"csrfmiddlewaretoken": str(token)}).status_code == 200
    assert ReferralAsk.objects.count() == 1


def test_opening_a_used_link_says_it_was_used_and_offers_no_button(client, salesperson, dana):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))
    client.post(path)

    page = client.get(path)

    assert "Already done" in page.text
    assert "<form" not in page.text
    assert ReferralAsk.objects.count() == 1


def test_opening_a_link_to_a_follow_up_done_elsewhere_offers_no_button(
    client, salesperson, follow_up
):
    follow_up.done_at = follow_up.due_at
    follow_up.save()

    page = client.get(link_path(make_link(salesperson, links.FOLLOW_UP_SNOOZE, follow_up.pk)))

    assert "was already done" in page.text
    assert "<form" not in page.text


def test_a_deactivated_users_links_stop_working(client, salesperson, dana):
    path = link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk))
    salesperson.is_active = False
    salesperson.save()

    assert client.post(path).status_code == 404
    assert not ReferralAsk.objects.exists()


def test_the_result_page_is_not_cached_or_indexed(client, salesperson, dana):
    response = client.post(link_path(make_link(salesperson, links.REFERRAL_ASKED, dana.pk)))

    assert "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
