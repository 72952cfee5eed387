"""A company's facts: create, edit, find-or-create by name or domain. Editing a fact the scoring
reads rescores the company's leads (a few hundred at once, a bigger account in the background).
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from leads.dependents import leads_rescore_now, request_owner_rescore
from leads.models import (
    Company,
    Lead,
)
from leads.normalize import (
    normalize_domain,
)
from leads.services.validation import clean_tags, validate

# The facts of a company a person may set, and those among them the scoring reads.
EDITABLE_COMPANY_FIELDS = (
    "name",
    "domain",
    "industry",
    "employee_count",
    "annual_revenue",
    "country",
    "region",
    "city",
    "website",
    "tags",
)


SCORED_COMPANY_FIELDS = {
    "industry",
    "employee_count",
    "annual_revenue",
    "country",
    "region",
    "city",
    "tags",
}


# Up to this many leads of a company are rescored before an edit of its facts returns (a few
# statements for all of them); a bigger account's are rescored in the background.
COMPANY_RESCORE_NOW_UP_TO = 500


@transaction.atomic
def company_create(*, owner: User, name: str, domain: str = "", **fields: object) -> Company:
    company = Company(owner=owner, name=name, domain=domain, **fields)
    _normalise_company(company)
    validate(company)
    company.save()
    return company


@transaction.atomic
def company_update(*, company: Company, user: User, **fields: object) -> Company:
    """Change a company's facts (what a salesperson found out researching it).

    When the scoring reads a changed fact, the company's leads are rescored before this
    returns, in this transaction: the page that saved the facts shows the new scores at once.
    A company with more than COMPANY_RESCORE_NOW_UP_TO leads has them rescored in the
    background instead. Anything but EDITABLE_COMPANY_FIELDS is refused.
    """
    unknown = set(fields) - set(EDITABLE_COMPANY_FIELDS)
    if unknown:
        raise TypeError(f"company_update() got fields it does not accept: {sorted(unknown)}")
    before = {name: getattr(company, name) for name in fields}
    for name, value in fields.items():
        setattr(company, name, value)
    _normalise_company(company)
    validate(company)
    changed = {name for name in fields if getattr(company, name) != before[name]}
    if not changed:
        return company
    company.save(update_fields=[*sorted(changed), "updated_at"])
    if SCORED_COMPANY_FIELDS & changed:
        _rescore_company_leads(company)
    return company


def _normalise_company(company: Company) -> None:
    for name in ("name", "industry", "region", "city"):
        setattr(company, name, (getattr(company, name) or "").strip())
    company.domain = normalize_domain(company.domain or "")
    company.country = (company.country or "").strip().upper()
    company.tags = clean_tags(company.tags)


def _rescore_company_leads(company: Company) -> None:
    lead_ids = list(
        Lead.objects.filter(company=company, owner_id=company.owner_id)
        .order_by("pk")
        .values_list("pk", flat=True)[: COMPANY_RESCORE_NOW_UP_TO + 1]
    )
    if len(lead_ids) > COMPANY_RESCORE_NOW_UP_TO:
        request_owner_rescore(company.owner_id)
    else:
        leads_rescore_now(owner_id=company.owner_id, lead_ids=lead_ids)


def company_find_or_create(*, owner: User, name: str = "", domain: str = "") -> Company | None:
    """The owner's company with this domain (or, lacking one, this name), created if new."""
    domain = normalize_domain(domain)
    name = name.strip()
    if not name and not domain:
        return None
    existing = Company.objects.filter(owner=owner)
    match = existing.filter(domain=domain).first() if domain else None
    if match is None and name:
        match = existing.filter(name__iexact=name).order_by("id").first()
    if match is not None:
        if domain and not match.domain:
            match.domain = domain
            match.save(update_fields=["domain", "updated_at"])
        return match
    return company_create(owner=owner, name=name or domain, domain=domain)
