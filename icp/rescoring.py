"""Scores in the database: load facts, score with `icp.scoring`, write the results.

Two paths share every step but the write:
- `lead_rescore` scores one lead under a row lock (after the lead or its activities change);
- `leads_rescore` scores many leads in primary-key batches with a bounded number of SQL
  statements per batch, writing only the rows whose score changed (ICP edits, nightly decay).

`request_rescore` / `request_icp_rescore` are what other apps call inside their transactions:
they record the request in the database with the edit and enqueue the Celery task after
commit, coalescing bursts of edits into one run; `rescore_requests_sweep` (every minute) sends
again the requests the broker never got.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

import xxhash
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from icp import pg_fast
from icp.models import ICP, Criterion, RescoreKind, RescoreRequest
from icp.scoring import (
    DEFAULT_HALF_LIFE_DAYS,
    CriterionSpec,
    IcpSpec,
    LeadFacts,
    LeadScore,
    score_lead,
)
from leadhunter.gc_pause import cyclic_gc_paused
from leads.models import HAND_RAISE_KINDS, Activity, Lead

logger = logging.getLogger(__name__)

# Older hand-raises are worth < 0.0001 points at the default half-life; not worth loading.
SIGNAL_WINDOW = timedelta(days=365)
# A burst of edits within this window costs one rescore; the countdown lets the burst finish.
COALESCE_SECONDS = 60
RESCORE_COUNTDOWN = 2
HALF_LIFE_DAYS = DEFAULT_HALF_LIFE_DAYS
# Connections that write a bulk run's scores while it reads and scores the next batches (with
# `background_writer=True`): the server's index maintenance is most of a first scoring, and
# two writers use both cores.
WRITER_THREADS = 2
# Leads per batch: each batch is one read, one signals query and one UPDATE. The first scoring
# of 1M leads took 60.3-60.6 s in batches of 2,000 and 57.1-57.8 s in batches of 5,000 or 10,000
# (`make bench --leads 1000000`: fewer, larger UPDATEs).
RESCORE_BATCH_SIZE = 5000

# The lead and company columns the facts are built from, as `values()` names.
FACT_FIELDS = (
    "id",
    "owner_id",
    "title",
    "seniority",
    "source",
    "referred_by_id",
    "tags",
    "company__industry",
    "company__employee_count",
    "company__annual_revenue",
    "company__country",
    "company__region",
    "company__city",
    "company__tags",
)
# The stored score, read with the facts so that unchanged leads are not sent back at all. The
# explanation is not read: its digest stands for it (decoding 100k ~600-byte explanations was
# a third of a nightly run).
SCORE_FIELDS = (
    "fit_score",
    "intent_score",
    "total_score",
    "grade",
    "best_icp_id",
    "score_digest",
)
# The JSON columns among FACT_FIELDS, decoded by `pg_fast.values_dicts`.
JSON_FACT_FIELDS = ("tags", "company__tags")
Signal = tuple[str, datetime]


@dataclass(frozen=True)
class RescoreSummary:
    scored: int
    changed: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# Facts and ICP specs
# ---------------------------------------------------------------------------------------------


def facts_for_leads(
    leads: Iterable[Mapping], signals_by_lead: Mapping[int, Sequence[Signal]]
) -> dict[int, LeadFacts]:
    """LeadFacts by lead id, from rows shaped like `Lead.objects.values(*FACT_FIELDS)`."""
    return {row["id"]: lead_facts(row, signals_by_lead.get(row["id"], ())) for row in leads}


def lead_facts(row: Mapping, signals: Sequence[Signal]) -> LeadFacts:
    """The facts of one lead row (see FACT_FIELDS); blanks become None, i.e. unknown."""
    revenue = row["company__annual_revenue"]
    return LeadFacts(
        industry=_text(row["company__industry"]),
        employee_count=row["company__employee_count"],
        annual_revenue=int(revenue) if isinstance(revenue, Decimal | int) else None,
        country=_text(row["company__country"]),
        region=_text(row["company__region"]),
        city=_text(row["company__city"]),
        title=_text(row["title"]),
        seniority=_text(row["seniority"]),
        tags=_lead_tags(row["tags"], row["company__tags"]),
        source=_text(row["source"]),
        # A referred lead is one credited to a referral source (Lead.is_referred): a source of
        # "Referral" with nobody recorded earns no bonus until "Who referred this?" is answered.
        is_referred=row["referred_by_id"] is not None,
        signals=tuple(sorted(signals, key=_signal_order)) if signals else (),
    )


def signals_by_lead(lead_ids: Iterable[int], *, now: datetime) -> dict[int, list[Signal]]:
    """Hand-raise signals of the last year for the given leads, in one query."""
    return _signals(Q(lead_id__in=list(lead_ids)), now=now)


def _signals(leads: Q, *, now: datetime) -> dict[int, list[Signal]]:
    rows = (
        Activity.objects.filter(
            leads, kind__in=HAND_RAISE_KINDS, occurred_at__gte=now - SIGNAL_WINDOW
        )
        .order_by()
        .values_list("lead_id", "kind", "occurred_at")
    )
    signals: dict[int, list[Signal]] = defaultdict(list)
    for lead_id, kind, occurred_at in pg_fast.values_list_rows(rows):
        signals[lead_id].append((kind, occurred_at))
    return signals


def icp_specs_for_owner(owner_id: int) -> tuple[IcpSpec, ...]:
    """The owner's active ICPs with their criteria (two queries, one if there are none)."""
    return icp_specs_by_owner(owner_id=owner_id).get(owner_id, ())


def icp_specs_by_owner(*, owner_id: int | None = None) -> dict[int, tuple[IcpSpec, ...]]:
    """Active ICPs with criteria, grouped by owner: one owner's, or everyone's."""
    icps = ICP.objects.filter(is_active=True).order_by("id")
    if owner_id is not None:
        icps = icps.filter(owner_id=owner_id)
    icp_rows = list(icps.values("id", "name", "owner_id"))
    if not icp_rows:
        return {}
    criteria_by_icp: dict[int, list[CriterionSpec]] = defaultdict(list)
    for criterion in Criterion.objects.filter(icp_id__in=[r["id"] for r in icp_rows]).order_by(
        "id"
    ):
        criteria_by_icp[criterion.icp_id].append(criterion_spec(criterion))
    specs: dict[int, list[IcpSpec]] = defaultdict(list)
    for row in icp_rows:
        specs[row["owner_id"]].append(
            IcpSpec(row["id"], row["name"], tuple(criteria_by_icp[row["id"]]))
        )
    return {owner: tuple(owner_specs) for owner, owner_specs in specs.items()}


def criterion_spec(criterion: Criterion) -> CriterionSpec:
    """A saved (or draft) Criterion as the engine's plain value."""
    return CriterionSpec(
        id=criterion.pk,
        field=criterion.field,
        operator=criterion.operator,
        value=criterion.value,
        weight=criterion.weight,
        required=criterion.required,
        label=criterion.label,
    )


# ---------------------------------------------------------------------------------------------
# One lead
# ---------------------------------------------------------------------------------------------


def lead_rescore(*, lead_id: int, now: datetime | None = None) -> Lead | None:
    """Score one lead now and store the result; None when the lead no longer exists.

    The row is locked for the read-score-write so a concurrent rescore of the same lead
    cannot overwrite a newer score with an older one.
    """
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            Lead.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk=lead_id)
            .values(*FACT_FIELDS)
            .first()
        )
        if row is None:
            return None
        facts = lead_facts(row, signals_by_lead([lead_id], now=now).get(lead_id, ()))
        score = score_lead(
            facts, icp_specs_for_owner(row["owner_id"]), now=now, half_life_days=HALF_LIFE_DAYS
        )
        Lead.objects.filter(pk=lead_id).update(
            fit_score=score.fit,
            intent_score=score.intent,
            total_score=score.total,
            grade=score.grade,
            best_icp_id=score.best_icp_id,
            score_explanation=score.explanation,
            score_digest=explanation_digest(score),
            scored_at=now,
        )
        return Lead.objects.select_related("company", "best_icp").get(pk=lead_id)


def leads_rescore_now(
    *, owner_id: int, lead_ids: Sequence[int], now: datetime | None = None
) -> int:
    """Score some of one owner's leads now, in the caller's transaction, and store the scores
    that changed; returns how many changed.

    For an edit a person waits to see: a company's facts saved from its page or a lead's, whose
    page then shows the new score without waiting for a worker. The leads are locked as
    `lead_rescore` locks one; set-based (five statements however many leads), so the caller
    bounds the number. Leads of other owners among `lead_ids` are left alone.
    """
    if not lead_ids:
        return 0
    now = now or timezone.now()
    icps_by_owner = icp_specs_by_owner(owner_id=owner_id)
    return _rescore_locked(list(lead_ids), icps_by_owner=icps_by_owner, now=now, owner_id=owner_id)


# ---------------------------------------------------------------------------------------------
# Many leads
# ---------------------------------------------------------------------------------------------


def leads_rescore(
    *,
    owner_id: int | None = None,
    icp_id: int | None = None,
    lead_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    batch_size: int = RESCORE_BATCH_SIZE,
    background_writer: bool = False,
) -> RescoreSummary:
    """Rescore many leads in primary-key batches; only rows whose score changed are written.

    Each batch is one SELECT of leads (with their companies and stored scores), one SELECT of
    their hand-raise signals and, if any score changed, one UPDATE: the number of statements
    grows with the number of batches, never with the number of leads.
    `icp_id` narrows to the leads that ICP can score (its owner's); an unknown ICP scores none.

    The batches are read without row locks (locking every row dirtied every page of the
    table, nightly); the UPDATE writes a lead only if its `scored_at` is still the one read,
    so a score stored meanwhile by `lead_rescore` or another run is never overwritten with
    one computed from older facts. Those few leads are scored again at the end under a row
    lock, from fresh facts: what the batch did when it waited for a locked row.

    `background_writer=True` (the Celery tasks, the bench) writes the UPDATEs from
    WRITER_THREADS other connections, each batch committed on its own, while this one reads
    and scores the next batches (`_BackgroundScoreWriter`; PostgreSQL only, SQLite writes on
    this connection anyway). Only for a caller without a transaction open: the writers
    cannot see its uncommitted rows, and would wait forever for the rows it has locked
    while it waits for them. The default writes on this connection, in the caller's
    transaction if there is one.
    """
    started = time.monotonic()
    now = now or timezone.now()
    if icp_id is not None:
        icp_owner = ICP.objects.filter(pk=icp_id).values_list("owner_id", flat=True).first()
        if icp_owner is None or owner_id not in (None, icp_owner):
            return RescoreSummary(0, 0, time.monotonic() - started)
        owner_id = icp_owner
    icps_by_owner = icp_specs_by_owner(owner_id=owner_id)
    leads = Lead.objects.order_by("pk")
    if owner_id is not None:
        leads = leads.filter(owner_id=owner_id)
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    in_background = background_writer and connection.vendor == "postgresql"
    scored = last_id = 0
    with cyclic_gc_paused():
        writer = _BackgroundScoreWriter(now=now) if in_background else _ScoreWriter(now=now)
        with writer:
            while True:
                batch_scored, last_id = _rescore_batch(
                    leads,
                    after_id=last_id,
                    size=batch_size,
                    signals_by_id_range=lead_ids is None,
                    icps_by_owner=icps_by_owner,
                    writer=writer,
                    now=now,
                )
                scored += batch_scored
                if batch_scored < batch_size:
                    break
        changed = writer.written
        # Scored by someone else between our read and our write: score them again, locked.
        conflicts = sorted(writer.conflicts)
        for start in range(0, len(conflicts), batch_size):
            changed += _rescore_locked(
                conflicts[start : start + batch_size], icps_by_owner=icps_by_owner, now=now
            )
    if changed:
        _audit_rescore(scored, changed, owner_id=owner_id, icp_id=icp_id)
    return RescoreSummary(scored, changed, time.monotonic() - started)


def _audit_rescore(scored: int, changed: int, **scope: int | None) -> None:
    """One summary audit event per run that changed scores (a history row each would be
    noise), recorded once the scores are committed: with a caller's transaction or not at all."""
    from audit.services import audit_event_record, request_user

    details = {"scored": scored, "changed": changed, **scope}
    actor = request_user()  # a manager's rescore from the admin; none for the nightly task
    transaction.on_commit(
        lambda: audit_event_record(
            action="rescore", target=Lead, count=changed, details=details, actor=actor
        )
    )


def _rescore_batch(
    leads: QuerySet[Lead],
    *,
    after_id: int,
    size: int,
    signals_by_id_range: bool,
    icps_by_owner: Mapping[int, tuple[IcpSpec, ...]],
    writer: _ScoreWriter,
    now: datetime,
) -> tuple[int, int]:
    """Score one batch and hand its changed scores to the writer; returns (scored, last id)."""
    rows = _batch_rows(leads.filter(pk__gt=after_id), limit=size)
    if not rows:
        return 0, after_id
    if signals_by_id_range:
        # A range rather than a list of thousands of ids keeps the statement small and walks the
        # (lead, occurred_at) index; other owners' signals in the range are loaded and ignored.
        signals = _signals(Q(lead__gte=rows[0]["id"], lead__lte=rows[-1]["id"]), now=now)
    else:
        signals = signals_by_lead([row["id"] for row in rows], now=now)
    writer.write(_changed_scores(rows, signals, icps_by_owner=icps_by_owner, now=now))
    return len(rows), rows[-1]["id"]


@transaction.atomic
def _rescore_locked(
    lead_ids: Sequence[int],
    *,
    icps_by_owner: Mapping[int, tuple[IcpSpec, ...]],
    now: datetime,
    owner_id: int | None = None,
) -> int:
    """Score leads under a row lock (FOR NO KEY UPDATE, as `lead_rescore`) and write them in
    the same transaction; returns the number of rows written. With `owner_id`, only that
    owner's leads among them."""
    leads = Lead.objects.filter(pk__in=lead_ids).order_by("pk")
    if owner_id is not None:
        leads = leads.filter(owner_id=owner_id)
    rows = _batch_rows(leads.select_for_update(of=("self",), no_key=True))
    if not rows:
        return 0
    signals = signals_by_lead(lead_ids, now=now)
    changes = _changed_scores(rows, signals, icps_by_owner=icps_by_owner, now=now)
    return len(_write_changed_scores(changes, now=now))


def _batch_rows(leads: QuerySet[Lead], *, limit: int | None = None) -> list[dict]:
    """The leads' facts, stored scores and `scored_at` (the version the UPDATE checks)."""
    rows = leads.values(*FACT_FIELDS, *SCORE_FIELDS, "scored_at")
    if limit is not None:
        rows = rows[:limit]
    return pg_fast.values_dicts(rows, json_fields=JSON_FACT_FIELDS)


def _changed_scores(
    rows: Sequence[Mapping],
    signals: Mapping[int, Sequence[Signal]],
    *,
    icps_by_owner: Mapping[int, tuple[IcpSpec, ...]],
    now: datetime,
) -> list[ScoreChange]:
    facts = facts_for_leads(rows, signals)
    changes = []
    for row in rows:
        icps = icps_by_owner.get(row["owner_id"], ())
        score = score_lead(facts[row["id"]], icps, now=now, half_life_days=HALF_LIFE_DAYS)
        digest = explanation_digest(score)
        if _changed(row, score, digest):
            changes.append(ScoreChange(row["id"], score, digest, row["scored_at"]))
    return changes


def _changed(row: Mapping, score: LeadScore, digest: str) -> bool:
    return (
        row["fit_score"],
        row["intent_score"],
        row["total_score"],
        row["grade"],
        row["best_icp_id"],
        row["score_digest"],
    ) != (
        score.fit,
        score.intent,
        score.total,
        score.grade,
        score.best_icp_id,
        digest,
    )


def explanation_digest(score: LeadScore) -> str:
    """A 128-bit digest of the explanation's JSON text as the rescoring writes it
    (`LeadScore.explanation_json`), stored beside it in `Lead.score_digest`.

    The bulk run compares it with the stored digest instead of reading the stored
    explanation: how the database stores or prints the JSON (jsonb reorders keys) does not
    matter. A lead whose digest is empty (never scored, or scored before the column existed)
    or was made by another hash (MD5, before xxh3) is simply written again.

    xxh3-128 rather than MD5: nothing here needs a cryptographic hash, and it costs ~0.02 s
    per 100,000 explanations against MD5's ~0.15 s, which made the first scoring slower than
    before the digest existed (docs/performance.md, section 14). Same 32 hex characters.
    """
    return xxhash.xxh3_128_hexdigest(score.explanation_json.encode())


class ScoreChange(NamedTuple):
    """A lead's new score with its explanation digest, and the `scored_at` it had when its
    facts were read."""

    lead_id: int
    score: LeadScore
    digest: str
    read_scored_at: datetime | None


class _ScoreWriter:
    """Writes each batch's changed scores on the run's own connection, as they come.

    `written` counts the rows written; `conflicts` are the leads whose `scored_at` changed
    after they were read (or, rarely, whose new score equals the stored one after all).
    """

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.written = 0
        self.conflicts: set[int] = set()

    def __enter__(self) -> _ScoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def write(self, changes: Sequence[ScoreChange]) -> None:
        if changes:
            self._record(changes, _write_changed_scores(changes, now=self.now))

    def _record(self, changes: Sequence[ScoreChange], written: Sequence[int]) -> None:
        self.written += len(written)
        if len(written) < len(changes):
            self.conflicts.update({change.lead_id for change in changes} - set(written))


class _BackgroundScoreWriter(_ScoreWriter):
    """Writes the UPDATEs from WRITER_THREADS threads, each with its own connection and one
    short transaction per batch.

    The first scoring of 100k leads spent ~9 s in UPDATEs (every row rewritten, with all the
    indexes of leads_lead) and ~3.5 s in Python scoring, one after the other; this way the
    database writes earlier batches while Python scores the next one (psycopg waits without
    the GIL). Batches touch disjoint rows, so the writers never wait for each other; at most
    WRITER_THREADS batches wait in the queue. The main connection's execute wrappers
    (statement counters) are installed on the writers' connections too.
    """

    def __init__(self, *, now: datetime) -> None:
        super().__init__(now=now)
        self._queue: queue.Queue[list[ScoreChange] | None] = queue.Queue(maxsize=WRITER_THREADS)
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._wrappers = list(connection.execute_wrappers)
        self._threads = [
            threading.Thread(target=self._run, name=f"rescore-writer-{number}", daemon=True)
            for number in range(WRITER_THREADS)
        ]

    def __enter__(self) -> _BackgroundScoreWriter:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error

    def write(self, changes: Sequence[ScoreChange]) -> None:
        if self._error is not None:
            raise self._error
        if changes:
            self._queue.put(list(changes))

    def _run(self) -> None:
        # `connection` is this thread's own connection; closed when the run ends.
        connection.execute_wrappers.extend(self._wrappers)
        try:
            while (changes := self._queue.get()) is not None:
                if self._error is None:
                    try:
                        written = self._write_async_commit(changes)
                        with self._lock:
                            self._record(changes, written)
                    except BaseException as error:  # re-raised in the run's thread
                        self._error = error
        finally:
            connection.close()

    def _write_async_commit(self, changes: Sequence[ScoreChange]) -> list[int]:
        with transaction.atomic():
            # Scores are derived data: a batch lost in a server crash is recomputed by the
            # next run, so its commit need not wait for the WAL flush (~50 ms a batch on a
            # slow disk).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            return _write_changed_scores(changes, now=self.now)


def _write_changed_scores(changes: Sequence[ScoreChange], *, now: datetime) -> list[int]:
    """One UPDATE for the changed scores of a batch; returns the ids of the rows written.

    A row is written only if its `scored_at` is still the one read with its facts (else a
    newer score is there) and its score or explanation digest differs from the new one. The
    scores travel as a single JSON parameter (jsonb_to_recordset on PostgreSQL, json_each on
    SQLite): measured faster than UPDATE … FROM (VALUES …) with 14,000 placeholders, which
    psycopg and the server both have to parse.
    """
    if not changes:
        return []
    # Written out by hand around each explanation's JSON text (built once, for the digest):
    # ints, a grade letter, a hex digest and a datetime's text need no escaping.
    rows = ", ".join(
        f'{{"id": {lead_id:d}, "fit": {score.fit:d}, "intent": {score.intent:d}, '
        f'"total": {score.total:d}, "grade": "{score.grade}", '
        f'"best_icp_id": {"null" if score.best_icp_id is None else f"{score.best_icp_id:d}"}, '
        f'"read_at": {pg_fast.datetime_json(read_at)}, '
        f'"digest": "{digest}", '
        f'"explanation": {score.explanation_json}}}'
        for lead_id, score, digest, read_at in changes
    )
    with pg_fast.json_param_cursor() as cursor:
        cursor.execute(
            _UPDATE_CHANGED_SQL[connection.vendor],
            [connection.ops.adapt_datetimefield_value(now), f"[{rows}]"],
        )
        return [lead_id for (lead_id,) in cursor.fetchall()]


_UPDATE_CHANGED_SQL = {
    "postgresql": """
        UPDATE leads_lead AS l
        SET fit_score = v.fit, intent_score = v.intent, total_score = v.total,
            grade = v.grade, best_icp_id = v.best_icp_id, score_explanation = v.explanation,
            score_digest = v.digest, scored_at = %s
        FROM jsonb_to_recordset(%s::jsonb) AS v(
            id bigint, fit smallint, intent smallint, total smallint, grade varchar,
            best_icp_id bigint, explanation jsonb, digest varchar, read_at timestamptz
        )
        WHERE l.id = v.id
          AND l.scored_at IS NOT DISTINCT FROM v.read_at
          AND (l.fit_score, l.intent_score, l.total_score, l.grade, l.best_icp_id,
               l.score_digest)
              IS DISTINCT FROM (v.fit, v.intent, v.total, v.grade, v.best_icp_id, v.digest)
        RETURNING l.id
    """,
    # SQLite ≥ 3.35 (UPDATE … FROM … RETURNING). `read_at` is in the text form Django stores
    # datetimes in.
    "sqlite": """
        UPDATE leads_lead
        SET fit_score = v.fit, intent_score = v.intent, total_score = v.total,
            grade = v.grade, best_icp_id = v.best_icp_id, score_explanation = v.explanation,
            score_digest = v.digest, scored_at = %s
        FROM (
            SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.fit') AS fit,
                   json_extract(value, '$.intent') AS intent,
                   json_extract(value, '$.total') AS total,
                   json_extract(value, '$.grade') AS grade,
                   json_extract(value, '$.best_icp_id') AS best_icp_id,
                   json_extract(value, '$.explanation') AS explanation,
                   json_extract(value, '$.digest') AS digest,
                   json_extract(value, '$.read_at') AS read_at
            FROM json_each(%s)
        ) AS v
        WHERE leads_lead.id = v.id
          AND leads_lead.scored_at IS v.read_at
          AND (leads_lead.fit_score IS NOT v.fit
               OR leads_lead.intent_score IS NOT v.intent
               OR leads_lead.total_score IS NOT v.total
               OR leads_lead.grade IS NOT v.grade
               OR leads_lead.best_icp_id IS NOT v.best_icp_id
               OR leads_lead.score_digest IS NOT v.digest)
        RETURNING id
    """,
}


# ---------------------------------------------------------------------------------------------
# Requests from other apps: recorded with the edit, enqueued after commit, coalesced
# ---------------------------------------------------------------------------------------------

# The sweep sends a request again once it has waited this long: longer than RESCORE_COUNTDOWN
# and the coalescing window, so a request on its way through a healthy broker is not sent twice.
SWEEP_GRACE = timedelta(minutes=2)
# Requests sent per sweep (one broker message each); the sweep runs every minute.
SWEEP_LIMIT = 500
# The task that serves each kind of request, by its name in icp.tasks.
RESCORE_TASKS = {
    RescoreKind.LEAD: "rescore_lead",
    RescoreKind.ICP: "rescore_icp_leads",
    RescoreKind.OWNER: "rescore_owner_leads",
}


def rescore_key(kind: str, target_id: int) -> str:
    """The cache key held while a rescore of this target is queued and not yet started."""
    return f"rescore:{kind}:{target_id}"


def lead_rescore_key(lead_id: int) -> str:
    return rescore_key(RescoreKind.LEAD, lead_id)


def icp_rescore_key(icp_id: int) -> str:
    return rescore_key(RescoreKind.ICP, icp_id)


# Set while a bulk writer (an import) defers rescoring: the lead ids it would have enqueued.
_deferred: ContextVar[set[int] | None] = ContextVar("deferred_rescores", default=None)


def request_rescore(lead_id: int) -> None:
    """Rescore a lead after the caller's transaction commits; a burst of edits costs one run.

    Call it inside the transaction that changed the lead or its activities: the request is
    recorded there (a `RescoreRequest` row, committed or rolled back with the edit) and the
    task is enqueued after commit. The cache key is held until the task starts (the task
    deletes it and the row first), so an edit made while the task is scoring enqueues a new
    run instead of being lost. If the broker cannot take the task, the row stays and
    `rescore_requests_sweep` sends it later. Inside `deferred_rescores` the request is only
    noted.
    """
    deferred = _deferred.get()
    if deferred is not None:
        deferred.add(lead_id)
        return
    _request(RescoreKind.LEAD, lead_id)


@contextmanager
def deferred_rescores(*, owner_id: int) -> Iterator[None]:
    """Write many of one owner's leads, then rescore them in one bulk run, not a task each.

    A 50,000-row import would otherwise put 50,000 single-lead tasks on the broker (and
    50,000 request rows in the database): it records one owner request at the end.
    """
    deferred: set[int] = set()
    token = _deferred.set(deferred)
    try:
        yield
    finally:
        _deferred.reset(token)
        if deferred:
            request_owner_rescore(owner_id)


def request_icp_rescore(icp_id: int) -> None:
    """Rescore every lead an ICP can score (its owner's) after the caller's transaction commits."""
    _request(RescoreKind.ICP, icp_id)


def request_owner_rescore(owner_id: int) -> None:
    """Rescore all of one owner's leads after commit (an ICP was deleted or changed hands)."""
    _request(RescoreKind.OWNER, owner_id)


def _request(kind: RescoreKind, target_id: int) -> None:
    # One row per target: a second request finds the first and keeps its (older) time. The
    # conflict's no-op update is there for its row lock: a task that starts meanwhile waits
    # at its DELETE for this transaction, then reads what it wrote (PostgreSQL; SQLite
    # serialises writers anyway).
    RescoreRequest.objects.bulk_create(
        [RescoreRequest(kind=kind, target_id=target_id, requested_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["kind", "target_id"],
        update_fields=["kind"],
    )
    # robust: the edit and its request are committed either way; a broker outage is logged,
    # not shown to the user, and the sweep sends the request once the broker is back.
    transaction.on_commit(lambda: _enqueue(kind, target_id), robust=True)


def _enqueue(kind: str, target_id: int) -> bool:
    """Send the rescore task unless one is queued and not yet started; True if sent."""
    from icp import tasks  # imported late: icp.tasks imports this module

    key = rescore_key(kind, target_id)
    if not cache.add(key, 1, timeout=COALESCE_SECONDS):
        return False  # a run is already queued and has not started yet
    try:
        getattr(tasks, RESCORE_TASKS[RescoreKind(kind)]).apply_async(
            (target_id,), countdown=RESCORE_COUNTDOWN
        )
    except Exception:
        cache.delete(key)  # so the next edit tries again rather than waiting a minute
        raise
    return True


def rescore_request_take(*, kind: str, target_id: int) -> None:
    """Mark a rescore as started: what a rescore task does first, before it reads anything.

    Its request row and cache key go, so an edit committed from now on records a new request
    (and enqueues a new run): it is never folded into a run that may have read the facts
    before it. An edit committing right now holds the row's lock and this waits for it.
    """
    cache.delete(rescore_key(kind, target_id))
    RescoreRequest.objects.filter(kind=kind, target_id=target_id).delete()


def rescore_requests_forget(*, lead_id: int) -> None:
    """Drop what is held about a lead's pending rescore (its erasure): the row now, in the
    caller's transaction, and the cache key once it commits."""
    RescoreRequest.objects.filter(kind=RescoreKind.LEAD, target_id=lead_id).delete()
    transaction.on_commit(lambda: cache.delete(lead_rescore_key(lead_id)))


def rescore_requests_forget_many(
    *, lead_ids: list[int], icp_ids: list[int], owner_ids: list[int]
) -> dict[str, int]:
    """Drop the pending rescores of leads, ICPs and owners being deleted (demo removal), in
    the caller's transaction; rows deleted per model label, as QuerySet.delete() says."""
    targets = (
        Q(kind=RescoreKind.LEAD, target_id__in=lead_ids)
        | Q(kind=RescoreKind.ICP, target_id__in=icp_ids)
        | Q(kind=RescoreKind.OWNER, target_id__in=owner_ids)
    )
    _, per_model = RescoreRequest.objects.filter(targets).delete()
    return per_model


def rescore_requests_sweep(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Send again the rescore requests still waiting after SWEEP_GRACE; how many were sent.

    They are those whose task never reached the broker (it was down when the edit was saved)
    or was lost with it. Run every minute by beat: one indexed query when nothing waits, at
    most `limit` messages a run, oldest first. A request sent is not sent again for another
    SWEEP_GRACE (its time is moved on), and one whose run is queued already is left to it.
    If the broker is still unreachable, the sweep stops and the next one tries again.
    """
    now = now or timezone.now()
    waiting = (
        RescoreRequest.objects.filter(requested_at__lte=now - SWEEP_GRACE)
        .order_by("requested_at")
        .values_list("pk", "kind", "target_id")[:limit]
    )
    sent: list[int] = []
    for request_id, kind, target_id in waiting:
        try:
            if _enqueue(kind, target_id):
                sent.append(request_id)
        except Exception:
            logger.warning("Rescore requests wait: the broker is unreachable.", exc_info=True)
            break
    if sent:
        RescoreRequest.objects.filter(pk__in=sent).update(requested_at=now)
    return len(sent)


def _signal_order(signal: Signal) -> tuple[datetime, str]:
    return signal[1], signal[0]


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value else None


def _lead_tags(lead_tags: object, company_tags: object) -> frozenset[str]:
    """A lead's tags and its company's, as compared. Leads share a few dozen combinations, so
    each is normalised once (per lead it was ~15% of a bulk run's scoring)."""
    lead_key, company_key = _tag_key(lead_tags), _tag_key(company_tags)
    if lead_key is None or company_key is None:
        return _tags(lead_tags) | _tags(company_tags)
    return _tags_combined(lead_key, company_key)


def _tag_key(tags: object) -> tuple[str, ...] | None:
    """The tags as a memo key, or None unless they are a list of texts (as the services save
    them): 1 and True are equal keys but different tags."""
    if not tags or not isinstance(tags, list):
        return ()
    key = tuple(tags)
    return key if set(map(type, key)) == {str} else None


@lru_cache(maxsize=4096)
def _tags_combined(lead_tags: tuple[str, ...], company_tags: tuple[str, ...]) -> frozenset[str]:
    return _tags(list(lead_tags)) | _tags(list(company_tags))


def _tags(tags: object) -> frozenset[str]:
    if not tags or not isinstance(tags, list):
        return frozenset()
    return frozenset([text for tag in tags if (text := str(tag).strip().lower())])
