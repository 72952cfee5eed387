from __future__ import annotations

from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "Emails"

    def ready(self) -> None:
        # The lead page's timeline shows email conversations; leads must not import emails,
        # so the threads are handed to it through its hook.
        from emails.selectors import lead_timeline_emails
        from leads.selectors import timeline_source_register

        timeline_source_register(lead_timeline_emails)

        # Merging two leads deletes the duplicate: its emails move to the survivor first.
        from emails.merging import EmailsForMerging
        from leads.dependents import merged_rows_register

        merged_rows_register(EmailsForMerging())
