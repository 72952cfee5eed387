"""Polling real mailboxes (a Dovecot server per test): the capture address and a connected
mailbox, exactly once across polls, restarts, a renumbered folder and two roads, never-log,
bounces, failures with backoff, and the command a person runs from a shell."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from emails.capture import capture_profile_for, never_log_update, unmatched_create_lead
from emails.capture_models import Mailbox, MailboxFolder, UnmatchedEmail, UnmatchedStatus
from emails.mailboxes import capture_mailbox, mailbox_connect, mailbox_disconnect, mailbox_poll
from emails.models import Email, EmailSource
from leads.models import Activity, ActivityKind, Direction, Lead
from tests.emails import messages
from tests.factories import LeadFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(salesperson):
    salesperson.email = messages.SAM
    salesperson.save(update_fields=["email"])
    return salesperson


@pytest.fixture
def dana(sam):
    return LeadFactory(owner=sam, first_name="Dana", last_name="Buyer", email=messages.DANA)


@pytest.fixture
def capture(capture_mailbox_settings, sam):
    """The capture mailbox; returns (server, Sam's plus-address)."""
    profile = capture_profile_for(owner=sam)
    return capture_mailbox_settings, f"crm+{profile.token}@example.com"


def poll_capture():
    mailbox = capture_mailbox()
    assert mailbox is not None
    return mailbox_poll(mailbox=mailbox)


def with_token(raw: bytes, address: str) -> bytes:
    return raw.replace(b"crm+TOKEN@example.com", address.encode())


def test_a_bcc_to_the_capture_address_is_an_outbound_touch_logged_once(capture, sam, dana):
    server, address = capture
    server.append("capture", messages.bcc_to_lead(bcc=address))

    first = poll_capture()
    second = poll_capture()

    assert (first.messages, first.logged, first.error) == (1, 1, "")
    assert (second.messages, second.logged) == (0, 0)
    email = Email.objects.get()
    assert (email.lead, email.owner, email.source) == (dana, sam, EmailSource.CAPTURE)
    assert email.direction == Direction.OUTBOUND
    assert email.activity is not None
    assert email.activity.kind == ActivityKind.EMAIL
    # Read with EXAMINE and BODY.PEEK: the message is still unread in the mailbox.
    assert server.seen_flags("capture") == [False]


def test_a_reply_forwarded_to_the_capture_address_is_a_replied_signal(capture, sam, dana):
    server, address = capture
    server.append(
        "capture",
        messages.reply_from_lead().replace(
            b"From:", f"Delivered-To: {address}\r\nFrom:".encode(), 1
        ),
    )

    poll_capture()

    email = Email.objects.get()
    assert email.direction == Direction.INBOUND
    assert email.activity is not None
    assert email.activity.kind == ActivityKind.REPLIED
    assert email.thread_key == "CAKx1@mail.gmail.com"


def test_a_message_from_the_salesperson_without_the_plus_address_is_theirs_by_from(
    capture, sam, dana
):
    server, _address = capture
    server.append("capture", messages.bcc_to_lead(bcc="crm@example.com"))

    poll_capture()

    assert Email.objects.get().lead == dana


def test_a_message_nobody_sent_or_was_given_is_dropped(capture, sam, dana):
    server, _address = capture
    server.append("capture", messages.reply_from_lead(to="someone@else.example"))

    result = poll_capture()

    assert result.messages == 1
    assert not Email.objects.exists()
    assert not UnmatchedEmail.objects.exists()


def test_a_killed_or_restarted_poll_logs_each_message_once(capture, sam, dana):
    server, address = capture
    for number in range(3):
        server.append(
            "capture",
            messages.bcc_to_lead(
                bcc=address, message_id=f"<m{number}@x>", subject=f"Mail {number}"
            ),
        )

    assert poll_capture().logged == 3
    folder = MailboxFolder.objects.get()
    assert folder.last_uid == 3
    # Lost state (a restored backup): the folder is read from the start again.
    MailboxFolder.objects.filter(pk=folder.pk).update(last_uid=0)
    again = poll_capture()

    assert again.messages == 3
    assert again.logged == 0
    assert Email.objects.count() == 3
    assert Activity.objects.filter(lead=dana).count() == 3


def test_a_poll_cut_short_goes_on_where_it_stopped(capture, sam, dana):
    server, address = capture
    for number in range(3):
        server.append("capture", messages.bcc_to_lead(bcc=address, message_id=f"<m{number}@x>"))
    mailbox = capture_mailbox()
    assert mailbox is not None

    first = mailbox_poll(mailbox=mailbox, limit=1)
    rest = mailbox_poll(mailbox=mailbox)

    assert (first.logged, rest.logged) == (1, 2)
    assert MailboxFolder.objects.get().last_uid == 3


def test_a_renumbered_folder_uidvalidity_is_read_again_without_doubles(capture, sam, dana):
    server, address = capture
    server.append("capture", messages.bcc_to_lead(bcc=address))
    server.append(
        "capture", messages.ATTACHED_FORWARD.replace(b"crm+TOKEN@example.com", address.encode())
    )
    poll_capture()
    before = MailboxFolder.objects.get().uid_validity
    unmatched = UnmatchedEmail.objects.count()

    server.renumber("capture")
    result = poll_capture()

    assert MailboxFolder.objects.get().uid_validity != before
    assert result.messages == 2
    assert result.logged == 0
    assert Email.objects.count() == 1
    assert UnmatchedEmail.objects.count() == unmatched


def test_a_message_seen_by_bcc_and_in_the_connected_sent_folder_is_logged_once(capture, sam, dana):
    server, address = capture
    raw = messages.bcc_to_lead(bcc=address)
    server.append("capture", raw)
    server.append("sam", raw, folder="Sent")
    mailbox = mailbox_connect(
        owner=sam,
        host="127.0.0.1",
        port=server.port,
        use_ssl=False,
        username=server.login["sam"],
        password=server.users["sam"],
        folders=["INBOX", "Sent"],
    )

    poll_capture()
    from_mailbox = mailbox_poll(mailbox=mailbox)

    assert from_mailbox.messages == 1
    assert Email.objects.count() == 1
    assert Email.objects.get().source == EmailSource.CAPTURE


def test_a_connected_mailbox_stores_only_emails_with_leads_and_marks_nothing_read(
    imap_server, sam, dana, fresh_cache
):
    imap_server.append("sam", messages.reply_from_lead())
    imap_server.append(
        "sam",
        messages.reply_from_lead(message_id="<private@friend.example>").replace(
            messages.DANA.encode(), b"friend@private.example"
        ),
    )
    mailbox = mailbox_connect(
        owner=sam,
        host="127.0.0.1",
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.login["sam"],
        password=imap_server.users["sam"],
        folders=["INBOX"],
    )

    result = mailbox_poll(mailbox=mailbox)

    assert (result.messages, result.logged) == (2, 1)
    email = Email.objects.get()
    assert (email.lead, email.source, email.direction) == (dana, EmailSource.MAILBOX, "inbound")
    # The friend's email left no trace: not even its subject, and no unmatched row.
    assert not UnmatchedEmail.objects.exists()
    assert imap_server.seen_flags("sam") == [False, False]
    # The password is stored encrypted, not as typed.
    assert imap_server.users["sam"] not in Mailbox.objects.get(pk=mailbox.pk).password_encrypted


def test_connecting_with_a_wrong_password_says_so_on_the_password_field(imap_server, sam):
    with pytest.raises(ValidationError) as refused:
        mailbox_connect(
            owner=sam,
            host="127.0.0.1",
            port=imap_server.port,
            use_ssl=False,
            username=imap_server.login["sam"],
            password="wrong",
            folders=["INBOX"],
        )

    assert "refused the username or password" in refused.value.message_dict["password"][0]
    assert not Mailbox.objects.exists()


def test_connecting_a_folder_that_does_not_exist_says_so_on_the_folders_field(imap_server, sam):
    with pytest.raises(ValidationError) as refused:
        mailbox_connect(
            owner=sam,
            host="127.0.0.1",
            port=imap_server.port,
            use_ssl=False,
            username=imap_server.login["sam"],
            password=imap_server.users["sam"],
            folders=["INBOX", "Nope"],
        )

    assert "Nope" in refused.value.message_dict["folders"][0]


def test_removing_the_connection_keeps_the_emails_it_logged(imap_server, sam, dana, fresh_cache):
    imap_server.append("sam", messages.reply_from_lead())
    mailbox = mailbox_connect(
        owner=sam,
        host="127.0.0.1",
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.login["sam"],
        password=imap_server.users["sam"],
        folders=["INBOX"],
    )
    mailbox_poll(mailbox=mailbox)

    assert mailbox_disconnect(owner=sam)

    assert not Mailbox.objects.exists()
    assert not MailboxFolder.objects.exists()
    assert Email.objects.filter(lead=dana).count() == 1


def test_the_never_log_list_applies_to_the_capture_address_and_the_mailbox(capture, sam, dana):
    server, address = capture
    never_log_update(owner=sam, text="buyer.example\nboss@seller.example")
    server.append("capture", messages.bcc_to_lead(bcc=address))
    server.append("sam", messages.reply_from_lead())
    mailbox = mailbox_connect(
        owner=sam,
        host="127.0.0.1",
        port=server.port,
        use_ssl=False,
        username=server.login["sam"],
        password=server.users["sam"],
        folders=["INBOX"],
    )

    poll_capture()
    mailbox_poll(mailbox=mailbox)

    assert not Email.objects.exists()
    assert not UnmatchedEmail.objects.exists()


def test_the_never_log_list_refuses_what_is_neither_address_nor_domain(sam):
    with pytest.raises(ValidationError) as refused:
        never_log_update(owner=sam, text="friend@private.example\nnot-a-domain")

    assert "not-a-domain" in refused.value.message_dict["never_log"][0]


def test_forwards_log_the_original_sender_and_unknown_people_wait_unmatched(capture, sam):
    server, address = capture
    finn = LeadFactory(owner=sam, email="finn@prospect.example")
    server.append("capture", with_token(messages.ATTACHED_FORWARD, address))
    server.append("capture", with_token(messages.GMAIL_INLINE_FORWARD, address))

    poll_capture()

    email = Email.objects.get(lead=finn)
    assert email.message_id == "original-intro@prospect.example"
    assert email.direction == Direction.INBOUND
    assert email.from_address == "finn@prospect.example"
    waiting = {row.person_address: row for row in UnmatchedEmail.objects.all()}
    assert set(waiting) == {"gina@prospect.example", "eve@prospect.example"}
    assert waiting["eve@prospect.example"].person_name == "Eve Example"
    assert waiting["eve@prospect.example"].subject == "Pricing question"

    lead = unmatched_create_lead(unmatched=waiting["eve@prospect.example"])

    assert (lead.first_name, lead.last_name, lead.email) == (
        "Eve",
        "Example",
        "eve@prospect.example",
    )
    assert lead.emails.get().subject == "Pricing question"
    assert UnmatchedEmail.objects.get(person_address="eve@prospect.example").status == (
        UnmatchedStatus.LOGGED
    )


def test_an_auto_reply_is_stored_without_a_signal_and_a_bounce_marks_the_lead(
    imap_server, sam, dana, fresh_cache
):
    imap_server.append("sam", messages.AUTO_REPLY)
    imap_server.append("sam", messages.BOUNCE)
    mailbox = mailbox_connect(
        owner=sam,
        host="127.0.0.1",
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.login["sam"],
        password=imap_server.users["sam"],
        folders=["INBOX"],
    )

    result = mailbox_poll(mailbox=mailbox)

    email = Email.objects.get()
    assert email.is_auto_reply
    assert email.activity is None
    assert result.bounced == 1
    dana.refresh_from_db()
    assert dana.email_bounced_at is not None
    assert not Activity.objects.filter(lead=dana, kind=ActivityKind.REPLIED).exists()


def test_a_huge_message_is_logged_with_a_cut_body_and_its_attachment_named(capture, sam, dana):
    server, address = capture
    server.append("capture", with_token(messages.huge_with_attachment(30), address))

    poll_capture()

    email = Email.objects.get()
    assert email.body_truncated
    assert email.attachment_names == ["Proposal.pdf"]


def test_a_wrong_password_is_recorded_retried_with_backoff_and_nothing_is_lost(
    capture, settings, sam, dana
):
    server, address = capture
    server.append("capture", messages.bcc_to_lead(bcc=address))
    good_url = settings.CAPTURE_IMAP_URL
    settings.CAPTURE_IMAP_URL = server.url("capture", password="wrong")

    failed = poll_capture()
    again = poll_capture()

    mailbox = capture_mailbox()
    assert mailbox is not None
    assert "refused the username or password" in failed.error
    assert mailbox.failures == 2
    assert mailbox.next_attempt_at is not None
    assert mailbox.next_attempt_at - mailbox.last_polled_at == timedelta(minutes=2)
    assert not Email.objects.exists()

    settings.CAPTURE_IMAP_URL = good_url
    fixed = poll_capture()

    mailbox.refresh_from_db()
    assert (fixed.error, fixed.logged) == ("", 1)
    assert (mailbox.failures, mailbox.last_error, mailbox.next_attempt_at) == (0, "", None)
    assert again.error


def test_an_unreachable_server_is_an_error_that_names_it(settings, sam, fresh_cache):
    settings.CAPTURE_IMAP_URL = "imap://capture:pw@127.0.0.1:9/INBOX"
    settings.CAPTURE_ADDRESS = "crm@example.com"

    result = poll_capture()

    assert "Could not reach the mail server 127.0.0.1:9" in result.error
    mailbox = capture_mailbox()
    assert mailbox is not None
    assert mailbox.last_error == result.error


def test_ssl_asked_of_a_plain_imap_port_says_which_port_to_use(capture, settings, sam):
    server, _address = capture
    settings.CAPTURE_IMAP_URL = server.url("capture").replace("imap://", "imaps://", 1)

    result = poll_capture()

    assert "Could not start a secure connection to 127.0.0.1:" in result.error
    assert "use its SSL port (usually 993), or untick SSL" in result.error


def test_one_poll_at_a_time_per_mailbox(capture, sam, dana):
    server, address = capture
    server.append("capture", messages.bcc_to_lead(bcc=address))
    mailbox = capture_mailbox()
    assert mailbox is not None
    cache.add(f"emails:mailbox-poll:{mailbox.pk}", "another run", timeout=60)

    result = mailbox_poll(mailbox=mailbox)

    assert result.locked
    assert not Email.objects.exists()


def test_capture_email_once_prints_what_it_logged(capture, sam, dana):
    server, address = capture
    server.append("capture", messages.bcc_to_lead(bcc=address))
    out = io.StringIO()

    call_command("capture_email", "--once", stdout=out)

    assert "Capture mailbox: 1 new message(s), 1 logged on leads" in out.getvalue()
    assert "logged “Your rollout plan” on Dana Buyer (outbound)" in out.getvalue()


def test_capture_email_once_fails_loudly_when_a_mailbox_cannot_be_read(settings, sam, fresh_cache):
    settings.CAPTURE_IMAP_URL = "imap://capture:pw@127.0.0.1:9/INBOX"
    settings.CAPTURE_ADDRESS = "crm@example.com"
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("capture_email", "--once", stdout=io.StringIO(), stderr=err)

    assert "Capture mailbox: could not be read" in err.getvalue()


def test_beat_reads_the_mailboxes_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="emails.tasks.poll_mailboxes")
    assert task.enabled
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (1, "minutes")


def test_a_mailbox_waiting_out_its_backoff_is_not_due(settings, sam, fresh_cache):
    from emails.mailboxes import mailboxes_due

    settings.CAPTURE_IMAP_URL = "imap://capture:pw@127.0.0.1:9/INBOX"
    settings.CAPTURE_ADDRESS = "crm@example.com"
    mailbox = capture_mailbox()
    assert mailbox is not None
    assert mailboxes_due() == [mailbox]
    Mailbox.objects.filter(pk=mailbox.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    assert mailboxes_due() == []
    assert Lead.objects.count() == 0


def test_a_date_in_the_future_is_logged_as_sent_by_now(capture, sam, dana):
    server, address = capture
    server.append(
        "capture",
        messages.bcc_to_lead(bcc=address).replace(
            b"Date: Tue, 01 Dec 2026 10:00:00 +0100", b"Date: Fri, 01 Jan 2049 10:00:00 +0000"
        ),
    )

    result = poll_capture()

    assert result.logged == 1
    assert Email.objects.get().sent_at <= timezone.now()


def test_the_salespersons_own_domain_on_the_never_log_list_keeps_their_lead_emails(
    capture, sam, dana
):
    server, address = capture
    never_log_update(owner=sam, text="seller.example")  # colleagues: never; Sam's own: yes
    server.append("capture", messages.bcc_to_lead(bcc=address))
    server.append(
        "capture",
        messages.bcc_to_lead(bcc=address, message_id="<cc-boss@x>").replace(
            b"Bcc:", b"Cc: Boss <boss@seller.example>\r\nBcc:"
        ),
    )

    assert poll_capture().logged == 1


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_has_a_real_worker_read_each_mailbox(capture, sam, dana, celery_worker):
    from emails import tasks

    server, address = capture
    server.append("capture", messages.bcc_to_lead(bcc=address))

    assert tasks.poll_mailboxes() == 1  # one poll_mailbox task per mailbox, via the broker

    assert wait_for(lambda: Email.objects.filter(lead=dana).exists())
    assert tasks.poll_mailbox(capture_mailbox().pk + 1000) == {"messages": 0}  # removed since


def _database_url() -> str:
    from django.db import connection

    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user = database["USER"] or "postgres"
    return f"postgres://{user}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def _remove_lock_of_another_process(mailbox: Mailbox) -> None:
    """Remove a poll lock as a process with the project's own cache settings (no test prefix)
    wrote it: a killed run leaves its lock behind for LOCK_SECONDS, which would keep the next
    run of this test (a new database, the same mailbox id) from polling at all."""
    from django.utils.module_loading import import_string

    from leadhunter import settings as project_settings

    config = project_settings.CACHES["default"]
    params = {key: value for key, value in config.items() if key not in ("BACKEND", "LOCATION")}
    backend = import_string(config["BACKEND"])(config["LOCATION"], params)
    backend.delete(f"emails:mailbox-poll:{mailbox.pk}")


@pytest.mark.django_db(transaction=True)
def test_a_poll_killed_mid_batch_logs_each_message_once_when_run_again(capture, sam, dana):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings as django_settings

    server, address = capture
    count = 150
    server.append_many(
        "capture",
        [messages.bcc_to_lead(bcc=address, message_id=f"<k{n}@x>") for n in range(count)],
    )
    environ = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": _database_url(),
        "CAPTURE_IMAP_URL": django_settings.CAPTURE_IMAP_URL,
        "CAPTURE_ADDRESS": django_settings.CAPTURE_ADDRESS,
    }
    mailbox = capture_mailbox()
    assert mailbox is not None
    _remove_lock_of_another_process(mailbox)  # one an earlier run's killed poll left
    worker = subprocess.Popen(  # our own manage.py
        [sys.executable, "manage.py", "capture_email", "--once"],
        cwd=Path(__file__).resolve().parents[2],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: Email.objects.count() >= 5, timeout=60, step=0.01)
        worker.send_signal(signal.SIGKILL)  # mid-batch: no chance to clean up
    finally:
        worker.wait(timeout=30)
        _remove_lock_of_another_process(mailbox)
    logged_before = Email.objects.count()
    assert logged_before < count, "the poll finished before it could be killed"

    result = poll_capture()

    assert result.logged == count - logged_before
    assert Email.objects.count() == count
    assert Activity.objects.filter(lead=dana).count() == count
    assert MailboxFolder.objects.get().last_uid == count


def test_forwarding_ones_own_sent_email_logs_it_outbound(capture, sam, dana):
    server, address = capture
    own_sent = messages.ATTACHED_FORWARD.replace(
        b"From: Finn Prospect <finn@prospect.example>\r\nTo: Sam Seller <sam@seller.example>",
        b"From: Sam Seller <sam@seller.example>\r\nTo: Dana Buyer <dana@buyer.example>",
    )
    server.append("capture", with_token(own_sent, address))

    poll_capture()

    email = Email.objects.get(lead=dana)
    assert email.direction == Direction.OUTBOUND
    assert email.message_id == "original-intro@prospect.example"


def test_a_folder_with_accents_is_read(imap_server, sam, dana, fresh_cache):
    from emails.imap import imap_folder_name

    sent = "Éléments envoyés"  # Outlook's Sent folder in French
    with imap_server.session("sam") as connection:
        assert connection.create(f'"{imap_folder_name(sent)}"')[0] == "OK"
    imap_server.append("sam", messages.bcc_to_lead(), folder=imap_folder_name(sent))
    mailbox = mailbox_connect(
        owner=sam,
        host="127.0.0.1",
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.login["sam"],
        password=imap_server.users["sam"],
        folders=["INBOX", sent],
    )

    result = mailbox_poll(mailbox=mailbox)

    assert (result.error, result.logged) == ("", 1)
    assert Email.objects.get().direction == Direction.OUTBOUND  # sent by Sam, from Sent
    assert MailboxFolder.objects.filter(name=sent).exists()


def test_imap_folder_names_are_modified_utf7():
    from emails.imap import imap_folder_name

    assert imap_folder_name("台北") == "&U,BTFw-"  # RFC 3501's own example
    assert imap_folder_name("Tom & Jerry") == "Tom &- Jerry"
    assert imap_folder_name("[Gmail]/Sent Mail") == "[Gmail]/Sent Mail"


def test_a_message_over_50_mb_is_read_in_part_and_still_logged(capture, sam, dana):
    from emails.imap import MAX_MESSAGE_BYTES

    server, address = capture
    raw = with_token(messages.huge_with_attachment(55), address)
    assert len(raw) > MAX_MESSAGE_BYTES
    server.append("capture", raw)

    result = poll_capture()

    assert (result.error, result.logged) == ("", 1)
    email = Email.objects.get()
    assert email.subject == "Proposal"
    assert email.body_text.startswith("All the details are in the attached proposal.")
    assert email.body_truncated
