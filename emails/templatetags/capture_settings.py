"""The settings page's "Email capture" section reads its data here, so the settings view
itself (in accounts, below emails) needs no change to show it."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from accounts.models import User
from emails import capture, capture_selectors
from emails.capture_forms import MailboxConnectForm, NeverLogForm
from emails.capture_models import Mailbox, MailboxKind
from emails.credentials import credentials_configured

register = template.Library()


@dataclass(frozen=True)
class CaptureSettings:
    address: str
    capture_mailbox: Mailbox | None
    mailbox: Mailbox | None
    mailbox_form: MailboxConnectForm
    never_log_form: NeverLogForm
    unmatched_count: int
    can_connect: bool


@register.simple_tag
def capture_settings_of(
    user: User,
    mailbox_form: MailboxConnectForm | None = None,
    never_log_form: NeverLogForm | None = None,
) -> CaptureSettings:
    profile = capture.capture_profile_for(owner=user)
    address = capture.capture_address_of(profile)
    capture_mailbox = Mailbox.objects.filter(kind=MailboxKind.CAPTURE).first() if address else None
    mailbox = capture_selectors.personal_mailbox_of(user)
    # A form the page did not pass resolves to "" in a template, not None.
    if not isinstance(mailbox_form, MailboxConnectForm):
        initial: dict[str, object] = {"username": user.email} if user.email else {}
        if mailbox is not None:  # "Connect again" starts from what is connected
            initial = {
                "host": mailbox.host,
                "port": mailbox.port,
                "use_ssl": mailbox.use_ssl,
                "username": mailbox.username,
                "folders": ", ".join(mailbox.folders),
            }
        mailbox_form = MailboxConnectForm(initial=initial)
    return CaptureSettings(
        address=address,
        capture_mailbox=capture_mailbox,
        mailbox=mailbox,
        mailbox_form=mailbox_form,
        never_log_form=never_log_form
        if isinstance(never_log_form, NeverLogForm)
        else NeverLogForm(initial={"never_log": profile.never_log}),
        unmatched_count=capture_selectors.unmatched_count_of(user),
        can_connect=credentials_configured(),
    )
