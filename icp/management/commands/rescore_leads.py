"""`manage.py rescore_leads`: rescore every lead now, optionally on freshly generated bench data.

python manage.py rescore_leads                    # rescore all leads, print the timing
python manage.py rescore_leads --owner sam        # one salesperson's leads
python manage.py rescore_leads --generate 100000  # add 100k synthetic leads first (bench)
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from icp.models import ICP, Criterion, Field, Operator
from icp.rescoring import leads_rescore
from leads.models import HAND_RAISE_KINDS, Activity, Company, Lead, Seniority, Source

BENCH_USERS = ("bench-1", "bench-2", "bench-3")
INDUSTRIES = ("SaaS", "Fintech", "Retail", "Manufacturing", "Healthcare", "Logistics", "")
COUNTRIES = ("GB", "IE", "DE", "FR", "US", "NL", "")
REGIONS = ("London", "Dublin", "Bavaria", "Île-de-France", "California", "")
TITLES = ("Head of Sales", "VP Sales", "CTO", "Founder", "Sales Manager", "Engineer", "")
TAGS = ("saas", "b2b", "expansion", "hiring", "series-a", "partner")
# Two ICPs per bench user: a knock-out on industry in one, open-ended ranges in the other.
BENCH_ICPS = {
    "Bench: SaaS scale-ups": [
        (Field.INDUSTRY, Operator.ONE_OF, ["SaaS", "Fintech"], 30, True),
        (Field.EMPLOYEE_COUNT, Operator.RANGE, {"min": 50, "max": 500}, 20, False),
        (Field.COUNTRY, Operator.ONE_OF, ["GB", "IE", "NL"], 15, False),
        (Field.SENIORITY, Operator.ONE_OF, ["vp", "director", "c_level"], 20, False),
        (Field.TAGS, Operator.CONTAINS, "b2b", 15, False),
    ],
    "Bench: Retail enterprise": [
        (Field.INDUSTRY, Operator.EQUALS, "Retail", 40, False),
        (Field.ANNUAL_REVENUE, Operator.RANGE, {"min": 10_000_000}, 30, False),
        (Field.TITLE, Operator.CONTAINS, "head", 15, False),
        (Field.REGION, Operator.EQUALS, "London", 15, False),
    ],
}


class Command(BaseCommand):
    help = "Rescore all leads (or one owner's) and print leads/second and SQL statements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", metavar="USERNAME", help="Only this user's leads.")
        parser.add_argument(
            "--generate",
            type=int,
            default=0,
            metavar="N",
            help="First create N synthetic leads (with companies, ICPs and hand-raises).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for --generate.")

    def handle(self, *args, owner: str | None, generate: int, seed: int, **options) -> None:
        owner_id = None
        if owner:
            owner_id = User.objects.filter(username=owner).values_list("id", flat=True).first()
            if owner_id is None:
                raise CommandError(f"No user named {owner!r}.")
        if generate:
            self._generate(generate, seed)
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        cpu_started = time.process_time()
        with connection.execute_wrapper(count):
            summary = leads_rescore(owner_id=owner_id, background_writer=True)
        cpu = time.process_time() - cpu_started
        rate = summary.scored / summary.seconds if summary.seconds else 0.0
        self.stdout.write(
            f"Rescored {summary.scored:,} leads ({summary.changed:,} changed) in "
            f"{summary.seconds:.2f} s ({cpu:.2f} s of it Python CPU): {rate:,.0f} leads/s, "
            f"{statements} SQL statements ({connection.vendor})."
        )

    def _generate(self, count: int, seed: int) -> None:
        started = timezone.now()
        generated = generate_bench_data(count, seed=seed, now=started)
        _settle_after_bulk_load()
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"Generated {count:,} leads, {generated['companies']:,} companies and "
            f"{generated['activities']:,} hand-raise activities in {seconds:.1f} s."
        )


def _settle_after_bulk_load() -> None:
    """VACUUM ANALYZE the tables just filled, as after any bulk load on PostgreSQL.

    Otherwise the timing that follows measures autovacuum and the first-read hint-bit writes
    of 100k fresh rows, not rescoring. Skipped inside a transaction (tests), where VACUUM
    cannot run.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in (Company, Lead, Activity):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@transaction.atomic
def generate_bench_data(count: int, *, seed: int, now: datetime) -> dict[str, int]:
    """Synthetic leads for benchmarks, the same for the same seed.

    Written with bulk_create, bypassing the services on purpose: a bench needs 100k rows in
    seconds and must not enqueue 100k rescore tasks.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    users = [_bench_user(username) for username in BENCH_USERS]
    for user in users:
        _bench_icps(user)
    companies = Company.objects.bulk_create(
        [_company(rng, users[i % len(users)], i) for i in range(max(1, count // 10))],
        batch_size=5000,
    )
    leads = Lead.objects.bulk_create(
        [_lead(rng, users, companies, i, now) for i in range(count)], batch_size=5000
    )
    activities = [
        Activity(
            lead=lead,
            user_id=lead.owner_id,
            kind=rng.choice(HAND_RAISE_KINDS),
            direction="inbound",
            occurred_at=now - timedelta(hours=rng.randint(0, 120 * 24)),
        )
        for lead in leads
        if rng.random() < 0.25
        for _ in range(rng.randint(1, 3))
    ]
    Activity.objects.bulk_create(activities, batch_size=5000)
    return {"companies": len(companies), "activities": len(activities)}


def _bench_user(username: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com", "first_name": username}
    )
    return user


def _bench_icps(user: User) -> None:
    for name, criteria in BENCH_ICPS.items():
        icp, created = ICP.objects.get_or_create(owner=user, name=name)
        if created:
            Criterion.objects.bulk_create(
                Criterion(icp=icp, field=f, operator=op, value=v, weight=w, required=r)
                for f, op, v, w, r in criteria
            )


def _company(rng: random.Random, owner: User, index: int) -> Company:
    return Company(
        owner=owner,
        name=f"Bench company {index}",
        industry=rng.choice(INDUSTRIES),
        employee_count=rng.choice([None, rng.randint(1, 5000)]),
        annual_revenue=rng.choice([None, rng.randint(100_000, 50_000_000)]),
        country=rng.choice(COUNTRIES),
        region=rng.choice(REGIONS),
        tags=rng.sample(TAGS, rng.randint(0, 2)),
    )


def _lead(
    rng: random.Random, users: list[User], companies: list[Company], index: int, now: datetime
) -> Lead:
    company = rng.choice(companies) if rng.random() < 0.9 else None
    return Lead(
        owner=company.owner if company else rng.choice(users),
        company=company,
        first_name=f"Bench{index}",
        last_name="Lead",
        title=rng.choice(TITLES),
        seniority=rng.choice([*Seniority.values, ""]),
        source=rng.choice(Source.values),
        tags=rng.sample(TAGS, rng.randint(0, 2)),
        stage_changed_at=now,
    )
