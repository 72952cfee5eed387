"""The capture side's pages: the Settings section, connecting a mailbox, the never-log list,
Unmatched emails (create, link, discard), Today's notice and the Status check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emails.capture import capture_profile_for
from emails.capture_models import Mailbox, MailboxKind, UnmatchedEmail, UnmatchedStatus
from emails.models import Email
from leads.models import ActivityKind, Lead
from ops.checks import State, system_checks
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

SENT_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def capture_configured(settings):
    settings.CAPTURE_IMAP_URL = "imap://capture:pw@127.0.0.1:9/INBOX"
    settings.CAPTURE_ADDRESS = "crm@example.com"


def unmatched(owner, address="eve@prospect.example", name="Eve Example", **fields):
    values = {
        "owner": owner,
        "person_address": address,
        "person_name": name,
        "message_id": f"{address}-1@x",
        "direction": "inbound",
        "from_address": address,
        "to_addresses": [owner.email],
        "subject": "Pricing question",
        "body_text": "What would <b>40 seats</b> cost?",
        "sent_at": SENT_AT,
    }
    return UnmatchedEmail.objects.create(**{**values, **fields})


def test_settings_shows_the_personal_capture_address_with_a_copy_button(
    sam_client, salesperson, capture_configured
):
    token = capture_profile_for(owner=salesperson).token

    page = sam_client.get("/settings/").content.decode()

    assert f'value="crm+{token}@example.com"' in page
    assert 'data-copy-from="capture-address"' in page
    assert "BCC or forward emails here" in page
    assert 'name="password"' in page  # the mailbox form, ready to connect


def test_settings_without_a_capture_mailbox_says_what_the_administrator_sets(sam_client):
    page = sam_client.get("/settings/").content.decode()

    assert "CAPTURE_IMAP_URL" in page
    assert 'id="capture-address"' not in page


def test_settings_shows_why_the_capture_mailbox_is_not_read(sam_client, capture_configured):
    Mailbox.objects.create(
        kind=MailboxKind.CAPTURE, folders=["INBOX"], last_error="Could not reach the mail server."
    )

    page = sam_client.get("/settings/").content.decode()

    assert "The capture address is not being read right now" in page
    assert "Could not reach the mail server." in page


def test_connecting_an_unreachable_mailbox_shows_the_error_next_to_the_host(sam_client):
    response = sam_client.post(
        "/emails/mailbox/connect/",
        {
            "host": "127.0.0.1",
            "port": "9",
            "username": "sam",
            "password": "secret-typed",
            "folders": "INBOX",
        },
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_host_error"' in page
    assert "Could not reach the mail server 127.0.0.1:9" in page
    assert "secret-typed" not in page  # a password is never sent back
    assert not Mailbox.objects.exists()


def test_the_never_log_list_is_saved_and_a_bad_entry_shown_next_to_it(sam_client, salesperson):
    bad = sam_client.post("/emails/never-log/", {"never_log": "friend@private.example\nnope"})
    good = sam_client.post("/emails/never-log/", {"never_log": "Private.example, @law.example"})

    assert bad.status_code == 422
    assert "“nope” is not an address" in bad.content.decode()
    assert good.status_code == 302
    assert capture_profile_for(owner=salesperson).never_log == "private.example\nlaw.example"


def test_unmatched_list_shows_each_email_escaped_in_constant_queries(
    sam_client, salesperson, django_assert_num_queries
):
    LeadFactory(owner=salesperson, email="finn@prospect.example")
    for number in range(3):
        unmatched(salesperson, address=f"p{number}@prospect.example")
    sam_client.get("/emails/unmatched/")  # warm the session

    with django_assert_num_queries(5):
        response = sam_client.get("/emails/unmatched/")
    for number in range(3, 8):
        unmatched(salesperson, address=f"p{number}@prospect.example")
    with django_assert_num_queries(5):
        sam_client.get("/emails/unmatched/")

    page = response.content.decode()
    assert "&lt;b&gt;40 seats&lt;/b&gt;" in page
    assert "Add to" in page  # Finn, at the same company, is offered


def test_unmatched_list_when_empty_says_where_the_capture_address_is(sam_client):
    page = sam_client.get("/emails/unmatched/").content.decode()

    assert "Nothing waiting." in page
    assert "Find your capture address in Settings" in page


def test_create_lead_makes_the_lead_and_logs_every_email_with_that_person(sam_client, salesperson):
    first = unmatched(salesperson)
    unmatched(salesperson, message_id="second@x", subject="Follow-up")

    response = sam_client.post(f"/emails/unmatched/{first.pk}/create-lead/")

    lead = Lead.objects.get(email="eve@prospect.example")
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.first_name, lead.last_name, lead.source) == ("Eve", "Example", "hand_raiser")
    assert set(Email.objects.filter(lead=lead).values_list("subject", flat=True)) == {
        "Pricing question",
        "Follow-up",
    }
    assert lead.activities.filter(kind=ActivityKind.REPLIED).count() == 2
    assert not UnmatchedEmail.objects.filter(status=UnmatchedStatus.PENDING).exists()


def test_link_to_an_existing_lead_by_address_and_discard(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, email="eve.old@prospect.example")
    linked = unmatched(salesperson)
    dropped = unmatched(salesperson, address="spam@nowhere.example")

    sam_client.post(f"/emails/unmatched/{linked.pk}/link/", {"lead_email": lead.email})
    sam_client.post(f"/emails/unmatched/{dropped.pk}/discard/")

    assert Email.objects.get().lead == lead
    dropped.refresh_from_db()
    assert dropped.status == UnmatchedStatus.DISCARDED
    assert dropped.body_text == ""


def test_another_salespersons_unmatched_email_is_404(client_of, salesperson, other_salesperson):
    theirs = unmatched(other_salesperson)

    response = client_of(salesperson).post(f"/emails/unmatched/{theirs.pk}/create-lead/")

    assert response.status_code == 404
    assert not Lead.objects.exists()


def test_today_loads_the_unmatched_count_beside_its_queue(sam_client, salesperson):
    unmatched(salesperson)
    unmatched(salesperson, address="gina@prospect.example")

    today = sam_client.get("/").content.decode()
    notice = sam_client.get("/emails/unmatched/count/", headers={"HX-Request": "true"})

    assert 'hx-get="/emails/unmatched/count/"' in today
    assert "2 unmatched emails" in notice.content.decode()


def test_the_status_page_says_when_the_capture_mailbox_cannot_be_read(capture_configured):
    Mailbox.objects.create(
        kind=MailboxKind.CAPTURE, folders=["INBOX"], last_error="The mail server refused it."
    )

    check = next(check for check in system_checks() if check.name == "email capture")

    assert check.state == State.PROBLEM
    assert "The mail server refused it." in check.found
    assert "It is tried again by itself" in check.todo


def test_a_failing_connected_mailbox_still_shows_while_the_capture_mailbox_fails(
    capture_configured, salesperson
):
    Mailbox.objects.create(
        kind=MailboxKind.CAPTURE, folders=["INBOX"], last_error="Could not reach the server."
    )
    Mailbox.objects.create(
        kind=MailboxKind.PERSONAL,
        owner=salesperson,
        host="imap.example.com",
        username="sam@seller.example",
        password_encrypted="gAAAA-encrypted-secret",
        folders=["INBOX"],
        last_error="The mail server refused the username or password.",
    )

    check = next(check for check in system_checks() if check.name == "email capture")

    assert check.state == State.PROBLEM
    assert "1 connected mailbox(es), 1 failing" in check.found


def test_the_status_page_has_no_email_capture_check_when_none_is_set_up():
    assert "email capture" not in [check.name for check in system_checks()]


def test_the_lead_page_shows_a_bouncing_address_until_the_address_changes(sam_client, salesperson):
    from leads.services import lead_update, leads_mark_email_bouncing

    lead = LeadFactory(owner=salesperson, email="gone@buyer.example")
    leads_mark_email_bouncing(owner=salesperson, addresses=["Gone@Buyer.example"], at=SENT_AT)

    page = sam_client.get(f"/leads/{lead.pk}/").content.decode()

    assert "Bouncing" in page
    lead.refresh_from_db()
    lead = lead_update(lead=lead, user=salesperson, email="new@buyer.example")
    lead.refresh_from_db()
    assert lead.email_bounced_at is None
    assert "Bouncing" not in sam_client.get(f"/leads/{lead.pk}/").content.decode()


def test_settings_shows_why_the_connected_mailbox_is_not_read_and_offers_to_connect_again(
    sam_client, salesperson
):
    Mailbox.objects.create(
        kind=MailboxKind.PERSONAL,
        owner=salesperson,
        host="imap.example.com",
        username="sam@seller.example",
        password_encrypted="gAAAA-encrypted-secret",
        folders=["INBOX", "Sent"],
        last_error="The mail server refused the username or password.",
    )

    page = sam_client.get("/settings/").content.decode()

    assert "Your mailbox could not be read:" in page
    assert "The mail server refused the username or password." in page
    assert 'value="imap.example.com"' in page
    assert 'value="INBOX, Sent"' in page
    assert "gAAAA-encrypted-secret" not in page
    assert "Remove mailbox" in page
