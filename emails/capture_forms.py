"""Forms of the capture side: connecting a mailbox, the never-log list, linking an email."""

from __future__ import annotations

from django import forms


class MailboxConnectForm(forms.Form):
    host = forms.CharField(
        label="IMAP server",
        max_length=255,
        help_text="Gmail: imap.gmail.com · Microsoft 365: outlook.office365.com",
        widget=forms.TextInput(attrs={"placeholder": "imap.gmail.com", "autocomplete": "off"}),
    )
    port = forms.IntegerField(label="Port", min_value=1, max_value=65535, initial=993)
    use_ssl = forms.BooleanField(label="Secure connection (SSL/TLS)", required=False, initial=True)
    username = forms.CharField(
        label="Username",
        max_length=320,
        help_text="Usually your email address.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label="Password",
        max_length=500,
        strip=False,
        help_text="For Gmail and Microsoft 365, an app password (see the README). "
        "Stored encrypted, never shown again.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    folders = forms.CharField(
        label="Folders to read",
        max_length=500,
        initial="INBOX, Sent",
        help_text="Comma-separated, e.g. INBOX, Sent (Gmail: INBOX, [Gmail]/Sent Mail).",
    )

    def folder_list(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["folders"].split(",") if name.strip()]


class NeverLogForm(forms.Form):
    never_log = forms.CharField(
        label="Never log",
        required=False,
        max_length=20_000,
        help_text="Addresses (friend@example.com) or whole domains (example.com), one per line. "
        "An email with any of them is never logged, from the capture address or your mailbox.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class UnmatchedLinkForm(forms.Form):
    lead_email = forms.EmailField(label="Lead's email address", max_length=254)
