"""leadhunter.prepared: a queryset's SQL built once, run with each call's values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat

from leadhunter.prepared import PreparationError, PreparedQuery
from leads.models import Lead
from tests.factories import LeadFactory, UserFactory

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
def on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (CI runs it on PostgreSQL): SQLite runs the ORM's query")


def _recent(*, owner_id: int, now: datetime, limit: int):
    """A builder with what Today's ranking has: an owner, moments moved from `now` by fixed
    amounts, a LIMIT, constants, and columns of several types."""
    return (
        Lead.objects.filter(owner_id=owner_id)
        .filter(Q(created_at__gte=now - timedelta(days=7)) | Q(next_follow_up_at__lt=now))
        .annotate(
            label=Concat("first_name", Value(" · "), "stage"),
            value=Coalesce("expected_value", Value(Decimal("0.5"))),
            due=Q(next_follow_up_at__lt=now + timedelta(hours=1)),
        )
        .order_by("-created_at", "pk")
        .values_list("pk", "created_at", "label", "value", "due")[:limit]
    )


@pytest.fixture
def two_owners(db):
    sam, alex = UserFactory(username="sam"), UserFactory(username="alex")
    for days, owner in [(1, sam), (3, sam), (6, sam), (8, sam), (10, sam), (2, alex), (9, alex)]:
        lead = LeadFactory(owner=owner, expected_value=Decimal(days * 1000) if days % 2 else None)
        Lead.objects.filter(pk=lead.pk).update(
            created_at=NOW - timedelta(days=days),
            next_follow_up_at=NOW + timedelta(minutes=days * 15 - 60) if days < 5 else None,
        )
    return sam, alex


def test_the_rows_are_the_querysets_for_any_owner_moment_and_limit(on_postgresql, two_owners):
    """Prepared with the first call's values, later calls fill in theirs: each answer is the
    ORM's own for the same values."""
    recent = PreparedQuery(_recent, sql_keys=("limit",))
    calls = [
        {"owner_id": owner.pk, "now": NOW + timedelta(days=shift, minutes=minutes), "limit": limit}
        for owner in two_owners
        for shift in (0, -2, 3, -400)
        for minutes in (0, 50)
        for limit in (2, 10)
    ]

    answers = [(recent.rows(**values), list(_recent(**values))) for values in calls]

    for prepared, expected in answers:
        assert prepared == expected
    # The values matter: a prepared query stuck on its first call's values would fail above.
    assert len({tuple(expected) for _prepared, expected in answers}) >= 6


def test_the_sql_is_built_once_per_combination_of_its_sql_keys(on_postgresql, two_owners):
    sam, alex = two_owners
    built = []

    def counted(**values):
        built.append(values)
        return _recent(**values)

    recent = PreparedQuery(counted, sql_keys=("limit",))
    recent.rows(owner_id=sam.pk, now=NOW, limit=3)
    preparing = len(built)
    for day in range(5):
        recent.rows(owner_id=alex.pk, now=NOW + timedelta(days=day), limit=3)

    assert preparing == 5  # the first call's values, then each of the two moved twice
    assert len(built) == preparing
    recent.rows(owner_id=sam.pk, now=NOW, limit=4)
    assert len(built) == 2 * preparing


def test_a_value_that_changes_the_sql_text_must_be_named_in_the_shape(on_postgresql, two_owners):
    recent = PreparedQuery(_recent)

    with pytest.raises(PreparationError, match="'limit' changes the SQL: name it in `sql_keys`"):
        recent.rows(owner_id=two_owners[0].pk, now=NOW, limit=3)


def test_a_parameter_that_is_no_value_moved_by_a_fixed_amount_is_refused(on_postgresql, two_owners):
    def midnight(*, owner_id: int, now: datetime):
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return Lead.objects.filter(owner_id=owner_id, created_at__gte=start).values_list("pk")

    with pytest.raises(PreparationError, match="is not 'now' moved by a fixed amount"):
        PreparedQuery(midnight).rows(owner_id=two_owners[0].pk, now=NOW)


def test_a_parameter_derived_from_a_value_otherwise_than_by_an_amount_is_refused(
    on_postgresql, two_owners
):
    """`now.hour` does not move with a day and a microsecond more, but with the irregular
    second move it does: the preparation sees it is not `now` moved by a fixed amount."""

    def scored_by_the_hour(*, owner_id: int, now: datetime):
        return Lead.objects.filter(owner_id=owner_id, total_score__gte=now.hour).values_list("pk")

    with pytest.raises(PreparationError, match="is not 'now' moved by a fixed amount"):
        PreparedQuery(scored_by_the_hour).rows(owner_id=two_owners[0].pk, now=NOW)


def test_columns_in_any_order_are_the_querysets(on_postgresql, two_owners):
    def reordered(*, owner_id: int):
        return (
            Lead.objects.filter(owner_id=owner_id)
            .annotate(twice=F("total_score") * 2)
            .order_by("pk")
            .values_list("twice", "pk", "first_name")
        )

    owner_id = two_owners[1].pk

    assert PreparedQuery(reordered).rows(owner_id=owner_id) == list(reordered(owner_id=owner_id))


@pytest.mark.parametrize(
    "rows",
    [
        lambda leads: leads.values_list("pk", flat=True),
        lambda leads: leads.values_list("pk", named=True),
        lambda leads: leads.values("pk"),
        lambda leads: leads,
    ],
    ids=["flat", "named", "values", "instances"],
)
def test_only_values_lists_of_tuples_can_be_prepared(on_postgresql, two_owners, rows):
    def build(*, owner_id: int):
        return rows(Lead.objects.filter(owner_id=owner_id))

    with pytest.raises(PreparationError, match="Only values_list"):
        PreparedQuery(build).rows(owner_id=two_owners[0].pk)


def test_a_naive_moment_is_refused_before_anything_runs(two_owners):
    with pytest.raises(ValueError, match="'now' is a naive datetime"):
        PreparedQuery(_recent, sql_keys=("limit",)).rows(
            owner_id=two_owners[0].pk, now=NOW.replace(tzinfo=None), limit=3
        )


def test_only_datetimes_and_whole_numbers_can_be_prepared(on_postgresql, two_owners):
    def by_name(*, name: str):
        return Lead.objects.filter(first_name=name).values_list("pk")

    with pytest.raises(PreparationError, match="only datetimes and whole numbers"):
        PreparedQuery(by_name).rows(name="Ada")
