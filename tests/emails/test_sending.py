from __future__ import annotations

import socket
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections

from emails.models import Email, EmailSource
from emails.sending import EmailNotSent, email_send, merge_values, new_message_id
from handraise.models import PublicPage
from leads.models import Activity, ActivityKind, Direction
from tests.factories import CompanyFactory, LeadFactory, ReferralSourceFactory, UserFactory


@pytest.fixture
def sam(db):
    return UserFactory(
        username="sam", first_name="Sam", last_name="Seller", email="sam@seller.example"
    )


@pytest.fixture
def dana(sam):
    return LeadFactory(
        owner=sam,
        first_name="Dana",
        last_name="Reyes",
        email="dana@buyer.example",
        company=CompanyFactory(owner=sam, name="Juniper Logistics"),
    )


def send(sam, lead, **fields):
    values = {
        "subject": "Hello {{first_name}}",
        "body": "Hi {{first_name}} at {{company}},\n\n{{my_name}}",
        "message_id": new_message_id(sam),
    }
    return email_send(user=sam, lead=lead, **{**values, **fields})


@pytest.mark.django_db
def test_a_sent_email_reaches_the_smtp_server_from_the_salespersons_address(smtp_server, sam, dana):
    email = send(sam, dana)

    [received] = smtp_server.received
    assert received.mail_from == "sam@seller.example"
    assert received.rcpt_tos == ["dana@buyer.example"]
    message = received.message
    assert message["From"] == "Sam Seller <sam@seller.example>"
    assert message["To"] == "Dana Reyes <dana@buyer.example>"
    assert message["Subject"] == "Hello Dana"
    assert message["Message-ID"].strip() == f"<{email.message_id}>"
    assert (
        message.get_content().replace("\r\n", "\n").strip()
        == "Hi Dana at Juniper Logistics,\n\nSam Seller"
    )


@pytest.mark.django_db
def test_a_sent_email_is_logged_as_an_outbound_email_touch_that_moves_the_cadence(
    smtp_server, sam, dana
):
    before = dana.next_follow_up_at

    email = send(sam, dana)

    email.refresh_from_db()
    assert email.source == EmailSource.SENT
    assert email.direction == Direction.OUTBOUND
    assert email.subject == "Hello Dana"
    assert email.body_text.startswith("Hi Dana at Juniper Logistics")
    assert email.to_addresses == ["dana@buyer.example"]
    assert email.activity is not None
    assert email.activity.kind == ActivityKind.EMAIL
    dana.refresh_from_db()
    assert dana.last_contacted_at == email.sent_at
    follow_up = dana.follow_ups.get(done_at=None)
    assert follow_up.due_at > email.sent_at
    assert dana.next_follow_up_at != before


@pytest.mark.django_db
def test_the_same_form_sent_twice_goes_out_and_is_logged_once(smtp_server, sam, dana):
    message_id = new_message_id(sam)

    first = send(sam, dana, message_id=message_id)
    again = send(sam, dana, message_id=message_id)

    assert again.pk == first.pk
    assert len(smtp_server.received) == 1
    assert Email.objects.count() == 1


@pytest.mark.django_db
def test_a_do_not_contact_lead_is_refused_at_send_time(smtp_server, sam, dana):
    page_seen_with_contact_allowed = dana
    type(dana).objects.filter(pk=dana.pk).update(do_not_contact=True)

    with pytest.raises(EmailNotSent, match="asked not to be contacted"):
        send(sam, page_seen_with_contact_allowed)

    assert smtp_server.received == []
    assert not Email.objects.exists()
    assert not Activity.objects.filter(lead=dana).exists()


@pytest.mark.django_db
def test_a_lead_without_an_email_address_is_refused(smtp_server, sam):
    lead = LeadFactory(owner=sam, email="")

    with pytest.raises(EmailNotSent, match="no email address"):
        send(sam, lead)

    assert smtp_server.received == []


@pytest.mark.django_db
def test_an_smtp_refusal_is_told_in_words_and_nothing_is_logged(smtp_server, sam, dana):
    smtp_server.refuse_with("550 5.7.1 Relaying denied")

    with pytest.raises(EmailNotSent) as refused:
        send(sam, dana)

    assert str(refused.value) == "The mail server refused the email: 550 5.7.1 Relaying denied."
    assert not Email.objects.exists()
    assert not Activity.objects.filter(lead=dana).exists()


@pytest.mark.django_db
def test_a_mail_server_that_is_down_is_told_in_words_and_nothing_is_logged(smtp_server, sam, dana):
    smtp_server.stop()

    with pytest.raises(EmailNotSent, match="could not be reached"):
        send(sam, dana)

    assert not Email.objects.exists()
    assert not Activity.objects.filter(lead=dana).exists()


@pytest.mark.django_db
def test_an_unknown_merge_field_is_refused_with_the_field_named(smtp_server, sam, dana):
    with pytest.raises(EmailNotSent, match=r"Unknown merge field \{\{nickname\}\}") as refused:
        send(sam, dana, body="Hi {{nickname}}")

    assert refused.value.field == "body"
    assert smtp_server.received == []


@pytest.mark.django_db
def test_merge_values_fill_referrer_booking_link_and_name_and_missing_ones_are_empty(sam):
    referrer = ReferralSourceFactory(owner=sam, name="Rita Referrer")
    page = PublicPage.objects.create(owner=sam)
    referred = LeadFactory(owner=sam, first_name="Dana", referred_by=referrer, company=None)

    values = merge_values(user=sam, lead=referred)

    assert values["referrer_name"] == "Rita Referrer"
    assert values["booking_link"] == f"{django_settings.SITE_URL}/p/{page.token}/"
    assert values["my_name"] == "Sam Seller"
    assert values["company"] == ""
    alone = merge_values(user=UserFactory(username="solo"), lead=LeadFactory(owner=sam))
    assert alone["referrer_name"] == ""
    assert alone["booking_link"] == ""


@pytest.mark.django_db(transaction=True)
def test_two_sends_of_one_form_at_once_go_out_once(smtp_server, sam, dana):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrent writers need PostgreSQL (SQLite's test database is in memory).")
    message_id = new_message_id(sam)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send_once():
        barrier.wait()
        try:
            results.append(send(sam, dana, message_id=message_id).pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2
    assert results[0] == results[1]
    assert len(smtp_server.received) == 1
    assert Email.objects.count() == 1
    assert Activity.objects.filter(lead=dana, kind=ActivityKind.EMAIL).count() == 1


@pytest.mark.django_db
def test_a_line_break_in_a_merged_name_adds_no_header(smtp_server, sam):
    lead = LeadFactory(owner=sam, first_name="Dana\r\nBcc: evil@example.com", email="d@b.example")

    send(sam, lead, subject="Hi {{first_name}}", body="Hello")

    [received] = smtp_server.received
    assert received.rcpt_tos == ["d@b.example"]
    assert received.message["Bcc"] is None
    assert received.message["Subject"] == "Hi Dana Bcc: evil@example.com"


@pytest.mark.django_db
def test_a_refused_recipient_is_told_in_words_and_nothing_is_logged(smtp_server, sam, dana):
    smtp_server.refuse_recipients_with("550 5.1.1 Mailbox unavailable")

    with pytest.raises(EmailNotSent) as refused:
        send(sam, dana)

    assert str(refused.value) == (
        "The mail server refused the recipient: 550 5.1.1 Mailbox unavailable."
    )
    assert not refused.value.refused  # the server's answer, not LeadHunter's
    assert not Email.objects.exists()


@pytest.mark.django_db
def test_a_mail_server_that_never_answers_is_told_in_words(settings, smtp_server, sam, dana):
    # A socket that takes the connection and never greets: smtplib waits EMAIL_TIMEOUT.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings.EMAIL_PORT = silent.getsockname()[1]
        settings.EMAIL_TIMEOUT = 1

        with pytest.raises(EmailNotSent, match="did not answer in time"):
            send(sam, dana)

    assert not Email.objects.exists()
