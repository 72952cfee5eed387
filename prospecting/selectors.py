"""Reads for prospecting: warm paths into a company and lookalikes of the best customers.

Each reads a fixed number of queries whatever the number of rows (the maths is in the pure
modules `companies`, `paths` and `similarity`). What a salesperson sees of a teammate's contact
is a name and a title: the rows are read with those columns only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import User
from accounts.selectors import team_settings
from leads.models import Activity, Company, FollowUp, FollowUpKind, Lead, Stage
from leads.seniority import seniority_from_title
from prospecting import paths as warm
from prospecting import similarity
from prospecting.companies import (
    domain_of,
    email_domain,
    name_search_words,
    normalise_company_name,
    spellings,
)
from referrals.models import ReferralSource

# A company with more people than this shows its strongest paths only.
MAX_PATH_ROWS = 300
MAX_COMPANY_CANDIDATES = 500
MAX_MORE_NAMES = 5


@dataclass(frozen=True)
class MatchedCompany:
    id: int
    name: str
    domain: str
    how: str  # "domain", "name" or "same domain as …"
    own: bool


@dataclass(frozen=True)
class WarmPaths:
    query: str
    label: str
    companies: list[MatchedCompany]
    domains: list[str]
    paths: list[warm.Path]
    sharing: bool
    truncated: bool
    # Your companies whose name holds what was typed ("Helix" → Helix Bio), offered when
    # nothing is called exactly that.
    near: list[MatchedCompany] = field(default_factory=list)

    @property
    def own_companies(self) -> list[MatchedCompany]:
        return [company for company in self.companies if company.own]


# Companies offered for a partial name when none is called exactly what was typed.
NEAR_SHOWN = 5


def _name(first: str, last: str, email: str = "") -> str:
    return f"{first} {last}".strip() or email


def warm_paths(
    user: User, *, query: str = "", company: Company | None = None, now: datetime | None = None
) -> WarmPaths:
    """Who `user` can reach a company through: the company they picked, or the one they typed
    (a name in any spelling, a domain, a web address or an email address)."""
    now = now or timezone.now()
    sharing = team_settings().share_contacts
    if company is not None:
        query = company.name
        domains = {company.domain} if company.domain else set()
        key = normalise_company_name(company.name)
    else:
        typed_domain = domain_of(query)
        domains = {typed_domain} if typed_domain else set()
        key = "" if typed_domain else normalise_company_name(query)
    if not domains and not key:
        return WarmPaths(query, query, [], [], [], sharing, False)

    # A deactivated teammate can't make an intro (their work moved to someone else anyway).
    owners = Q(owner__is_active=True) | Q(owner=user) if sharing else Q(owner=user)
    # 1. Companies named so (prefiltered by their longest word in any spelling) or at a domain.
    found = Q(domain__in=sorted(domains)) if domains else Q(pk__in=[])
    words = name_search_words(key)
    if words:
        found |= reduce(or_, (Q(name__icontains=s) for s in spellings(words[0])))
    rows = list(
        Company.objects.filter(owners, found)
        .order_by("pk")
        .values_list("pk", "owner_id", "name", "domain")[:MAX_COMPANY_CANDIDATES]
    )
    how: dict[int, str] = {}
    names: dict[int, tuple[int, str, str]] = {}
    near: list[MatchedCompany] = []
    for pk, owner_id, name, domain in rows:
        if domain and domain in domains:
            how[pk] = "domain"
        elif key and normalise_company_name(name) == key:
            how[pk] = "name"
        else:
            if key and owner_id == user.pk and key in normalise_company_name(name):
                near.append(MatchedCompany(pk, name, domain, "part of the name", True))
            continue
        names[pk] = (owner_id, name, domain)
    # 2. One step further, still one query: a company found by name brings the others at its
    # domain, and one found by domain the others of its name (an "Acme Ltd" without one).
    more_domains = {names[pk][2] for pk in how if names[pk][2]} - domains
    more_keys = {normalise_company_name(names[pk][1]) for pk in how} - {key, ""}
    more_keys = set(sorted(more_keys)[:MAX_MORE_NAMES])
    further = Q(domain__in=sorted(more_domains)) if more_domains else Q(pk__in=[])
    for more_key in sorted(more_keys):
        word = name_search_words(more_key)[:1]
        if word:
            further |= reduce(or_, (Q(name__icontains=s) for s in spellings(word[0])))
    domains |= more_domains
    for pk, owner_id, name, domain in (
        Company.objects.filter(owners, further)
        .exclude(pk__in=list(how))
        .order_by("pk")
        .values_list("pk", "owner_id", "name", "domain")[:MAX_COMPANY_CANDIDATES]
    ):
        if domain and domain in more_domains:
            how[pk] = f"same domain ({domain})"
        elif normalise_company_name(name) in more_keys:
            how[pk] = "same name"
        else:
            continue
        names[pk] = (owner_id, name, domain)
    companies = sorted(
        (
            MatchedCompany(pk, names[pk][1], names[pk][2], how[pk], names[pk][0] == user.pk)
            for pk in how
        ),
        key=lambda c: (not c.own, c.how != "domain", c.name.casefold(), c.id),
    )
    label = companies[0].name if companies else query.strip()
    company_ids = list(how)

    # 3. People there: leads at those companies or with an email at those domains.
    at = Q(company_id__in=company_ids)
    for domain in sorted(domains):
        at |= Q(email__iendswith=f"@{domain}")
    people = (
        Lead.objects.filter(owners, at)
        .order_by("-won_at", "-last_contacted_at", "pk")
        .values_list(
            "pk",
            "owner_id",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
            "first_name",
            "last_name",
            "email",
            "title",
            "stage",
            "source",
            "last_contacted_at",
            "company_id",
            "company__name",
            "as_referral_source__pk",
            "as_referral_source__strength",
            "as_referral_source__opted_out",
            "do_not_contact",
        )[:MAX_PATH_ROWS]
    )
    found_paths: list[warm.Path] = []
    truncated = False
    for count, row in enumerate(people, start=1):
        truncated = count >= MAX_PATH_ROWS
        (pk, owner_id, owner_first, owner_last, owner_username, first, last, email, title) = row[:9]
        stage, source, last_contact, company_id, company_name = row[9:14]
        source_pk, source_strength, opted_out, do_not_contact = row[14:]
        name = _name(first, last, email)
        where = company_name if company_id in how else email_domain(email)
        at_where = f"at {where}" if company_id in how else f"with an email at {where}"
        if owner_id != user.pk:
            teammate = _name(owner_first, owner_last) or owner_username
            strength = warm.teammate_strength(stage=stage, last_contact=last_contact, now=now)
            relation = (
                f"{teammate}'s customer"
                if stage == Stage.WON
                else f"In {teammate}'s contacts"
                if last_contact is None
                else f"{teammate} has been in touch"
            )
            found_paths.append(
                warm.Path(
                    key=f"teammate:{owner_id}:lead:{pk}",
                    name=name if first or last else "A contact",
                    title=title,
                    kind=warm.Kind.TEAMMATE,
                    strength=strength,
                    reasons=(f"{relation} {at_where}; ask {teammate} for an intro",),
                    teammate=teammate,
                    at_company=where,
                )
            )
            continue
        kind, strength = warm.lead_strength(
            stage=stage, source=source, last_contact=last_contact, now=now
        )
        reason = {
            warm.Kind.CUSTOMER: f"Your customer {at_where}",
            warm.Kind.CONNECTION: f"Your connection {at_where} (imported from your network)",
            warm.Kind.LEAD: f"Your lead {at_where} ({Stage(stage).label})",
        }[kind]
        reasons = [reason]
        if kind != warm.Kind.CUSTOMER or last_contact is not None:
            reasons.append(_last_touch(last_contact, now))
        if source_pk is not None:
            strength = max(strength, source_strength)
            reasons.append(f"Referral source, relationship {source_strength}/5")
        found_paths.append(
            warm.Path(
                key=f"lead:{pk}",
                name=name,
                title=title,
                kind=kind,
                strength=strength,
                reasons=tuple(reasons),
                last_contact=last_contact,
                lead_id=pk,
                source_id=source_pk,
                opted_out=bool(opted_out),
                do_not_contact=do_not_contact,
                at_company=where,
            )
        )

    # 4. Your referral sources who work there (by email) or referred someone there.
    referred_there = Lead.objects.filter(
        referred_by=OuterRef("pk"), company_id__in=company_ids
    ).order_by("-created_at")
    works_there = reduce(
        or_, (Q(email__iendswith=f"@{domain}") for domain in sorted(domains)), Q(pk__in=[])
    )
    sources = (
        ReferralSource.objects.filter(owner=user)
        .filter(works_there | Exists(referred_there))
        .annotate(
            referred_first=referred_there.values("first_name")[:1],
            referred_last=referred_there.values("last_name")[:1],
            referred_company=referred_there.values("company__name")[:1],
        )
        .values_list(
            "pk",
            "name",
            "email",
            "strength",
            "opted_out",
            "lead_id",
            "last_asked_at",
            "referred_first",
            "referred_last",
            "referred_company",
        )[:MAX_PATH_ROWS]
    )
    for (
        pk,
        name,
        email,
        strength,
        opted_out,
        lead_id,
        last_asked,
        r_first,
        r_last,
        r_company,
    ) in sources:
        works = email_domain(email) in domains
        reasons = []
        if works:
            reasons.append(f"Referral source with an email at {email_domain(email)}")
        if r_company:
            reasons.append(f"Referred {_name(r_first or '', r_last or '')} at {r_company} to you")
        reasons.append(f"Relationship {strength}/5")
        found_paths.append(
            warm.Path(
                key=f"lead:{lead_id}" if lead_id else f"source:{pk}",
                name=name,
                title="",
                kind=warm.Kind.SOURCE if works else warm.Kind.REFERRER,
                strength=warm.source_strength(strength, works_there=works),
                reasons=tuple(reasons),
                last_contact=last_asked,
                lead_id=lead_id,
                source_id=pk,
                opted_out=opted_out,
                at_company=r_company or email_domain(email),
            )
        )
    return WarmPaths(
        query=query,
        label=label,
        companies=companies,
        domains=sorted(domains),
        paths=warm.ranked(found_paths),
        sharing=sharing,
        truncated=truncated,
        near=[] if companies else sorted(near, key=lambda c: c.name.casefold())[:NEAR_SHOWN],
    )


def _last_touch(last_contact: datetime | None, now: datetime) -> str:
    if last_contact is None:
        return "never contacted"
    days = (now - last_contact).days
    if days < 1:
        return "in touch today"
    if days < 60:
        return f"last in touch {days} day{'s' if days != 1 else ''} ago"
    return f"last in touch {days // 30} months ago"


# --- Lookalikes ----------------------------------------------------------------------------

LOOKALIKE_ROWS = 25
LOOKALIKE_COMPANY_ROWS = 10

_FACT_COLUMNS = (
    "company__industry",
    "company__employee_count",
    "company__country",
    "company__region",
    "seniority",
    "title",
    "tags_text",
    "company_tags_text",
)


def _as_text(column: str) -> Cast:
    """A JSON column read as its text: parsed once per distinct value (`_Profiles.tags`), not
    once per row by the JSONField."""
    return Cast(column, output_field=TextField())


class _Profiles:
    """Profiles from value rows, made once per distinct row, with each distinct title's
    seniority and each distinct tag list parsed once: a salesperson's thousands of contacts
    share a few hundred companies, titles and tag lists (the lookalikes page's hot loop)."""

    def __init__(self) -> None:
        self._made: dict[tuple, similarity.Profile] = {}
        self._seniority: dict[str, str] = {}
        self._tags: dict[str | None, tuple[str, ...]] = {}

    def seniority(self, seniority: str, title: str) -> str:
        if seniority:
            return seniority
        if title not in self._seniority:
            self._seniority[title] = seniority_from_title(title)
        return self._seniority[title]

    def tags(self, text: str | None) -> tuple[str, ...]:
        if text not in self._tags:
            value = json.loads(text) if text else []
            self._tags[text] = tuple(map(str, value)) if isinstance(value, list) else ()
        return self._tags[text]

    def __call__(
        self, industry, employees, country, region, seniority, title, tags_text, company_tags_text
    ) -> similarity.Profile:
        key = (industry, employees, country, region, seniority, title, tags_text, company_tags_text)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = similarity.profile(
                industry=industry,
                employee_count=employees,
                country=country,
                region=region,
                seniority=self.seniority(seniority, title),
                tags=(*self.tags(tags_text), *self.tags(company_tags_text)),
            )
        return made


@dataclass(frozen=True)
class Lookalike:
    lead_id: int
    name: str
    title: str
    company_id: int | None
    company_name: str
    score: float
    explanation: similarity.Explanation
    in_pool_due: datetime | None

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class CompanyLookalike:
    id: int
    name: str
    score: float
    explanation: similarity.Explanation

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class Lookalikes:
    customers: int
    won_value: Decimal
    candidates: int
    leads: list[Lookalike]
    companies: list[CompanyLookalike]


def lookalike_model(user: User, profile_of: _Profiles | None = None) -> similarity.Model:
    """The user's won customers, each weighted by its won value. One query."""
    profile_of = profile_of or _Profiles()
    rows = (
        Lead.objects.filter(owner=user, stage=Stage.WON)
        .order_by("-expected_value", "pk")
        .annotate(tags_text=_as_text("tags"), company_tags_text=_as_text("company__tags"))
        .values_list("pk", "first_name", "last_name", "email", "expected_value", *_FACT_COLUMNS)
    )
    return similarity.Model(
        [
            similarity.Customer(
                id=pk, name=_name(first, last, email), facts=profile_of(*facts), value=value
            )
            for pk, first, last, email, value, *facts in rows
        ]
    )


def unworked_leads(user: User) -> QuerySet[Lead]:
    """The user's contacts nobody has worked yet: New or Nurture, never contacted, no activity
    logged, not do-not-contact. Those waiting in the network pool are included (the page shows
    their reconnect's day)."""
    return Lead.objects.filter(
        owner=user,
        stage__in=[Stage.NEW, Stage.NURTURE],
        last_contacted_at__isnull=True,
        do_not_contact=False,
    ).exclude(Exists(Activity.objects.filter(lead=OuterRef("pk"))))


def lookalikes(
    user: User, *, rows: int = LOOKALIKE_ROWS, company_rows: int = LOOKALIKE_COMPANY_ROWS
) -> Lookalikes:
    """The user's unworked contacts and untouched companies, most like their won customers
    (weighted by won value) first, each with why. Four queries.

    Thousands of contacts share a few hundred companies and titles: the contacts are read
    slim (company, seniority, title, tags as text), each distinct combination is made a
    profile and scored once, and only the rows shown are read in full.
    """
    profile_of = _Profiles()
    model = lookalike_model(user, profile_of)
    won_value = sum((customer.value for customer in model.customers if customer.value), Decimal(0))
    if not model:
        return Lookalikes(0, Decimal(0), 0, [], [])
    # Scoped to the owner too: PostgreSQL then reads their leads by index (~9 ms at 10k)
    # instead of scanning everyone's (~120 ms at 100k).
    worked = Lead.objects.filter(owner=user, company=OuterRef("pk")).filter(
        Q(stage=Stage.WON) | Q(last_contacted_at__isnull=False)
    )
    companies = {
        pk: (
            name,
            similarity.profile(
                industry=industry,
                employee_count=size,
                country=country,
                region=region,
                tags=profile_of.tags(tags_text),
            ),
            is_worked,
        )
        for pk, name, industry, size, country, region, tags_text, is_worked in (
            Company.objects.filter(owner=user)
            .annotate(is_worked=Exists(worked), tags_text=_as_text("tags"))
            .order_by()
            .values_list(
                "pk",
                "name",
                "industry",
                "employee_count",
                "country",
                "region",
                "tags_text",
                "is_worked",
            )
        )
    }
    candidates = list(
        unworked_leads(user)
        .annotate(tags_text=_as_text("tags"))
        .order_by()
        .values_list("pk", "company_id", "seniority", "title", "tags_text")
    )
    nowhere = similarity.Profile()
    made: dict[tuple, similarity.Profile] = {}
    score_of: dict[similarity.Profile, float] = {}
    profiles: dict[int, similarity.Profile] = {}
    scores: dict[int, float] = {}
    for pk, company_id, seniority, title, tags_text in candidates:
        key = (company_id, seniority or title, tags_text)
        facts = made.get(key)
        if facts is None:
            company = companies.get(company_id)
            base = company[1] if company else nowhere
            facts = made[key] = similarity.Profile(
                industry=base.industry,
                size_band=base.size_band,
                country=base.country,
                region=base.region,
                seniority=profile_of.seniority(seniority, title),
                tags=base.tags | similarity.profile(tags=profile_of.tags(tags_text)).tags,
            )
        if facts not in score_of:
            score_of[facts] = model.score(facts)
        profiles[pk], scores[pk] = facts, score_of[facts]
    best = [pk for pk in similarity.rank(scores)[:rows] if scores[pk] > 0]
    pool_due = FollowUp.objects.filter(
        lead=OuterRef("pk"), kind=FollowUpKind.RECONNECT, done_at__isnull=True
    ).values("due_at")[:1]
    shown = {
        row[0]: row
        for row in Lead.objects.filter(pk__in=best)
        .annotate(pool_due=pool_due)
        .values_list("pk", "first_name", "last_name", "email", "title", "company_id", "pool_due")
    }
    found = []
    for pk in best:
        _pk, first, last, email, title, company_id, due = shown[pk]
        company = companies.get(company_id)
        found.append(
            Lookalike(
                lead_id=pk,
                name=_name(first, last, email),
                title=title,
                company_id=company_id if company else None,
                company_name=company[0] if company else "",
                score=scores[pk],
                explanation=model.explain(profiles[pk]),
                in_pool_due=due,
            )
        )

    # Companies: the user's with no customer and nobody contacted yet, on company facts alone.
    company_scores = {
        pk: model.score(facts)
        for pk, (_name_, facts, is_worked) in companies.items()
        if not is_worked
    }
    return Lookalikes(
        customers=len(model.customers),
        won_value=won_value,
        candidates=len(candidates),
        leads=found,
        companies=[
            CompanyLookalike(
                id=pk,
                name=companies[pk][0],
                score=company_scores[pk],
                explanation=model.explain(companies[pk][1]),
            )
            for pk in similarity.rank(company_scores)[:company_rows]
            if company_scores[pk] > 0
        ],
    )
