"""Demo accounts and sample data for `make run` on an empty database.

Everything is created through the services, so the demo has the history, follow-ups and
scores real use would give it. Dates are passed to the services with `now=`: closed deals are
spread over the last six months, while open leads were touched recently, as in a pipeline
someone works every day (a few have sat in their stage too long, so "Going cold" shows). A
fixed random seed makes every demo database the same.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from icp import services as icp_services
from icp.rescoring import leads_rescore
from leads import services as lead_services
from leads.models import STAGE_LIMIT_DAYS, Company, FollowUp, Lead, Source, Stage
from referrals import services as referral_services

DEMO_PASSWORD = "leadhunter-demo"  # noqa: S105 - printed to the user by `make run`
SEED = 20261128

COMPANIES = [
    ("Northwind Analytics", "northwind-analytics.com", "Software", 220, "GB", "London"),
    ("Brightline Payments", "brightline.io", "Fintech", 480, "GB", "Manchester"),
    ("Kestrel Logistics", "kestrel-logistics.de", "Logistics", 1300, "DE", "Hamburg"),
    ("Tulip Health", "tulip-health.nl", "Healthcare", 90, "NL", "Amsterdam"),
    ("Harbour & Finch", "harbourfinch.co.uk", "Professional services", 60, "GB", "Bristol"),
    ("Arcadia Retail Group", "arcadia-retail.fr", "Retail", 5200, "FR", "Lyon"),
    ("Quanta Robotics", "quantarobotics.com", "Manufacturing", 750, "US", "Austin"),
    ("Lumen Ledger", "lumenledger.com", "Fintech", 140, "IE", "Dublin"),
    ("Copperleaf Software", "copperleaf.dev", "Software", 35, "GB", "Leeds"),
    ("Fjord Freight", "fjordfreight.no", "Logistics", 410, "NO", "Bergen"),
    ("Meridian Clinics", "meridianclinics.ie", "Healthcare", 260, "IE", "Cork"),
    ("Stackhouse Cloud", "stackhouse.cloud", "Software", 610, "DE", "Berlin"),
    ("Orchard Foods", "orchardfoods.co.uk", "Retail", 1800, "GB", "Birmingham"),
    ("Vantage Insurance", "vantage-insure.com", "Fintech", 2400, "US", "Chicago"),
    ("Pinecrest Partners", "pinecrest.partners", "Professional services", 25, "NL", "Utrecht"),
    ("Helix Bio", "helixbio.eu", "Healthcare", 330, "DE", "Munich"),
    ("Slate Metrics", "slatemetrics.io", "Software", 95, "FR", "Paris"),
    ("Ironbridge Manufacturing", "ironbridge-mfg.co.uk", "Manufacturing", 980, "GB", "Sheffield"),
    ("Beacon Transit", "beacontransit.com", "Logistics", 150, "US", "Denver"),
    ("Juniper Legal", "juniperlegal.ie", "Professional services", 70, "IE", "Galway"),
]
FIRST_NAMES = [
    "Amira",
    "Ben",
    "Chloé",
    "Dev",
    "Elena",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nils",
    "Olivia",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sanjay",
    "Tess",
    "Umar",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zoë",
    "Aoife",
    "Björn",
    "Carmen",
    "Dmitri",
]
LAST_NAMES = [
    "Okafor",
    "Hughes",
    "Dubois",
    "Patel",
    "Rossi",
    "Larsen",
    "O'Neill",
    "Meyer",
    "Campbell",
    "Nakamura",
    "Fischer",
    "Walsh",
    "García",
    "Eriksen",
    "Kowalski",
    "Bauer",
    "Murphy",
    "Singh",
    "Moreau",
    "Jansen",
    "Byrne",
    "Novak",
    "Schmidt",
    "Ahmed",
]
TITLES = [
    ("Head of Sales", "director"),
    ("VP Revenue", "vp"),
    ("Chief Operating Officer", "c_level"),
    ("Operations Manager", "manager"),
    ("Founder & CEO", "owner"),
    ("Sales Operations Lead", "manager"),
    ("Director of Operations", "director"),
    ("Account Executive", "individual"),
    ("Chief Financial Officer", "c_level"),
    ("Head of Logistics", "director"),
]
# Where the demo salesperson's leads come from: mostly self-sourced, as the product argues.
SOURCE_WEIGHTS = {
    Source.REFERRAL: 22,
    Source.OWN_NETWORK: 22,
    Source.HAND_RAISER: 14,
    Source.ICP_PROSPECTING: 20,
    Source.MARKETING: 14,
    Source.EVENT: 6,
    Source.OTHER: 2,
}
STAGE_WEIGHTS = {
    Stage.NEW: 12,
    Stage.CONTACTED: 30,
    Stage.ENGAGED: 12,
    Stage.QUALIFIED: 10,
    Stage.PROPOSAL: 8,
    Stage.WON: 12,
    Stage.LOST: 8,
    Stage.NURTURE: 6,
}
PATH = [Stage.CONTACTED, Stage.ENGAGED, Stage.QUALIFIED, Stage.PROPOSAL]
# One lead in this many is left in its stage past the limit, so "Going cold" has examples
# (counted, not drawn at random: a small team's demo could otherwise get many or none).
COLD_EVERY = 12
# The share of hand-raisers in Engaged not answered yet: they head the Today page.
UNANSWERED_SHARE = 0.15
# One partner per demo salesperson, each their own, so no two referral sources share a name.
PARTNERS = [
    ("Priya Natarajan (partner agency)", "priya@natarajan-partners.example"),
    ("Tomás Herrera (reseller)", "tomas@herrera-resellers.example"),
]
LOST_REASONS = [
    "Went with a competitor",
    "No budget this year",
    "Project cancelled",
    "No decision maker",
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str


@dataclass
class DemoResult:
    logins: list[DemoLogin] = field(default_factory=list)
    leads: int = 0


def load_demo_if_empty() -> DemoResult | None:
    """Create the demo team and its data; do nothing when any user exists."""
    if User.objects.exists():
        return None
    with transaction.atomic():
        result = _load()
    for owner in User.objects.filter(leads__isnull=False).distinct():
        leads_rescore(owner_id=owner.pk)
    return result


def _load() -> DemoResult:
    rng = random.Random(SEED)
    now = timezone.now()
    result = DemoResult()
    sam = account_services.user_create(
        username="sam",
        password=DEMO_PASSWORD,
        email="sam@example.com",
        first_name="Sam",
        last_name="Rivera",
        time_zone="Europe/London",
        is_demo=True,
    )
    jordan = account_services.user_create(
        username="jordan",
        password=DEMO_PASSWORD,
        email="jordan@example.com",
        first_name="Jordan",
        last_name="Blake",
        time_zone="America/New_York",
        is_demo=True,
    )
    account_services.user_create(
        username="morgan",
        password=DEMO_PASSWORD,
        email="morgan@example.com",
        first_name="Morgan",
        last_name="Lee",
        time_zone="Europe/London",
        is_manager=True,
        is_demo=True,
    )
    result.logins = [
        DemoLogin("salesperson", "sam", DEMO_PASSWORD),
        DemoLogin("salesperson", "jordan", DEMO_PASSWORD),
        DemoLogin("manager", "morgan", DEMO_PASSWORD),
    ]
    lead_counts = ((sam, 200), (jordan, 60))
    # Every demo person has a name of their own: two leads (or two referral sources, which
    # customers become) called the same would look like a duplicate nobody merged.
    all_names = list(itertools.product(FIRST_NAMES, LAST_NAMES))
    names = iter(rng.sample(all_names, k=sum(count for _, count in lead_counts)))
    for (owner, count), partner in zip(lead_counts, PARTNERS, strict=True):
        _create_icps(owner)
        companies = [
            lead_services.company_create(
                owner=owner,
                name=name,
                domain=domain,
                industry=industry,
                employee_count=employees,
                country=country,
                city=city,
            )
            for name, domain, industry, employees, country, city in COMPANIES
        ]
        leads = [
            _create_lead(owner, companies, rng, now, index, next(names)) for index in range(count)
        ]
        _create_referral_chain(owner, leads, partner, rng, now)
        result.leads += len(leads)
    lead_services.follow_ups_schedule_missing(now=now)
    _spread_follow_ups(rng, now)
    return result


def _spread_follow_ups(rng: random.Random, now: datetime) -> None:
    """Make the demo look like a well-kept pipeline, not one abandoned for months.

    The simulated history leaves many follow-ups due long ago; a salesperson who kept up
    would have a handful due today or yesterday and the rest over the coming weeks. This
    reshapes sample data only, so it writes the rows directly.
    """
    stale = list(FollowUp.objects.filter(done_at__isnull=True, due_at__lt=now - timedelta(days=1)))
    rng.shuffle(stale)
    for index, follow_up in enumerate(stale):
        if index < 8:
            follow_up.due_at = now - timedelta(hours=rng.randint(1, 30))
        else:
            follow_up.due_at = now + timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 6))
    FollowUp.objects.bulk_update(stale, ["due_at"])
    for follow_up in stale:
        Lead.objects.filter(pk=follow_up.lead_id).update(next_follow_up_at=follow_up.due_at)


def _create_icps(owner: User) -> None:
    saas = icp_services.icp_create(
        owner=owner,
        name="Mid-market SaaS & fintech, Europe",
        description="Software and fintech companies of 50–1,000 people in Western Europe.",
    )
    icp_services.criterion_create(
        icp=saas, field="industry", operator="one_of", value=["Software", "Fintech"], weight=30
    )
    icp_services.criterion_create(
        icp=saas,
        field="employee_count",
        operator="range",
        value={"min": 50, "max": 1000},
        weight=25,
        required=True,
    )
    icp_services.criterion_create(
        icp=saas,
        field="country",
        operator="one_of",
        value=["GB", "IE", "NL", "DE", "FR"],
        weight=20,
    )
    icp_services.criterion_create(
        icp=saas,
        field="seniority",
        operator="one_of",
        value=["director", "vp", "c_level", "owner"],
        weight=25,
    )
    logistics = icp_services.icp_create(
        owner=owner,
        name="Logistics operators",
        description="Freight and transport firms with 200+ staff.",
    )
    icp_services.criterion_create(
        icp=logistics,
        field="industry",
        operator="equals",
        value="Logistics",
        weight=40,
        required=True,
    )
    icp_services.criterion_create(
        icp=logistics, field="employee_count", operator="range", value={"min": 200}, weight=30
    )
    icp_services.criterion_create(
        icp=logistics, field="title", operator="contains", value="operations", weight=30
    )


def _create_lead(
    owner: User,
    companies: list[Company],
    rng: random.Random,
    now: datetime,
    index: int,
    name: tuple[str, str],
) -> Lead:
    first, last = name
    company = rng.choice(companies + [None] * 2)
    title, seniority = rng.choice(TITLES)
    domain = company.domain if company else "gmail.com"
    local = _ascii(f"{first}.{last}".lower())
    email = f"{local}{index}@{domain}" if rng.random() < 0.85 else ""
    source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
    target = rng.choices(list(STAGE_WEIGHTS), weights=list(STAGE_WEIGHTS.values()))[0]
    cold = index % COLD_EVERY == COLD_EVERY - 1
    created, moments = _timeline(target, rng, now, cold=cold)
    lead = lead_services.lead_create(
        owner=owner,
        now=created,
        first_name=first,
        last_name=last,
        email=email,
        title=title,
        seniority=seniority,
        company=company,
        source=source,
        linkedin_url=f"https://www.linkedin.com/in/{local}-{index}" if rng.random() < 0.6 else "",
        expected_value=Decimal(rng.choice([4_000, 8_000, 12_000, 18_000, 25_000, 40_000, 60_000])),
        tags=rng.sample(
            ["decision-maker", "warm", "conference-2026", "expansion", "budget-q1"],
            k=rng.randint(0, 2),
        ),
    )
    Lead.objects.filter(pk=lead.pk).update(created_at=created)
    lead.refresh_from_db()
    _walk_pipeline(lead, target, rng, moments, now)
    return lead


def _ascii(text: str) -> str:
    """'chloé.o'neill' → 'chloe.oneill', for email addresses and profile URLs."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = (char for char in decomposed if char.isascii() and (char.isalnum() or char == "."))
    return "".join(kept)


def _steps_to(target: str) -> int:
    """How many dated steps `_walk_pipeline` takes to bring a lead into the open stage `target`:
    a first touch, a hand-raise, then a meeting and a stage change per stage after Engaged."""
    if target == Stage.NEW:
        return 0
    if target == Stage.CONTACTED:
        return 1
    return 2 + 2 * len(_path_to(target))


def _path_to(target: str) -> list[str]:
    """The stages after Engaged a lead passes on its way to `target`."""
    return {Stage.WON: PATH[2:], Stage.LOST: PATH[2:3]}.get(
        target, PATH[2 : PATH.index(target) + 1] if target in PATH else []
    )


def _timeline(
    target: str, rng: random.Random, now: datetime, *, cold: bool
) -> tuple[datetime, Iterator[datetime]]:
    """When the demo lead was created, and the moments its walk through the pipeline happens.

    An open lead reaches its stage recently, inside the stage's going-cold limit, unless it is
    one of the few `cold` ones, left there past it; its earlier steps lie days apart before that.
    Closed and nurtured leads start any time in the last six months and move within weeks.
    """
    limit = STAGE_LIMIT_DAYS.get(target)
    if limit is not None:
        share = rng.uniform(1.3, 3) if cold else rng.uniform(0.02, 0.7)
        entered = now - timedelta(days=limit * share)
        # Days between steps, but hours between a meeting and the stage change it led to.
        gaps = [
            timedelta(days=rng.uniform(0.05, 0.4) if step >= 3 and step % 2 else rng.uniform(1, 6))
            for step in range(_steps_to(target))
        ]
        created = entered - sum(gaps, timedelta())
        moments = itertools.accumulate(gaps, initial=created)
        next(moments)  # the creation itself
        return created, itertools.chain(moments, itertools.repeat(entered))
    created = now - timedelta(days=rng.randint(1, 180), hours=rng.randint(0, 8))
    # Deals move within weeks of first contact, so wins spread over the months shown.
    span = min(max((now - created).total_seconds(), 3600), timedelta(days=45).total_seconds())

    def moments_after() -> Iterator[datetime]:
        moment = created
        while True:
            moment = min(now, moment + timedelta(seconds=rng.uniform(0.05, 0.2) * span))
            yield moment

    return created, moments_after()


def _walk_pipeline(
    lead: Lead, target: str, rng: random.Random, moments: Iterator[datetime], now: datetime
) -> None:
    """Touch the lead and move it along until it reaches the demo's target stage."""
    if target == Stage.NEW:
        return

    moment = lead.created_at

    def later() -> datetime:
        nonlocal moment
        moment = next(moments)
        return moment

    owner = lead.owner
    outcome = rng.choice(["no_answer", "voicemail", "connected"])
    lead_services.activity_log(
        lead=lead,
        user=owner,
        kind=rng.choice(["call", "email", "linkedin"]),
        outcome=outcome,
        occurred_at=later(),
        now=moment,
    )
    if target == Stage.CONTACTED:
        return
    if target == Stage.NURTURE:
        for _ in range(3):
            lead_services.activity_log(
                lead=lead, user=owner, kind="email", occurred_at=later(), now=moment
            )
        lead.refresh_from_db()
        if lead.stage != Stage.NURTURE:
            lead_services.lead_change_stage(
                lead=lead, to_stage=Stage.NURTURE, user=owner, reason="Not now", now=later()
            )
        return
    signal = rng.choice(
        ["replied", "asked_for_info", "asked_for_demo", "attended_event", "was_introduced"]
    )
    lead_services.activity_log(lead=lead, user=owner, kind=signal, occurred_at=later(), now=moment)
    if target == Stage.ENGAGED and rng.random() >= UNANSWERED_SHARE:
        # The salesperson answered the hand-raise, some time between it and now.
        answered_at = moment + (now - moment) * rng.uniform(0.1, 0.9)
        lead_services.activity_log(
            lead=lead, user=owner, kind="email", occurred_at=answered_at, now=answered_at
        )
    for stage in _path_to(target):
        meeting_at = later()
        lead_services.activity_log(
            lead=lead,
            user=owner,
            kind="meeting",
            outcome="connected",
            occurred_at=meeting_at,
            now=meeting_at,
        )
        changed_at = later()
        lead.refresh_from_db()
        if lead.stage != stage:
            lead_services.lead_change_stage(lead=lead, to_stage=stage, user=owner, now=changed_at)
    if target in (Stage.WON, Stage.LOST):
        reason = rng.choice(LOST_REASONS) if target == Stage.LOST else ""
        lead.refresh_from_db()
        lead_services.lead_change_stage(
            lead=lead, to_stage=target, user=owner, reason=reason, now=later()
        )


def _create_referral_chain(
    owner: User, leads: list[Lead], partner: tuple[str, str], rng: random.Random, now: datetime
) -> None:
    """Customers who referred people who became customers and referred again, plus a partner."""
    customers = list(Lead.objects.filter(owner=owner, stage=Stage.WON).order_by("won_at"))
    referred = [
        lead for lead in leads if lead.source == Source.REFERRAL and lead.stage != Stage.WON
    ]
    if len(customers) < 2:
        return
    first, second = customers[0], customers[1]
    first_source = first.as_referral_source
    referral_services.referral_source_update(source=first_source, strength=5)
    ask = referral_services.referral_ask_record(
        source=first_source,
        user=owner,
        channel="meeting",
        asked_at=first.won_at + timedelta(days=35),
    )
    referral_services.referral_link_lead(lead=second, source=first_source, user=owner, ask=ask)
    second_source = second.as_referral_source
    for lead in referred[:3]:
        referral_services.referral_link_lead(lead=lead, source=second_source, user=owner)
    for customer in customers[2:]:
        source = customer.as_referral_source
        referral_services.referral_source_update(source=source, strength=rng.randint(2, 5))
    partner_name, partner_email = partner
    partner_source = referral_services.referral_source_create(
        owner=owner,
        name=partner_name,
        email=partner_email,
        kind="partner",
        strength=4,
        ask_cadence_days=60,
        now=now - timedelta(days=2),
    )
    for lead in referred[3:6]:
        referral_services.referral_link_lead(lead=lead, source=partner_source, user=owner)
    # The other referrals are credited too, round the three referrers (not by `rng`: the rest of
    # the demo stays as it was), so the reports count them as referred leads; the last two are
    # left for the lead page's "Who referred this?" to show.
    credited = {first.pk, second.pk, *(lead.pk for lead in referred[:6])}
    rest = [lead for lead in leads if lead.source == Source.REFERRAL and lead.pk not in credited]
    referrers = [first_source, second_source, partner_source]
    for index, lead in enumerate(rest[:-2]):
        referrer = referrers[index % len(referrers)]
        if referrer.lead_id != lead.pk:
            referral_services.referral_link_lead(lead=lead, source=referrer, user=owner)


def demo_logins() -> list[DemoLogin]:
    """The demo accounts one can still log in to with the demo password, for `make run`'s
    banner: none once the demo data is removed, a demo user deactivated or their password
    changed."""
    logins = []
    for user in User.objects.filter(is_demo=True, is_active=True).order_by("pk"):
        if user.check_password(DEMO_PASSWORD):
            role = "sales manager" if user.is_manager else "salesperson"
            logins.append(DemoLogin(role, user.username, DEMO_PASSWORD))
    return logins
