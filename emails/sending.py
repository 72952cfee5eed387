"""Sending an email to a lead from LeadHunter, through the configured mail server (EMAIL_URL).

The flow of `email_send`:
1. re-read the lead, locked, and refuse what must never go out: a do-not-contact lead (checked
   here, at the moment of sending, whatever the page showed), a lead without an email address,
   a sender without one, an unknown merge field;
2. merge the fields (`emails.templates_merge`) into the subject and body;
3. log the email through `emails.services.email_log` (source SENT, the Message-ID the page was
   given) and hand the message to the mail server, both inside one transaction: when the server
   refuses, or cannot be reached, the transaction rolls back and nothing is logged; when the
   same form is sent twice (a double click), the Message-ID is already logged, so the second
   send stops there and nothing goes out twice.

The transaction is held while the mail server answers (at most EMAIL_TIMEOUT): that is what
makes the log and the send one step. A database failure after the server accepted the message
would leave it sent but not logged; nothing else can.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from emails.models import Email, EmailSource
from emails.services import EmailFacts, email_log
from emails.templates_merge import merge, unknown_fields, unknown_fields_message
from handraise.models import PublicPage
from leads.models import Direction, Lead


class EmailNotSent(Exception):
    """The email was not sent and nothing was logged; `str()` says why, in words.

    `refused`: LeadHunter refused it (do not contact, no address, an unknown merge field in
    `field`); otherwise the mail server failed or refused it.
    """

    def __init__(self, message: str, *, field: str | None = None, refused: bool = True) -> None:
        super().__init__(message)
        self.field = field
        self.refused = refused


@dataclass(frozen=True)
class Draft:
    """An email as it would go out: the merge done, the addresses resolved."""

    from_address: str
    from_header: str
    to_address: str
    to_header: str
    subject: str
    body: str


def merge_values(*, user: User, lead: Lead) -> dict[str, str]:
    """What each merge field stands for, for this salesperson writing to this lead."""
    referrer = lead.referred_by
    page = PublicPage.objects.filter(owner=user).only("token").first()
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company.name if lead.company else "",
        "referrer_name": referrer.name if referrer else "",
        "booking_link": settings.SITE_URL + reverse("public-page", args=[page.token])
        if page
        else "",
        "my_name": user.get_full_name() or user.get_username(),
    }


def mail_is_delivered() -> bool:
    """Whether an email sent here reaches a mail server. Without `EMAIL_URL` (the embedded
    default, `make run`) Django prints emails to the server's console instead."""
    return settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"


def new_message_id(user: User) -> str:
    """A Message-ID for an email `user` will send (without the angle brackets), on the
    domain of their address so replies thread in their mailbox."""
    domain = user.email.rpartition("@")[2] or urlsplit(settings.SITE_URL).hostname
    return make_msgid(idstring="leadhunter", domain=domain or "leadhunter.localhost").strip("<>")


def email_draft(*, user: User, lead: Lead, subject: str, body: str) -> Draft:
    """The email `user` would send to `lead` with this text; EmailNotSent when it can't go."""
    if lead.do_not_contact:
        raise EmailNotSent(
            f"{lead} asked not to be contacted: this email was not sent. "
            "Clear “Do not contact” on the lead first if they have changed their mind."
        )
    if not lead.email:
        raise EmailNotSent(
            f"{lead} has no email address. Add one on the lead's Contact card first."
        )
    if not user.email:
        raise EmailNotSent(
            "Your account has no email address to send from. Ask a sales manager to add it "
            "on the Team page."
        )
    for field, text in (("subject", subject), ("body", body)):
        unknown = unknown_fields(text)
        if unknown:
            raise EmailNotSent(unknown_fields_message(unknown), field=field)
    values = merge_values(user=user, lead=lead)
    # A subject is one line: a merged value must not start a header.
    merged_subject = _one_line(merge(subject, values))
    return Draft(
        from_address=user.email,
        from_header=formataddr(
            (_one_line(user.get_full_name() or user.get_username()), user.email)
        ),
        to_address=lead.email,
        to_header=formataddr((_one_line(str(lead)), lead.email)),
        subject=merged_subject,
        body=merge(body, values),
    )


def _one_line(text: str) -> str:
    """`text` on one line: a name or subject with a line break must not start a header."""
    return " ".join(text.split())


def email_send(*, user: User, lead: Lead, subject: str, body: str, message_id: str) -> Email:
    """Send the email to `lead` from `user`'s address and log it on the lead's timeline as an
    outbound email touch (the follow-up cadence moves). Raises EmailNotSent, logging nothing,
    when it is refused or the mail server fails. Sent twice with one `message_id`: once."""
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("company", "referred_by")
            .get(pk=lead.pk)
        )
        draft = email_draft(user=user, lead=lead, subject=subject, body=body)
        sent_at = timezone.now()
        email = email_log(
            owner=user,
            lead=lead,
            facts=EmailFacts(
                message_id=message_id,
                direction=Direction.OUTBOUND,
                source=EmailSource.SENT,
                from_address=draft.from_address,
                to_addresses=[draft.to_address],
                sent_at=sent_at,
                subject=draft.subject,
                body_text=draft.body,
            ),
        )
        if email is None:  # the same form sent again: it went out the first time
            return Email.objects.get(owner=user, lead=lead, message_id=message_id)
        message = EmailMessage(
            subject=draft.subject,
            body=draft.body,
            from_email=draft.from_header,
            to=[draft.to_header],
            headers={"Message-ID": f"<{message_id}>", "Date": formatdate(sent_at.timestamp())},
        )
        _deliver(message)
    return email


_NO_ANSWER = "The mail server did not answer in time. Nothing was sent; try again."


def _deliver(message: EmailMessage) -> None:
    """Hand `message` to the mail server; EmailNotSent with the server's answer in words."""
    try:
        delivered = get_connection(fail_silently=False).send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        answers = "; ".join(_answer(code, text) for code, text in error.recipients.values())
        raise EmailNotSent(
            f"The mail server refused the recipient: {answers}.", refused=False
        ) from error
    except smtplib.SMTPSenderRefused as error:
        raise EmailNotSent(
            f"The mail server refused your address as the sender: "
            f"{_answer(error.smtp_code, error.smtp_error)}.",
            refused=False,
        ) from error
    except smtplib.SMTPAuthenticationError as error:
        raise EmailNotSent(
            "The mail server did not accept LeadHunter's login "
            f"({_answer(error.smtp_code, error.smtp_error)}). Check EMAIL_URL.",
            refused=False,
        ) from error
    except smtplib.SMTPResponseException as error:
        raise EmailNotSent(
            f"The mail server refused the email: {_answer(error.smtp_code, error.smtp_error)}.",
            refused=False,
        ) from error
    except smtplib.SMTPServerDisconnected as error:
        # smtplib reports a server that stops answering as a disconnection.
        if isinstance(error.__context__, TimeoutError):
            raise EmailNotSent(_NO_ANSWER, refused=False) from error
        raise EmailNotSent(f"The mail server stopped the email: {error}.", refused=False) from error
    except smtplib.SMTPException as error:
        raise EmailNotSent(f"The mail server stopped the email: {error}.", refused=False) from error
    except TimeoutError as error:
        raise EmailNotSent(_NO_ANSWER, refused=False) from error
    except OSError as error:
        raise EmailNotSent(
            f"The mail server could not be reached ({error.strerror or error}). "
            "Nothing was sent; try again, or check EMAIL_URL.",
            refused=False,
        ) from error
    if not delivered:
        raise EmailNotSent(
            "The mail server did not take the email. Nothing was sent.", refused=False
        )


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"
