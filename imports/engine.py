"""The import engine: a parsed file's rows → candidates → matched against what the owner has →
created, filled in or skipped, in batches, through `leads.services` only.

Efficiency: the owner's leads (for matching) and companies are each read in one query up front,
and every row is matched and validated in memory (`leads.services.lead_new`: the checks
`lead_create` makes, less their queries). The rows are then written a batch at a time, each
batch in one transaction of a few statements (`leads_bulk_create`, `leads_bulk_fill_empty_fields`
and the companies first), whatever its size: the number of queries grows with the batches, not
the rows. On PostgreSQL, with no transaction open, a batch is written on a connection of its
own while the next one is planned (`_BackgroundWriter`); each batch still commits whole and in
order.

Network pool: an import of the salesperson's own contacts may put its new leads in the
network pool (`ImportOptions.network`) rather than give each a first touch on the next business
day. Each batch then plans its leads' reconnects in the free places after what the pool already
holds (`reconnect_slots`, in file order: the new leads have no score yet, the import's rescoring
being one Celery run at the end). Once every batch is in, the import scores its new leads
itself, set-based, and plans the whole pool again best fit first (`reconnects_plan`), so the
plan is in fit order when the import says what happens next. A run that stops halfway leaves
its leads spread a few a day all the same; the beat job orders them once they are scored.

Failures: a row that does not validate is reported (row, column, reason) and left out of its
batch. A batch the database refuses (a unique email or profile another write took meanwhile, a
matched lead that can't take a value) is rolled back and written again one row per
transaction, so the bad row is reported and the others kept; nothing of a row is ever half
written. Progress is saved inside each batch's transaction, so a run that stops resumes after
its last committed batch and writes no row twice.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    DataError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from accounts.models import User
from icp.rescoring import deferred_rescores, leads_rescore
from imports.candidates import Candidate, CandidateContext, RowError, build_candidate
from imports.dedupe import Action, DedupeIndex, Known, Plan, UndoLog
from imports.models import DuplicatePolicy
from imports.parsing import ParsedFile
from leadhunter.gc_pause import cyclic_gc_paused
from leads.models import Company, Lead, Source
from leads.normalize import normalize_domain
from leads.services import (
    companies_bulk_set_domain,
    company_new,
    lead_new,
    leads_bulk_create,
    leads_bulk_fill_empty_fields,
    reconnect_slots,
    reconnects_plan,
)

# Rows per transaction: big enough that the statements per batch cost little per row, small
# enough that a resumed import redoes little and a batch's leads sit easily in memory.
BATCH_ROWS = 1000
PREVIEW_ROWS = 20
# What the database may refuse in a batch that validated in memory: the batch is then retried
# row by row. Anything else (a lost connection, the time limit) stops the import.
REFUSALS = (IntegrityError, ValidationError, DataError)
CONFLICT = "Conflicts with a lead saved at the same time; import the file again."
DELETED = "The lead this row matches was deleted meanwhile; import the file again."


@dataclass(frozen=True)
class ImportOptions:
    """How to read one file: the lead source for rows naming none ("" = by format), what to
    do with duplicates, and the column mapping (None = the automatic one); and for the leads
    it creates, the tags to add and whether they join the network pool."""

    source: str = ""
    duplicates: str = DuplicatePolicy.FILL_EMPTY
    mapping: list[str] | None = None
    # The referral source every new lead is credited to (a ReferralSource), if any.
    referred_by: object | None = None
    tags: tuple[str, ...] = ()
    network: bool = False


@dataclass
class ImportResult:
    """Counts add up: created + updated + skipped_duplicates + errors = rows processed."""

    created: int = 0
    updated: int = 0
    skipped_duplicates: int = 0
    errors: int = 0
    error_rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.skipped_duplicates + self.errors

    def add_errors(self, errors: list[RowError]) -> None:
        self.errors += 1
        self.error_rows += [error.as_dict() for error in errors]

    def plus(self, other: ImportResult) -> ImportResult:
        """These counts and another batch's, as a new result."""
        return ImportResult(
            created=self.created + other.created,
            updated=self.updated + other.updated,
            skipped_duplicates=self.skipped_duplicates + other.skipped_duplicates,
            errors=self.errors + other.errors,
            error_rows=self.error_rows + sorted(other.error_rows, key=_by_row),
        )

    def take(self, other: ImportResult) -> None:
        """Become `other` (a committed batch's `plus`), keeping this object for the caller."""
        self.created, self.updated = other.created, other.updated
        self.skipped_duplicates, self.errors = other.skipped_duplicates, other.errors
        self.error_rows = other.error_rows

    def as_dict(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped_duplicates": self.skipped_duplicates,
            "errors": self.errors,
            "error_rows": self.error_rows,
        }


@dataclass(frozen=True)
class PreviewRow:
    """A row as the import would treat it."""

    row: int
    candidate: Candidate | None
    errors: list[RowError]
    plan: Plan | None

    @property
    def action(self) -> str:
        return "error" if self.errors else str(self.plan.action)

    @property
    def duplicate_of(self) -> Known | None:
        return self.plan.known if self.plan else None

    @property
    def fill_labels(self) -> list[str]:
        """The fields a fill would set, in the salesperson's words ("job title")."""
        fills = self.plan.fills if self.plan else ()
        return [str(Lead._meta.get_field(name).verbose_name) for name in fills]


def candidates(
    parsed: ParsedFile, options: ImportOptions, *, skip_rows: int = 0
) -> Iterator[tuple[int, Candidate | list[RowError]]]:
    """Each data row (after the first `skip_rows`, not even read into candidates) as the lead
    it would become, or its errors. Streamed: one row at a time."""
    context = CandidateContext(format=parsed.format, source=options.source)
    for record in itertools.islice(parsed.records(options.mapping), skip_rows, None):
        yield record.row, build_candidate(record, context)


def preview(
    parsed: ParsedFile, *, owner: User, options: ImportOptions, limit: int = PREVIEW_ROWS
) -> list[PreviewRow]:
    """The first rows as they would be imported (new, filling in a lead, duplicate, error),
    without writing: earlier rows count as leads for the duplicates of later ones."""
    index = DedupeIndex.for_owner(owner)
    rows = []
    for row, candidate in candidates(parsed, options):
        if len(rows) >= limit:
            break
        if isinstance(candidate, list):
            rows.append(PreviewRow(row, None, candidate, None))
            continue
        plan = index.plan(candidate, options.duplicates)
        if plan.action == Action.CREATE:
            index.remember(_known_from(candidate, ref=-row, company_name=candidate.company_name))
        rows.append(PreviewRow(row, candidate, [], plan))
    return rows


def import_file(
    parsed: ParsedFile,
    *,
    owner: User,
    options: ImportOptions,
    skip_rows: int = 0,
    result: ImportResult | None = None,
    on_progress: Callable[[ImportResult], None] | None = None,
    batch_rows: int | None = None,
) -> ImportResult:
    """Import every row (after the first `skip_rows`, already done by an interrupted run whose
    counts `result` carries on). Importing the same file again creates and changes nothing.

    `on_progress` is called with the counts so far inside each batch's transaction, so what it
    saves is committed with the batch's rows or not at all: on PostgreSQL, from the thread and
    connection that write the batches (see `_BackgroundWriter`).
    """
    result = result or ImportResult()
    # One bulk rescore of the owner's leads at the end instead of a task per imported lead.
    # The collector runs once at the end (see cyclic_gc_paused): each batch allocates
    # hundreds of thousands of short-lived objects, and every full pass of the collector walks
    # the index of the owner's leads too.
    with cyclic_gc_paused(collect_after=True), deferred_rescores(owner_id=owner.pk):
        importer = _Importer(owner=owner, options=options, on_progress=on_progress)
        rows = candidates(parsed, options, skip_rows=skip_rows)

        def next_batch() -> list[RowCandidate]:
            return [
                candidate for _row, candidate in itertools.islice(rows, batch_rows or BATCH_ROWS)
            ]

        importer.import_batches(iter(next_batch, []), result)
    if options.network:
        _plan_network_pool(owner, importer.created_ids)
    if on_progress is not None:
        on_progress(result)
    return result


RowCandidate = Candidate | list[RowError]
# New leads scored per statement batch before the pool is planned (see `_plan_network_pool`).
RESCORE_CHUNK = 5000


def _plan_network_pool(owner: User, created_ids: list[int]) -> None:
    """Score the leads this run added to the pool, then plan the pool best fit first.

    The import defers its rescoring to one Celery run after it (`deferred_rescores`), so the
    new leads would still have no score here: they are scored now, a few statements per 5,000
    leads (`leads_rescore` writes only what changed, and the later run finds nothing to do).
    """
    for start in range(0, len(created_ids), RESCORE_CHUNK):
        leads_rescore(lead_ids=created_ids[start : start + RESCORE_CHUNK])
    reconnects_plan(owner=owner)


@dataclass
class _NewLead:
    """A lead a batch will create: what it is created from, the checked unsaved lead, and the
    batch that creates it."""

    values: dict[str, object]
    lead: Lead
    batch: _Batch


@dataclass
class _Batch:
    """What a batch of rows will write, planned in memory before any of it is."""

    creates: list[Known] = field(default_factory=list)
    # Existing leads' fills: the values by lead id, and each row's part.
    fills: dict[int, dict[str, object]] = field(default_factory=dict)
    fill_rows: list[tuple[Candidate, Known, tuple[str, ...]]] = field(default_factory=list)
    domains: dict[int, Company] = field(default_factory=dict)  # existing companies, by id
    # Companies the batch plans to create (by id()), and those its write saved.
    new_companies: set[int] = field(default_factory=set)
    saved_companies: list[Company] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return bool(self.creates or self.fills or self.domains)


@dataclass
class _Planned:
    """A batch planned and handed to the writer: its rows (written one by one if the database
    refuses the batch), what it writes and counts, where its plan begins in the undo log, and
    the write (its result: the database's refusal, or None)."""

    rows: list[RowCandidate]
    batch: _Batch
    outcome: ImportResult
    now: datetime
    mark: int
    written: Future[Exception | None] | None = None


# How long a stopping import waits for the batch on its way before cancelling its write.
STOP_GRACE_SECONDS = 10


class _InFlight:
    """The batch being written, if any: a batch is planned while the one before it is."""

    def __init__(self) -> None:
        self.planned: _Planned | None = None

    def settle(self) -> None:
        """Wait for the batch being written; raises _Refused if the database refused it (it
        is left here, for its rows to be written one by one), or whatever else stopped it."""
        planned = self.planned
        if planned is None:
            return
        try:
            refusal = planned.written.result()
        except BaseException:
            self.planned = None
            raise
        if refusal is not None:
            raise _Refused
        self.planned = None

    def writes_company(self, company: Company) -> bool:
        """Whether the batch being written creates this company or records its domain: the
        writer sets its id and domain meanwhile."""
        batch = self.planned.batch if self.planned is not None else None
        return batch is not None and (
            id(company) in batch.new_companies or batch.domains.get(company.pk) is company
        )


class _Refused(Exception):
    """The database refused the batch being written: its rows are to be written one by one,
    and what was planned after it planned again."""


class _Importer:
    """Plans each batch in memory and hands it to a writer; with a background writer (see
    `_BackgroundWriter`) a batch is planned while the one before it is written.

    A batch is planned on top of the batches before it (their leads and companies are in the
    index), so if the database refuses the batch being written, the plan made meanwhile is
    taken back with it: the refused batch's rows are written one per transaction, then the
    next batch is planned again. A row that would fill in a lead, or give a domain to a
    company, that the batch being written creates waits for that write first.
    """

    def __init__(
        self,
        *,
        owner: User,
        options: ImportOptions,
        on_progress: Callable[[ImportResult], None] | None = None,
    ) -> None:
        self.owner = owner
        self.options = options
        self.on_progress = on_progress
        self.undo = UndoLog()
        self.index = DedupeIndex.for_owner(owner, undo=self.undo)
        self.flight = _InFlight()
        self.companies = _Companies(owner, self.undo, self.flight)
        # Into the network pool: where the reconnects go, and the leads this run created.
        self.slots = reconnect_slots(owner=owner) if options.network else None
        self.created_ids: list[int] = []
        self.writer = _writer_for(network=options.network)

    def import_batches(self, batches: Iterable[list[RowCandidate]], result: ImportResult) -> None:
        """Plan and write each batch in one transaction with its progress; a batch the
        database refuses is taken back and its rows written one per transaction."""
        with self.writer:
            try:
                for rows in batches:
                    planned = self._plan_next(rows, result)
                    planned.written = self.writer.submit(self._write_planned, planned, result)
                    self.flight.planned = planned
            except BaseException:
                # Stopping (its time limit, a file that can't be read further): the batch on
                # its way may be waiting for a lock; past a grace period it is cancelled, and
                # a resumed run writes it.
                self.writer.cancel_after(STOP_GRACE_SECONDS)
                raise
            finally:
                # Even when stopping: a refused batch's other rows are written.
                try:
                    self.flight.settle()
                except _Refused:
                    self._write_refused_one_by_one(result)
            self.undo.forget()

    def _plan_next(self, rows: list[RowCandidate], result: ImportResult) -> _Planned:
        """Plan a batch while the one before it is written, then wait for that write."""
        mark = self.undo.mark()
        try:
            planned = self._plan_rows(rows, mark)
            self.flight.settle()
        except _Refused:
            self._write_refused_one_by_one(result)
            return self._plan_rows(rows, self.undo.mark())
        self.undo.forget_before(mark)  # the batch before is committed
        planned.mark = 0
        return planned

    def _write_refused_one_by_one(self, result: ImportResult) -> None:
        planned, self.flight.planned = self.flight.planned, None
        self.undo.undo_to(planned.mark)  # its plan, and whatever was planned after it
        for candidate in planned.rows:
            self._import_one(candidate, result)

    def _import_one(self, candidate: RowCandidate, result: ImportResult) -> None:
        planned = self._plan_rows([candidate], self.undo.mark())
        error = self._write_planned(planned, result)
        if error is None:
            self.undo.forget()
            return
        self.undo.undo_to(planned.mark)
        outcome = ImportResult()
        outcome.add_errors(_refusal_errors(candidate, error))
        merged = result.plus(outcome)
        if self.on_progress is not None:
            self.on_progress(merged)
        result.take(merged)

    def _plan_rows(self, rows: list[RowCandidate], mark: int) -> _Planned:
        now = timezone.now()
        batch = _Batch()
        outcome = ImportResult()
        for candidate in rows:
            self._plan(candidate, batch, outcome, now)
        # If the batch is rolled back, the companies its write saved must look unsaved again.
        self.undo.add(lambda: [_unsave(company) for company in batch.saved_companies])
        return _Planned(rows, batch, outcome, now, mark)

    def _write_planned(self, planned: _Planned, result: ImportResult) -> Exception | None:
        """Write a planned batch and save the progress, in one transaction; returns the
        database's refusal (nothing of the batch written), or None. On the background writer's
        thread and connection when there is one."""
        batch, outcome = planned.batch, planned.outcome
        if batch.writes or self.on_progress is not None:
            try:
                with transaction.atomic():
                    if batch.writes:
                        self._write(batch, outcome, planned.now)
                    if self.on_progress is not None:
                        self.on_progress(result.plus(outcome))
            except REFUSALS as error:
                return error
        result.take(result.plus(outcome))
        return None

    # --- Planning: in memory, no queries -------------------------------------------------

    def _plan(
        self, candidate: RowCandidate, batch: _Batch, outcome: ImportResult, now: datetime
    ) -> None:
        if isinstance(candidate, list):
            outcome.add_errors(candidate)
            return
        mark = self.undo.mark()
        plan = self.index.plan(candidate, self.options.duplicates)
        if plan.action == Action.FILL and _created_by_another_batch(plan.known, batch):
            self.flight.settle()  # the lead is being written: fill it in once it is
            plan = self.index.plan(candidate, self.options.duplicates)
        try:
            if plan.action == Action.CREATE:
                self._plan_create(candidate, batch, now)
                outcome.created += 1
            elif plan.action == Action.FILL and plan.known.pending is not None:
                self._plan_fill_new(candidate, plan, batch, now)
                outcome.updated += 1
            elif plan.action == Action.FILL:
                self._plan_fill(candidate, plan, batch)  # counted once written
            else:
                outcome.skipped_duplicates += 1
        except ValidationError as error:
            self.undo.undo_to(mark)
            outcome.add_errors(_row_errors(candidate, error))

    def _plan_create(self, candidate: Candidate, batch: _Batch, now: datetime) -> None:
        company = self.companies.resolve(candidate, batch)
        values = {"company": company, **candidate.lead_values()}
        if self.options.referred_by is not None:
            # Only the leads the import adds: a lead the owner already has keeps its story.
            values |= {"referred_by": self.options.referred_by, "source": Source.REFERRAL}
        if self.options.tags:
            values["tags"] = list(self.options.tags)
        lead = lead_new(owner=self.owner, now=now, **values)
        known = _known_from(candidate, ref=0, company_name=company.name if company else "")
        known.pending = _NewLead(values, lead, batch)
        self.index.remember(known)
        batch.creates.append(known)

    def _plan_fill_new(
        self, candidate: Candidate, plan: Plan, batch: _Batch, now: datetime
    ) -> None:
        """A later row about a lead this batch creates: its values join the lead's."""
        new: _NewLead = plan.known.pending
        values = self._fill_values(candidate, plan, batch)
        merged = {**new.values, **values}
        lead = lead_new(owner=self.owner, now=now, **merged)  # checked again, whole
        before = (new.values, new.lead)
        self.undo.add(lambda: _restore_new(new, before))
        new.values, new.lead = merged, lead
        self._record_fill(candidate, plan, values)

    def _plan_fill(self, candidate: Candidate, plan: Plan, batch: _Batch) -> None:
        values = self._fill_values(candidate, plan, batch)
        pending = batch.fills.setdefault(plan.known.ref, {})
        for name, value in values.items():
            pending.setdefault(name, value)
        batch.fill_rows.append((candidate, plan.known, tuple(values)))
        self._record_fill(candidate, plan, values)

    def _fill_values(self, candidate: Candidate, plan: Plan, batch: _Batch) -> dict[str, object]:
        values: dict[str, object] = {
            name: getattr(candidate, name) for name in plan.fills if name != "company"
        }
        if "company" in plan.fills:
            values["company"] = self.companies.resolve(candidate, batch)
        return values

    def _record_fill(self, candidate: Candidate, plan: Plan, values: dict[str, object]) -> None:
        company = values.get("company")
        self.index.filled(plan.known, candidate, plan.fills, company.name if company else "")

    # --- Writing: a few statements per batch ---------------------------------------------

    def _write(self, batch: _Batch, outcome: ImportResult, now: datetime) -> None:
        batch.saved_companies = _unsaved_companies(batch)
        companies_bulk_set_domain(companies=list(batch.domains.values()), now=now)
        leads = [known.pending.lead for known in batch.creates]
        created = leads_bulk_create(
            leads=leads, created_by=self.owner, now=now, reconnects_due=self._reconnects(leads)
        )
        for known, lead in zip(batch.creates, created, strict=True):
            known.ref, known.pending = lead.pk, None
        if self.slots is not None:
            mark = len(self.created_ids)
            self.undo.add(lambda: self.created_ids.__delitem__(slice(mark, None)))
            self.created_ids += [lead.pk for lead in created]
        if not batch.fills:
            return
        filled = leads_bulk_fill_empty_fields(
            owner=self.owner, user=self.owner, values_by_lead=batch.fills, now=now
        )
        for candidate, known, names in batch.fill_rows:
            if known.ref not in filled:
                outcome.add_errors([RowError(candidate.row, "", DELETED)])
            elif set(names) & set(filled[known.ref]):
                outcome.updated += 1
            else:  # someone filled these fields since the import read the lead
                outcome.skipped_duplicates += 1

    def _reconnects(self, leads: list[Lead]) -> list[datetime] | None:
        """The next free places in the pool's plan for these leads (None: not into the pool);
        a batch the database refuses gives its places back."""
        if self.slots is None or not leads:
            return None
        state = self.slots.state()
        self.undo.add(lambda: self.slots.restore(state))
        return self.slots.take(len(leads))


class _Companies:
    """The owner's companies by domain and by name, read once. A row's company is found by its
    domain, else its name (recording the domain on a company known by name only, as
    `company_find_or_create` does), else planned as a new company for its batch to create."""

    def __init__(self, owner: User, undo: UndoLog, flight: _InFlight) -> None:
        self.owner = owner
        self.undo: UndoLog | None = None  # the companies read now are not a batch's to undo
        self.flight = flight
        self.by_domain: dict[str, Company] = {}
        self.by_name: dict[str, Company] = {}
        for company in (
            Company.objects.filter(owner=owner)
            .order_by("id")
            .only("id", "owner_id", "name", "domain", "country")
            .iterator(chunk_size=5000)
        ):
            self._remember(company)
        self.undo = undo

    def resolve(self, candidate: Candidate, batch: _Batch) -> Company | None:
        if not candidate.has_company:
            return None
        domain = normalize_domain(candidate.company_domain)
        company = self.by_domain.get(domain) if domain else None
        if company is None and candidate.company_name:
            company = self.by_name.get(candidate.company_name.casefold())
            if company is not None and domain and self.flight.writes_company(company):
                self.flight.settle()  # its row is being written: add the domain after
            if company is not None and domain and not company.domain:
                self._set_domain(company, domain, batch)
        if company is None:
            try:
                company = company_new(
                    owner=self.owner, name=candidate.company_name or domain, domain=domain
                )
            except ValidationError as error:
                raise ValidationError({"company": error.messages}) from None
            batch.new_companies.add(id(company))
            self._remember(company)
        return company

    def _set_domain(self, company: Company, domain: str, batch: _Batch) -> None:
        company.domain = domain
        self.undo.add(lambda: setattr(company, "domain", ""))
        self._add(self.by_domain, domain, company)
        if company.pk is not None:  # a new company is created with it
            batch.domains[company.pk] = company

    def _remember(self, company: Company) -> None:
        if company.domain:
            self._add(self.by_domain, company.domain, company)
        self._add(self.by_name, company.name.casefold(), company)

    def _add(self, keys: dict[str, Company], key: str, company: Company) -> None:
        if key in keys:
            return
        keys[key] = company
        if self.undo is not None:
            self.undo.add(lambda: keys.pop(key, None))


def _unsave(instance: Company) -> None:
    instance.pk = None
    instance._state.adding = True


def _unsaved_companies(batch: _Batch) -> list[Company]:
    """The companies a batch's write will save: new ones its leads point at."""
    companies = [known.pending.lead.company for known in batch.creates]
    companies += [values.get("company") for values in batch.fills.values()]
    unsaved = {id(company): company for company in companies if company and company.pk is None}
    return list(unsaved.values())


def _created_by_another_batch(known: Known, batch: _Batch) -> bool:
    """Whether a matched lead is one an earlier batch, still being written, creates."""
    pending = known.pending
    return isinstance(pending, _NewLead) and pending.batch is not batch


def _writer_for(*, network: bool) -> _InlineWriter | _BackgroundWriter:
    """In the background on PostgreSQL when the caller has no transaction open: the writer's
    connection can't see what an open transaction wrote, and would wait for what it locked.
    An import into the network pool is written inline: its write takes the pool's next free
    places and notes the leads it created, each with an undo step, which must not land in the
    middle of the next batch's plan."""
    if (
        connection.vendor == "postgresql"
        and connection.get_autocommit()
        and not connection.in_atomic_block
        and not network
    ):
        return _BackgroundWriter()
    return _InlineWriter()


class _InlineWriter:
    """Writes each batch as it is handed over, on this thread and connection."""

    def __enter__(self) -> _InlineWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def submit(
        self, write: Callable[..., Exception | None], *args: object
    ) -> Future[Exception | None]:
        future: Future[Exception | None] = Future()
        future.set_result(write(*args))  # anything but a refusal is raised here
        return future

    def cancel_after(self, seconds: float) -> None:
        return None  # nothing is on its way


class _BackgroundWriter:
    """Writes each batch on a connection of its own, in one thread, while the import plans
    the next batch: the database's work (the rows, their indexes, the foreign-key checks at
    commit: about a third of an import of new leads) no longer waits for the planning, nor
    the planning for it. psycopg waits for the server without the GIL.

    One batch at a time, in order: the importer waits for a batch's write before it hands
    over the next one. The writer runs in a copy of the importer's context (the deferred
    rescores) and with its connection's execute wrappers (statement counters)."""

    def __init__(self) -> None:
        wrappers = list(connection.execute_wrappers)
        self._writing: Future[Exception | None] | None = None
        self._database: BaseDatabaseWrapper | None = None

        def start() -> None:
            connection.execute_wrappers.extend(wrappers)
            self._database = connections[DEFAULT_DB_ALIAS]  # this thread's own

        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="import-writer", initializer=start
        )

    def __enter__(self) -> _BackgroundWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # After the batch on its way (if the import stopped on an error), the writer closes
        # its connection (`connection` is looked up on its thread, not this one).
        self._executor.submit(lambda: connection.close())
        self._executor.shutdown(wait=True)

    def submit(
        self, write: Callable[..., Exception | None], *args: object
    ) -> Future[Exception | None]:
        self._writing = self._executor.submit(contextvars.copy_context().run, write, *args)
        return self._writing

    def cancel_after(self, seconds: float) -> None:
        """Give the batch on its way `seconds` to finish, then cancel its statement (psycopg's
        cancel is made to be sent from another thread); its transaction is rolled back."""
        if self._writing is None:
            return
        wait([self._writing], timeout=seconds)
        pg_connection = self._database.connection if self._database is not None else None
        if not self._writing.done() and pg_connection is not None:
            pg_connection.cancel_safe()


def _restore_new(new: _NewLead, before: tuple[dict[str, object], Lead]) -> None:
    new.values, new.lead = before


def _known_from(candidate: Candidate, *, ref: int, company_name: str) -> Known:
    filled = {
        name for name in ("first_name", "last_name", "title", "email") if getattr(candidate, name)
    }
    filled |= {name for name in ("phone", "linkedin_url", "notes") if getattr(candidate, name)}
    if candidate.has_company:
        filled.add("company")
    return Known(
        ref=ref,
        email=candidate.email,
        linkedin_url=candidate.linkedin_url,
        first_name=candidate.first_name,
        last_name=candidate.last_name,
        company_name=company_name,
        filled=filled,
    )


def _row_errors(candidate: Candidate, error: ValidationError) -> list[RowError]:
    if not hasattr(error, "error_dict"):
        return [RowError(candidate.row, "", " ".join(error.messages))]
    return [
        RowError(
            candidate.row,
            "" if name == "__all__" else candidate.column_of(name),
            " ".join(ValidationError(problems).messages),
        )
        for name, problems in error.error_dict.items()
    ]


def _refusal_errors(candidate: RowCandidate, error: Exception) -> list[RowError]:
    """A lone row the database refused, in the words of an error report."""
    if isinstance(candidate, list):  # not a write: can't be refused, but never lose a report
        return candidate
    if isinstance(error, ValidationError):
        return _row_errors(candidate, error)
    return [RowError(candidate.row, "", CONFLICT)]


def _by_row(error: dict[str, object]) -> int:
    return error["row"]  # type: ignore[return-value]
