"""Erasing a person's emails (privacy.services.lead_erase calls it; privacy sits above emails)."""

from __future__ import annotations

from django.db import transaction

from leads.models import Lead


@transaction.atomic
def lead_emails_erase(*, lead: Lead) -> int:
    """Delete every email logged on `lead` (any owner, any road); returns how many.

    The lead's deletion would cascade to them too; erasure deletes them by name so the count
    is in its audit event and a later change to the foreign key cannot keep them.
    """
    deleted, _ = lead.emails.all().delete()
    return deleted
