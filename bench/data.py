"""The bench data set: the same rows for the same seed and sizes, loaded fast.

Rows are written straight into the tables (COPY through psycopg 3's `cursor.copy()` on
PostgreSQL, `executemany` on SQLite) with explicit primary keys, bypassing the services on
purpose: a bench needs a million rows in seconds and must not enqueue a rescore per lead.
Timestamps are offsets from the `now` the load is given, so "today" always has work in it.
The denormalised lead fields (next follow-up, last contacted, last inbound) are computed from
the generated follow-ups and activities, as the services would have kept them.

No change history (simple-history) rows are generated: the lead page's history section is one
query with a LIMIT whatever the table holds.
"""

from __future__ import annotations

import csv
import json
import random
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, models, transaction

from accounts.models import User
from icp.models import ICP, Criterion, Field, Operator
from leads.models import (
    HAND_RAISE_KINDS,
    OPEN_STAGES,
    Activity,
    ActivityKind,
    Company,
    FollowUp,
    FollowUpKind,
    Lead,
    LeadSearchEntry,
    Seniority,
    Source,
    Stage,
    StageChange,
    furthest_stage,
)
from referrals.models import ReferralAsk, ReferralSource

PASSWORD = "bench-password-not-secret"  # noqa: S105 - a local bench database's users
MANAGER_USERNAMES = ("bench-manager-1", "bench-manager-2")
SALESPERSON = "bench-sam"  # owns a tenth of the leads (10k of 100k)
TINY_SALESPERSON = "bench-tiny"  # owns 10 leads: the Today page's queries must not change
TINY_LEADS = 10
# A Monday morning: bench-monday owns 1,000 open leads, none going cold, and 300 of their
# follow-ups came due over the weekend; Today must find the best of the 300, not the soonest.
MONDAY_SALESPERSON = "bench-monday"
MONDAY_LEADS = 1_000
MONDAY_DUE = 300
MONDAY_STAGES = (Stage.CONTACTED, Stage.ENGAGED, Stage.QUALIFIED, Stage.PROPOSAL)
# Lead 1 (bench-sam's) has this many activities: the lead page with a long history.
LONG_HISTORY_LEAD_ID = 1
LONG_HISTORY_ACTIVITIES = 200
# Lead 2 (bench-sam's) has two: the same page with a short one, for the query count.
SHORT_HISTORY_LEAD_ID = 2

FIRST_NAMES = [
    "Aisha",
    "Alex",
    "Amelia",
    "Ana",
    "Arjun",
    "Ben",
    "Carla",
    "Chen",
    "Chloe",
    "Daniel",
    "David",
    "Elena",
    "Emma",
    "Erik",
    "Fatima",
    "Felix",
    "Grace",
    "Hannah",
    "Hugo",
    "Ines",
    "Isaac",
    "Jakub",
    "James",
    "Jana",
    "Kenji",
    "Lara",
    "Leo",
    "Lena",
    "Liam",
    "Lucia",
    "Maja",
    "Marco",
    "Maria",
    "Mateo",
    "Mia",
    "Noah",
    "Nora",
    "Olivia",
    "Omar",
    "Oscar",
    "Paul",
    "Priya",
    "Rafael",
    "Rosa",
    "Ryan",
    "Sara",
    "Sofia",
    "Tom",
    "Una",
    "Victor",
    "Wei",
    "Yara",
    "Zoe",
]
LAST_NAMES = [
    "Adams",
    "Andersen",
    "Bauer",
    "Becker",
    "Brown",
    "Byrne",
    "Campbell",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Gonzalez",
    "Hansen",
    "Hughes",
    "Ivanova",
    "Jansen",
    "Jensen",
    "Kelly",
    "Khan",
    "Kowalski",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nguyen",
    "Novak",
    "Oconnor",
    "Olsen",
    "Patel",
    "Petrov",
    "Quinn",
    "Ross",
    "Rossi",
    "Ryan",
    "Schmidt",
    "Silva",
    "Smith",
    "Sullivan",
    "Taylor",
    "Thomas",
    "Walsh",
    "Weber",
    "Wilson",
    "Wong",
    "Young",
    "Zimmermann",
]
COMPANY_WORDS = [
    "Acme",
    "Apex",
    "Atlas",
    "Beacon",
    "Blue",
    "Bright",
    "Cedar",
    "Cloud",
    "Copper",
    "Delta",
    "Ember",
    "Falcon",
    "Forge",
    "Granite",
    "Harbor",
    "Helix",
    "Horizon",
    "Iron",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Meridian",
    "Nimbus",
    "Nova",
    "Oak",
    "Orbit",
    "Pioneer",
    "Quartz",
    "River",
    "Sage",
    "Summit",
    "Tidal",
    "Vertex",
    "Willow",
]
COMPANY_KINDS = ["Analytics", "Labs", "Logistics", "Systems", "Foods", "Health", "Software"]
COMPANY_KINDS += ["Partners", "Retail"]
INDUSTRIES = ("SaaS", "Fintech", "Retail", "Manufacturing", "Healthcare", "Logistics", "")
COUNTRIES = ("GB", "IE", "DE", "FR", "US", "NL", "ES", "")
REGIONS = ("London", "Dublin", "Bavaria", "Île-de-France", "California", "Madrid", "")
TITLES = ("Head of Sales", "VP Sales", "CTO", "Founder", "Sales Manager", "Engineer", "CFO", "")
TAGS = ("saas", "b2b", "expansion", "hiring", "series-a", "partner")

STAGE_WEIGHTS = {
    Stage.NEW: 25,
    Stage.CONTACTED: 20,
    Stage.ENGAGED: 12,
    Stage.QUALIFIED: 10,
    Stage.PROPOSAL: 6,
    Stage.WON: 8,
    Stage.LOST: 12,
    Stage.NURTURE: 7,
}
SOURCE_WEIGHTS = {
    Source.REFERRAL: 20,
    Source.OWN_NETWORK: 20,
    Source.HAND_RAISER: 10,
    Source.ICP_PROSPECTING: 15,
    Source.MARKETING: 20,
    Source.EVENT: 10,
    Source.OTHER: 5,
}
ACTIVITY_WEIGHTS = {
    ActivityKind.EMAIL: 30,
    ActivityKind.CALL: 20,
    ActivityKind.LINKEDIN: 15,
    ActivityKind.MEETING: 5,
    ActivityKind.NOTE: 10,
    ActivityKind.REFERRAL_ASK: 2,
    ActivityKind.REPLIED: 10,
    ActivityKind.ASKED_FOR_INFO: 3,
    ActivityKind.ASKED_FOR_DEMO: 2,
    ActivityKind.ATTENDED_EVENT: 2,
    ActivityKind.WAS_INTRODUCED: 1,
}
CALL_OUTCOMES = ("connected", "no_answer", "voicemail", "meeting_booked", "not_interested")
NOTE_TEXTS = (
    "",
    "",
    "",
    "Asked about pricing for the team plan.",
    "Left a voicemail, will try again next week.",
    "Good call: budget approved for Q3, decision maker is the CFO.",
)
# Ten ICPs: two for bench-sam, one each for eight more salespeople.
ICP_TEMPLATES = (
    (
        "SaaS scale-ups",
        [
            (Field.INDUSTRY, Operator.ONE_OF, ["SaaS", "Fintech"], 30, True),
            (Field.EMPLOYEE_COUNT, Operator.RANGE, {"min": 50, "max": 500}, 20, False),
            (Field.COUNTRY, Operator.ONE_OF, ["GB", "IE", "NL"], 15, False),
            (Field.SENIORITY, Operator.ONE_OF, ["vp", "director", "c_level"], 20, False),
            (Field.TAGS, Operator.CONTAINS, "b2b", 15, False),
        ],
    ),
    (
        "Retail enterprise",
        [
            (Field.INDUSTRY, Operator.EQUALS, "Retail", 40, False),
            (Field.ANNUAL_REVENUE, Operator.RANGE, {"min": 10_000_000}, 30, False),
            (Field.TITLE, Operator.CONTAINS, "head", 15, False),
            (Field.REGION, Operator.EQUALS, "London", 15, False),
        ],
    ),
)


@dataclass(frozen=True)
class Sizes:
    """How many rows of each kind; `for_leads` scales the issue's 100k-lead set."""

    leads: int = 100_000
    companies: int = 20_000
    activities: int = 1_000_000
    follow_ups: int = 100_000
    referral_sources: int = 5_000
    icps: int = 10
    users: int = 20
    managers: int = 2

    @classmethod
    def for_leads(cls, leads: int, *, activities: int | None = None) -> Sizes:
        leads = max(leads, 100)
        return cls(
            leads=leads,
            companies=max(10, leads // 5),
            activities=leads * 10 if activities is None else activities,
            follow_ups=leads,
            referral_sources=min(5_000, max(20, leads // 20)),
        )


@dataclass(frozen=True)
class LoadSummary:
    counts: dict[str, int]
    seconds: float
    now: datetime


def _picker(rng: random.Random, weights: dict) -> Callable[[], str]:
    values = list(weights)
    cumulative = list(accumulate(weights.values()))
    total = cumulative[-1]
    return lambda: values[bisect(cumulative, rng.random() * total)]


class _Table:
    """Writes rows (tuples in `columns` order, Python values) into a model's table."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.model = model
        self.columns = list(columns)
        fields = {field.column: field for field in model._meta.concrete_fields}
        self.fields = [fields[name] for name in self.columns]
        self.json_positions = [
            i for i, field in enumerate(self.fields) if isinstance(field, models.JSONField)
        ]

    def write(self, rows: Iterable[tuple]) -> int:
        table = connection.ops.quote_name(self.model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(name) for name in self.columns)
        count = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                from psycopg.types.json import Jsonb

                json_positions = self.json_positions
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        if json_positions:
                            row = list(row)
                            for i in json_positions:
                                row[i] = Jsonb(row[i])
                        copy.write_row(row)
                        count += 1
                return count
            marks = ", ".join(["%s"] * len(self.columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our names
            batch: list[list] = []
            for row in rows:
                batch.append(
                    [
                        field.get_db_prep_save(value, connection)
                        for field, value in zip(self.fields, row, strict=True)
                    ]
                )
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count


def load(sizes: Sizes, *, seed: int, now: datetime) -> LoadSummary:
    """Empty the database and fill it with the bench data set; returns counts and seconds."""
    import time

    started = time.monotonic()
    call_command("flush", interactive=False, verbosity=0)
    with transaction.atomic(), _without_foreign_keys_and_indexes(), _search_text_after_copy():
        counts = _Generator(sizes, seed=seed, now=now).run()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), MODELS):
                cursor.execute(sql)
    analyze()
    return LoadSummary(counts, time.monotonic() - started, now)


MODELS = [User, ICP, Criterion, Company, Lead, Activity, FollowUp, StageChange]
MODELS += [ReferralSource, ReferralAsk]
# The big tables: their foreign keys and plain indexes are dropped for the COPY and rebuilt.
BULK_MODELS = [Company, Lead, Activity, FollowUp, StageChange, ReferralSource, ReferralAsk]


@contextmanager
def _without_foreign_keys_and_indexes() -> Iterator[None]:
    """On PostgreSQL, what pg_restore does: load without foreign keys and secondary indexes,
    then add them back, so each is checked or built once over the whole table (a deferred
    foreign key check per row took ~40 s at commit for 1.2M rows). Inside the load's
    transaction, so a failed load leaves the schema as it was."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in BULK_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
            """,
            [tables],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid::regclass::text = ANY(%s)
              AND NOT i.indisprimary AND NOT i.indisunique
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


@contextmanager
def _search_text_after_copy() -> Iterator[None]:
    """On PostgreSQL, the leads' search text (`LeadSearchEntry`, kept by a trigger per lead
    inserted) written in one statement after the COPY, with its trigram index built once."""
    if connection.vendor != "postgresql":
        yield
        return
    table = connection.ops.quote_name(LeadSearchEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
            "AND NOT indisprimary",
            [LeadSearchEntry._meta.db_table],
        )
        indexes = [definition for (definition,) in cursor.fetchall()]
        cursor.execute("ALTER TABLE leads_lead DISABLE TRIGGER leads_lead_search_insert")
        cursor.execute(f"TRUNCATE {table}")
        cursor.execute("DROP INDEX lead_search_trgm")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE leads_lead ENABLE TRIGGER leads_lead_search_insert")
        cursor.execute(
            f"INSERT INTO {table} (lead_id, text) "  # noqa: S608 - names from the model
            "SELECT id, first_name || ' ' || last_name || ' ' || email FROM leads_lead"
        )
        for definition in indexes:
            cursor.execute(definition)


def analyze() -> None:
    """Fresh statistics (and, on PostgreSQL, a vacuum so timings don't pay for hint bits)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in [*MODELS, LeadSearchEntry]:
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        else:
            cursor.execute("ANALYZE")


def scores_reset() -> None:
    """Every lead unscored again, as the load leaves it, and the table compacted as a fresh
    load has it (VACUUM FULL on PostgreSQL: no dead rows from the scores written before), so
    a rescore on reused data is a first scoring again."""
    Lead.objects.update(
        fit_score=0,
        intent_score=0,
        total_score=0,
        grade="D",
        best_icp=None,
        score_explanation={},
        score_digest="",
        scored_at=None,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM FULL {connection.ops.quote_name(Lead._meta.db_table)}")
    analyze()


class _Generator:
    def __init__(self, sizes: Sizes, *, seed: int, now: datetime) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.now = now

    def run(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        counts["users"] = self._users()
        counts["icps"], counts["criteria"] = self._icps()
        self._plan_leads()
        counts["companies"] = self._companies()
        counts["referral_sources"] = self._referral_sources()
        counts["referral_asks"] = self._referral_asks()
        counts["activities"] = self._activities()
        counts["follow_ups"] = self._follow_ups()
        counts["stage_changes"] = self._stage_changes()
        counts["leads"] = self._leads()
        return counts

    # --- people ---------------------------------------------------------------------------

    def _users(self) -> int:
        password = make_password(PASSWORD)
        names = [*MANAGER_USERNAMES, SALESPERSON, TINY_SALESPERSON, MONDAY_SALESPERSON]
        names += [f"bench-rep-{n:02d}" for n in range(len(names) + 1, self.sizes.users + 1)]
        users = [
            User(
                id=index,
                username=name,
                first_name=name.removeprefix("bench-").replace("-", " ").title(),
                email=f"{name}@example.com",
                password=password,
                date_joined=self.now - timedelta(days=800),
                # Managers open the admin (its lead changelist is measured).
                is_staff=index <= self.sizes.managers,
            )
            for index, name in enumerate(names, start=1)
        ]
        User.objects.bulk_create(users)
        managers, _ = Group.objects.get_or_create(name=settings.SALES_MANAGERS_GROUP)
        managers.user_set.add(*users[: self.sizes.managers])
        self.manager_ids = [user.id for user in users[: self.sizes.managers]]
        self.sam_id = users[self.sizes.managers].id
        self.tiny_id = users[self.sizes.managers + 1].id
        self.monday_id = users[self.sizes.managers + 2].id
        self.rep_ids = [user.id for user in users[self.sizes.managers + 3 :]]
        return len(users)

    def _icps(self) -> tuple[int, int]:
        owners = [self.sam_id, self.sam_id, *self.rep_ids][: self.sizes.icps]
        icps, criteria = [], []
        for index, owner_id in enumerate(owners, start=1):
            name, template = ICP_TEMPLATES[(index - 1) % len(ICP_TEMPLATES)]
            icps.append(ICP(id=index, owner_id=owner_id, name=name))
            for field, operator, value, weight, required in template:
                criteria.append(
                    Criterion(
                        id=len(criteria) + 1,
                        icp_id=index,
                        field=field,
                        operator=operator,
                        value=value,
                        weight=weight,
                        required=required,
                    )
                )
        ICP.objects.bulk_create(icps)
        Criterion.objects.bulk_create(criteria)
        return len(icps), len(criteria)

    # --- the shape of each lead, decided first: every other table refers to it -------------

    def _plan_leads(self) -> None:
        rng, now, n = self.rng, self.now, self.sizes.leads
        sam_leads = n // 10
        owners = [self.sam_id] * sam_leads + [self.tiny_id] * TINY_LEADS
        # bench-monday's leads: indexes monday_leads (a range), scaled down for small sets.
        monday_first = len(owners)
        owners += [self.monday_id] * min(MONDAY_LEADS, n // 10)
        self.monday_leads = range(monday_first, len(owners))
        self.monday_due = min(MONDAY_DUE, len(self.monday_leads) * 3 // 10)
        owners += [self.rep_ids[i % len(self.rep_ids)] for i in range(n - len(owners))]
        self.lead_owner = owners
        stage = _picker(rng, STAGE_WEIGHTS)
        source = _picker(rng, SOURCE_WEIGHTS)
        self.lead_stage, self.lead_source, self.lead_created, self.lead_changed = [], [], [], []
        for index in range(n):
            created = now - timedelta(seconds=rng.random() * 730 * 86400)
            lead_stage = stage()
            changed = created
            if lead_stage != Stage.NEW:
                changed = created + (now - created) * rng.random()
            if index in self.monday_leads:
                # Open and moved in the last two days: none is going cold.
                lead_stage = MONDAY_STAGES[index % len(MONDAY_STAGES)]
                changed = now - timedelta(seconds=rng.random() * 2 * 86400)
            self.lead_stage.append(lead_stage)
            self.lead_source.append(source())
            self.lead_created.append(created)
            self.lead_changed.append(changed)
        # Companies and referral sources are shared out in proportion to leads.
        self.leads_by_owner: dict[int, list[int]] = {}
        for lead_id, owner_id in enumerate(owners, start=1):
            self.leads_by_owner.setdefault(owner_id, []).append(lead_id)
        self.companies_of = self._share_out(self.sizes.companies)
        self.sources_of = self._share_out(self.sizes.referral_sources)

    def _share_out(self, total: int) -> dict[int, range]:
        """Consecutive id ranges per owner, sized by the owner's share of the leads."""
        sizes = {
            owner_id: max(1, round(total * len(lead_ids) / self.sizes.leads))
            for owner_id, lead_ids in self.leads_by_owner.items()
        }
        # Rounding leftovers go to the owner with the most leads, so the total is exact.
        biggest = max(sizes, key=lambda owner_id: len(self.leads_by_owner[owner_id]))
        sizes[biggest] = max(1, sizes[biggest] + total - sum(sizes.values()))
        ranges, next_id = {}, 1
        for owner_id, size in sizes.items():
            ranges[owner_id] = range(next_id, next_id + size)
            next_id += size
        return ranges

    # --- tables ----------------------------------------------------------------------------

    def _companies(self) -> int:
        rng, now = self.rng, self.now
        table = _Table(
            Company,
            [
                *("id", "owner_id", "name", "domain", "industry", "employee_count"),
                *("annual_revenue", "country", "region", "city", "website", "tags"),
                *("created_at", "updated_at"),
            ],
        )

        def rows() -> Iterator[tuple]:
            for owner_id, ids in self.companies_of.items():
                for company_id in ids:
                    word, kind = rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS)
                    domain = f"{word}{kind}{company_id}.example".lower()
                    created = now - timedelta(days=rng.random() * 800)
                    yield (
                        company_id,
                        owner_id,
                        f"{word} {kind} {company_id}",
                        domain,
                        rng.choice(INDUSTRIES),
                        rng.choice([None, rng.randint(1, 5000)]),
                        rng.choice([None, Decimal(rng.randint(100_000, 50_000_000))]),
                        rng.choice(COUNTRIES),
                        rng.choice(REGIONS),
                        "",
                        f"https://{domain}",
                        rng.sample(TAGS, rng.randint(0, 2)),
                        created,
                        created,
                    )

        return table.write(rows())

    def _referral_sources(self) -> int:
        rng, now = self.rng, self.now
        won_by_owner: dict[int, list[int]] = {}
        for lead_id, owner_id in enumerate(self.lead_owner, start=1):
            if self.lead_stage[lead_id - 1] == Stage.WON:
                won_by_owner.setdefault(owner_id, []).append(lead_id)
        table = _Table(
            ReferralSource,
            [
                *("id", "owner_id", "name", "email", "kind", "lead_id", "strength"),
                *("ask_cadence_days", "last_asked_at", "next_ask_at", "opted_out", "notes"),
                "created_at",
            ],
        )

        def rows() -> Iterator[tuple]:
            for owner_id, ids in self.sources_of.items():
                won = list(won_by_owner.get(owner_id, []))
                for source_id in ids:
                    # A third are won customers (their own lead); the rest partners and friends.
                    lead_id = won.pop() if won and rng.random() < 0.33 else None
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    asked = now - timedelta(days=rng.random() * 200) if rng.random() < 0.7 else None
                    cadence = rng.choice([30, 60, 90, 180])
                    yield (
                        source_id,
                        owner_id,
                        f"{first} {last}",
                        f"{first}.{last}.r{source_id}@example.com".lower(),
                        "customer" if lead_id else rng.choice(["partner", "friend"]),
                        lead_id,
                        rng.randint(1, 5),
                        cadence,
                        asked,
                        (asked or now - timedelta(days=rng.random() * 30))
                        + timedelta(days=cadence),
                        rng.random() < 0.05,
                        "",
                        now - timedelta(days=300 + rng.random() * 400),
                    )

        return table.write(rows())

    def _referral_asks(self) -> int:
        rng, now = self.rng, self.now
        owner_of_source = {
            source_id: owner_id for owner_id, ids in self.sources_of.items() for source_id in ids
        }
        table = _Table(
            ReferralAsk,
            [
                *("id", "source_id", "asked_by_id", "asked_at", "channel", "outcome"),
                *("referrals_given", "note", "link_key"),
            ],
        )

        def rows() -> Iterator[tuple]:
            ask_id = 0
            for source_id, owner_id in owner_of_source.items():
                for _ in range(2):
                    ask_id += 1
                    outcome = rng.choice(["pending", "declined", "gave", "gave"])
                    yield (
                        ask_id,
                        source_id,
                        owner_id,
                        now - timedelta(days=rng.random() * 365),
                        rng.choice(["email", "call", "meeting", "linkedin", "in_person"]),
                        outcome,
                        rng.randint(1, 3) if outcome == "gave" else 0,
                        "",
                        None,
                    )

        return table.write(rows())

    def _activities(self) -> int:
        rng, now, sizes = self.rng, self.now, self.sizes
        kind = _picker(rng, ACTIVITY_WEIGHTS)
        touches = {ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING}
        touches.add(ActivityKind.LINKEDIN)
        hand_raises = set(HAND_RAISE_KINDS)
        per_lead = self._activities_per_lead()
        self.last_contacted: list[datetime | None] = [None] * sizes.leads
        self.last_inbound: list[datetime | None] = [None] * sizes.leads
        table = _Table(
            Activity,
            [
                *("id", "lead_id", "user_id", "kind", "direction", "outcome", "occurred_at"),
                *("text", "created_at"),
            ],
        )

        def rows() -> Iterator[tuple]:
            activity_id = 0
            for index in range(sizes.leads):
                lead_id = index + 1
                count = per_lead[index]
                created = self.lead_created[index]
                span = (now - created).total_seconds()
                owner_id = self.lead_owner[index]
                last_out = last_in = None
                for _ in range(count):
                    activity_id += 1
                    what = kind()
                    at = created + timedelta(seconds=rng.random() * span)
                    inbound = what in hand_raises
                    if inbound:
                        last_in = at if last_in is None or at > last_in else last_in
                    elif what in touches:
                        last_out = at if last_out is None or at > last_out else last_out
                    yield (
                        activity_id,
                        lead_id,
                        owner_id,
                        what,
                        "inbound" if inbound else "outbound",
                        rng.choice(CALL_OUTCOMES) if what == ActivityKind.CALL else "",
                        at,
                        rng.choice(NOTE_TEXTS),
                        at,
                    )
                self.last_contacted[index] = last_out
                self.last_inbound[index] = last_in

        return table.write(rows())

    def _activities_per_lead(self) -> list[int]:
        """0 to twice the average per lead, adding up to exactly the number asked for; lead 1
        has a long history (200), lead 2 a short one (2)."""
        rng, sizes = self.rng, self.sizes
        most = max(0, round(2 * sizes.activities / sizes.leads))
        counts = [rng.randint(0, most) for _ in range(sizes.leads)]
        fixed = {LONG_HISTORY_LEAD_ID - 1: LONG_HISTORY_ACTIVITIES, SHORT_HISTORY_LEAD_ID - 1: 2}
        for index, count in fixed.items():
            if index < sizes.leads:
                counts[index] = count
        free = [index for index in range(sizes.leads) if index not in fixed]
        surplus = sum(counts) - sizes.activities
        while surplus != 0 and free:
            index = rng.choice(free)
            step = 1 if surplus < 0 else -1
            if counts[index] + step >= 0:
                counts[index] += step
                surplus += step
        return counts

    def _follow_ups(self) -> int:
        rng, now, sizes = self.rng, self.now, self.sizes
        self.next_follow_up: list[datetime | None] = [None] * sizes.leads
        open_stages = set(OPEN_STAGES)
        kinds = [FollowUpKind.FIRST_TOUCH, FollowUpKind.FOLLOW_UP, FollowUpKind.RESPOND]
        kinds += [FollowUpKind.CHECK_IN, FollowUpKind.CUSTOM]
        table = _Table(
            FollowUp,
            [
                *("id", "lead_id", "kind", "due_at", "note", "rule", "created_by_id", "done_at"),
                *("resolution", "snooze_count", "created_at"),
            ],
        )

        def rows() -> Iterator[tuple]:
            follow_up_id = 0
            # One pending follow-up for most open leads (the database allows one per lead),
            # due from a month ago to a month ahead; the rest of the budget is done ones.
            for index in range(sizes.leads):
                if follow_up_id >= sizes.follow_ups * 0.6:
                    break
                if index in self.monday_leads:
                    # Every one of bench-monday's leads has a follow-up: the first ones came
                    # due between Friday and this morning, the rest are due in 1-30 days.
                    follow_up_id += 1
                    if index - self.monday_leads.start < self.monday_due:
                        due = now - timedelta(seconds=rng.random() * 3 * 86400)
                    else:
                        due = now + timedelta(days=1 + rng.random() * 29)
                    self.next_follow_up[index] = due
                    yield (
                        *(follow_up_id, index + 1, rng.choice(kinds), due, "", "cadence"),
                        *(self.lead_owner[index], None, "", 0, due - timedelta(days=7)),
                    )
                    continue
                if self.lead_stage[index] not in open_stages or rng.random() > 0.8:
                    continue
                follow_up_id += 1
                due = now + timedelta(seconds=(rng.random() - 0.5) * 60 * 86400)
                self.next_follow_up[index] = due
                yield (
                    follow_up_id,
                    index + 1,
                    rng.choice(kinds),
                    due,
                    "",
                    "cadence" if rng.random() < 0.7 else "",
                    self.lead_owner[index],
                    None,
                    "",
                    0,
                    due - timedelta(days=7),
                )
            while follow_up_id < sizes.follow_ups:
                follow_up_id += 1
                index = rng.randrange(sizes.leads)
                due = now - timedelta(seconds=rng.random() * 365 * 86400)
                yield (
                    follow_up_id,
                    index + 1,
                    rng.choice(kinds),
                    due,
                    "",
                    "cadence",
                    self.lead_owner[index],
                    due + timedelta(hours=rng.random() * 48),
                    "done",
                    0,
                    due - timedelta(days=7),
                )

        return table.write(rows())

    def _stage_changes(self) -> int:
        table = _Table(
            StageChange,
            ["id", "lead_id", "from_stage", "to_stage", "changed_by_id", "changed_at", "reason"],
        )

        def rows() -> Iterator[tuple]:
            change_id = 0
            for index in range(self.sizes.leads):
                owner_id = self.lead_owner[index]
                change_id += 1
                yield (change_id, index + 1, "", Stage.NEW, owner_id, self.lead_created[index], "")
                stage = self.lead_stage[index]
                if stage != Stage.NEW:
                    change_id += 1
                    changed = self.lead_changed[index]
                    yield (change_id, index + 1, Stage.NEW, stage, owner_id, changed, "")

        return table.write(rows())

    def _leads(self) -> int:
        rng = self.rng
        seniority = [*Seniority.values, ""]
        columns = [
            "id", "owner_id", "first_name", "last_name", "title", "seniority", "email", "phone",
            "linkedin_url", "company_id", "stage", "stage_changed_at", "lost_reason", "won_at",
            "furthest_stage", "source", "source_detail", "referred_by_id", "referral_ask_id",
            "expected_value", "currency", "do_not_contact", "tags", "notes", "fit_score",
            "intent_score", "total_score", "grade", "best_icp_id", "score_explanation", "scored_at",
            "next_follow_up_at", "last_contacted_at", "last_inbound_at", "unanswered_touches",
            "first_unanswered_at", "created_at", "updated_at",
        ]  # fmt: skip
        table = _Table(Lead, columns)

        def rows() -> Iterator[tuple]:
            for index in range(self.sizes.leads):
                lead_id, owner_id = index + 1, self.lead_owner[index]
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                companies = self.companies_of[owner_id]
                company_id = rng.choice(companies) if rng.random() < 0.9 else None
                domain = f"c{company_id}.example" if company_id else "mail.example"
                stage, source = self.lead_stage[index], self.lead_source[index]
                sources = self.sources_of[owner_id]
                changed = self.lead_changed[index]
                created = self.lead_created[index]
                value = None
                if rng.random() < 0.6:
                    value = Decimal(rng.randrange(1_000, 200_000, 500))
                yield (
                    lead_id,
                    owner_id,
                    first,
                    last,
                    rng.choice(TITLES),
                    rng.choice(seniority),
                    f"{first}.{last}.{lead_id}@{domain}".lower(),
                    "",
                    f"https://www.linkedin.com/in/{first}-{last}-{lead_id}".lower()
                    if rng.random() < 0.5
                    else "",
                    company_id,
                    stage,
                    changed,
                    "No budget" if stage == Stage.LOST else "",
                    changed if stage == Stage.WON else None,
                    furthest_stage(Stage.NEW, stage),  # its history: New, then its stage
                    source,
                    "",
                    rng.choice(sources) if source == Source.REFERRAL else None,
                    None,
                    value,
                    "EUR",
                    rng.random() < 0.02,
                    rng.sample(TAGS, rng.randint(0, 2)),
                    "",
                    0,
                    0,
                    0,
                    "D",
                    None,
                    {},
                    None,
                    self.next_follow_up[index],
                    self.last_contacted[index],
                    self.last_inbound[index],
                    0,
                    None,
                    created,
                    max(created, changed),
                )

        return table.write(rows())


# --- The CSV the import bench reads ---------------------------------------------------------

IMPORT_HEADER = ["First Name", "Last Name", "Email", "Phone", "Company", "Website", "Job Title"]


def write_import_csv(path: Path, rows: int, *, seed: int) -> int:
    """A generic CRM export of `rows` contacts (a tenth at the same companies); returns bytes."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(IMPORT_HEADER)
        for index in range(1, rows + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = rng.randint(1, max(1, rows // 10))
            word = COMPANY_WORDS[company % len(COMPANY_WORDS)]
            writer.writerow(
                [
                    first,
                    last,
                    f"{first}.{last}.i{index}@imported{company}.example".lower(),
                    f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    f"{word} Imports {company}",
                    f"https://{word.lower()}-imports-{company}.example",
                    rng.choice(TITLES),
                ]
            )
    return path.stat().st_size


def dump_counts(counts: dict[str, int]) -> str:
    return json.dumps(counts, sort_keys=True)
