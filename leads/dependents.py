"""What the apps above leads do when a lead changes, handed to leads at startup.

Scores (icp) and referral sources (referrals) sit above leads in the app layers (see
docs/architecture.md): they read leads, so leads must not import them. Lead writes still have to
ask for a rescore, make a won customer a referral source and, when two leads merge, move the
duplicate's referral links; those apps register their functions here in their
AppConfig.ready(), as referrals already does for "Referred by" (leads/referrers.py). A write
that needs a function nobody registered fails loudly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from accounts.models import User
    from leads.models import Lead


class RescoreCounts(Protocol):
    scored: int
    changed: int


class Rescoring(Protocol):
    """The part of icp.rescoring that lead writes call (icp registers that module)."""

    def request_rescore(self, lead_id: int) -> None: ...

    def request_owner_rescore(self, owner_id: int) -> None: ...

    def leads_rescore_now(
        self, *, owner_id: int, lead_ids: Sequence[int], now: datetime | None = None
    ) -> int: ...

    def leads_rescore(self, *, lead_ids: Sequence[int]) -> RescoreCounts: ...


class CustomerWon(Protocol):
    """Called inside the transaction that moved a lead to Won."""

    def __call__(self, *, lead: Lead, user: User) -> object: ...


class ReferralLinks(Protocol):
    """What merging two leads needs of referrals (referrals registers these)."""

    def source_ids_of_leads(self, lead_ids: Sequence[int]) -> set[int]: ...

    def referred_lead_count_of(self, lead: Lead) -> int | None: ...

    def merge(self, *, survivor: Lead, duplicate: Lead) -> dict[str, list[int]]: ...

    def unmerge(
        self, *, survivor: Lead, duplicate: Lead, moved: Mapping[str, list[int]]
    ) -> None: ...


class MergedRows(Protocol):
    """Rows of a higher app that belong to a lead and move with it when two leads merge
    (emails registers its emails): `merge` moves the duplicate's to the survivor and returns
    their ids by kind, kept on the merge record; `unmerge` moves exactly those back."""

    def merge(self, *, survivor: Lead, duplicate: Lead) -> dict[str, list[int]]: ...

    def unmerge(
        self, *, survivor: Lead, duplicate: Lead, moved: Mapping[str, list[int]]
    ) -> None: ...


_rescoring: Rescoring | None = None
_customer_won: CustomerWon | None = None
_referral_links: ReferralLinks | None = None
_merged_rows: list[MergedRows] = []


def rescoring_register(rescoring: Rescoring) -> None:
    """Called once by the icp app at startup."""
    global _rescoring
    _rescoring = rescoring


def customer_won_register(handler: CustomerWon) -> None:
    """Called once by the referrals app at startup."""
    global _customer_won
    _customer_won = handler


def referral_links_register(links: ReferralLinks) -> None:
    """Called once by the referrals app at startup."""
    global _referral_links
    _referral_links = links


def merged_rows_register(rows: MergedRows) -> None:
    """Called once by each app whose rows hang on a lead (emails) at startup; registering the
    same object twice is a no-op."""
    if rows not in _merged_rows:
        _merged_rows.append(rows)


def merged_rows() -> list[MergedRows]:
    """What else moves when two leads merge (leads/services/merging.py)."""
    return list(_merged_rows)


def referral_links() -> ReferralLinks:
    """Referral sources and asks, as merging two leads moves them (leads/merging.py)."""
    if _referral_links is None:
        raise ImproperlyConfigured("No referral links registered: is the referrals app installed?")
    return _referral_links


def _registered_rescoring() -> Rescoring:
    if _rescoring is None:
        raise ImproperlyConfigured("No rescoring registered: is the icp app installed?")
    return _rescoring


def request_rescore(lead_id: int) -> None:
    """Rescore a lead after the caller's transaction commits (icp.rescoring.request_rescore)."""
    _registered_rescoring().request_rescore(lead_id)


def request_owner_rescore(owner_id: int) -> None:
    """Rescore all of one owner's leads after commit (icp.rescoring.request_owner_rescore)."""
    _registered_rescoring().request_owner_rescore(owner_id)


def leads_rescore_now(*, owner_id: int, lead_ids: Sequence[int]) -> int:
    """Score some of one owner's leads now, in the caller's transaction
    (icp.rescoring.leads_rescore_now)."""
    return _registered_rescoring().leads_rescore_now(owner_id=owner_id, lead_ids=lead_ids)


def leads_rescore(*, lead_ids: Sequence[int]) -> RescoreCounts:
    """Score these leads now on the caller's connection, in batches, writing only the scores
    that changed (icp.rescoring.leads_rescore): the admin's "Rescore selected leads"."""
    return _registered_rescoring().leads_rescore(lead_ids=lead_ids)


def customer_won(*, lead: Lead, user: User) -> None:
    """A lead was won: the referrals app makes the customer a referral source."""
    if _customer_won is None:
        raise ImproperlyConfigured("No customer-won handler: is the referrals app installed?")
    _customer_won(lead=lead, user=user)
