"""The referral side of merging two leads, as leads.dependents.ReferralLinks asks for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leads.models import Lead
from referrals import selectors, services


class ReferralLinksForMerging:
    """Registered with leads at startup (referrals/apps.py); each method calls one selector or
    service of this app."""

    def source_ids_of_leads(self, lead_ids: Sequence[int]) -> set[int]:
        return selectors.referral_source_ids_of_leads(lead_ids)

    def referred_lead_count_of(self, lead: Lead) -> int | None:
        return selectors.referred_lead_count_of(lead)

    def merge(self, *, survivor: Lead, duplicate: Lead) -> dict[str, list[int]]:
        return services.referral_links_merge(survivor=survivor, duplicate=duplicate)

    def unmerge(self, *, survivor: Lead, duplicate: Lead, moved: Mapping[str, list[int]]) -> None:
        services.referral_links_unmerge(survivor=survivor, duplicate=duplicate, moved=moved)
