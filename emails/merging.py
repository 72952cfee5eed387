"""Emails move with their lead when two leads merge (registered with leads.dependents).

Leads deletes the merged duplicate; its emails would go with it. They move to the survivor,
except an email the survivor already holds (the same Message-ID for the same owner: the
message reached both leads), which stays a single copy; an undo moves back exactly the ones
that moved.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Exists, OuterRef

from emails.models import Email
from leads.models import Lead


class EmailsForMerging:
    def merge(self, *, survivor: Lead, duplicate: Lead) -> dict[str, list[int]]:
        held = Email.objects.filter(
            lead=survivor, owner_id=OuterRef("owner_id"), message_id=OuterRef("message_id")
        )
        moving = list(
            Email.objects.filter(lead=duplicate)
            .exclude(Exists(held))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Email.objects.filter(pk__in=moving).update(lead=survivor)
        return {"emails": moving}

    def unmerge(self, *, survivor: Lead, duplicate: Lead, moved: Mapping[str, list[int]]) -> None:
        Email.objects.filter(pk__in=moved.get("emails", []), lead=survivor).update(lead=duplicate)
