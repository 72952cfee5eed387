"""The import engine: a parsed file's rows → candidates → matched against what the owner has →
created, filled in or skipped, each row in its own transaction, through `leads.services` only.

Efficiency: the owner's leads (for matching) and companies are each read in one query up front;
per row the only queries are the writes themselves. A row that fails is reported (row,
column, reason) and rolled back alone; the rows around it are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from icp.rescoring import deferred_rescores
from imports.candidates import Candidate, CandidateContext, RowError, build_candidate
from imports.dedupe import Action, DedupeIndex, Known, Plan
from imports.models import DuplicatePolicy
from imports.parsing import ParsedFile
from leads.models import Company, Lead
from leads.normalize import normalize_domain
from leads.services import company_find_or_create, lead_create, lead_fill_empty_fields

PROGRESS_EVERY = 250
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ImportOptions:
    """How to read one file: the lead source for rows naming none ("" = by format), what to
    do with duplicates, and the column mapping (None = the automatic one)."""

    source: str = ""
    duplicates: str = DuplicatePolicy.FILL_EMPTY
    mapping: list[str] | None = None


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
    parsed: ParsedFile, options: ImportOptions
) -> Iterator[tuple[int, Candidate | list[RowError]]]:
    context = CandidateContext(format=parsed.format, source=options.source)
    for record in parsed.records(options.mapping):
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
) -> ImportResult:
    """Import every row (after the first `skip_rows`, already done by an interrupted run whose
    counts `result` carries on). Importing the same file again creates and changes nothing."""
    importer = _Importer(owner=owner, options=options)
    result = result or ImportResult()
    # One bulk rescore of the owner's leads at the end instead of a task per imported lead.
    with deferred_rescores(owner_id=owner.pk):
        for number, (_row, candidate) in enumerate(candidates(parsed, options), start=1):
            if number <= skip_rows:
                continue
            if isinstance(candidate, list):
                result.add_errors(candidate)
            else:
                importer.import_row(candidate, result)
            if on_progress is not None and number % PROGRESS_EVERY == 0:
                on_progress(result)
    if on_progress is not None:
        on_progress(result)
    return result


class _Importer:
    def __init__(self, *, owner: User, options: ImportOptions) -> None:
        self.owner = owner
        self.options = options
        self.index = DedupeIndex.for_owner(owner)
        self.companies = _CompanyCache(owner)

    def import_row(self, candidate: Candidate, result: ImportResult) -> None:
        plan = self.index.plan(candidate, self.options.duplicates)
        try:
            if plan.action == Action.CREATE:
                self._create(candidate)
                result.created += 1
            elif plan.action == Action.FILL and self._fill(candidate, plan):
                result.updated += 1
            else:
                result.skipped_duplicates += 1
        except ValidationError as error:
            result.add_errors(_row_errors(candidate, error))
        except IntegrityError:
            reason = "Conflicts with a lead saved at the same time; import the file again."
            result.add_errors([RowError(candidate.row, "", reason)])
        except Lead.DoesNotExist:
            reason = "The lead this row matches was deleted meanwhile; import the file again."
            result.add_errors([RowError(candidate.row, "", reason)])

    def _create(self, candidate: Candidate) -> None:
        with transaction.atomic():
            company = self.companies.resolve(candidate)
            lead = lead_create(
                owner=self.owner, created_by=self.owner, company=company, **candidate.lead_values()
            )
        # Only after the row's transaction committed: a rolled-back row leaves no trace here.
        self.companies.remember(company)
        company_name = company.name if company else ""
        self.index.remember(_known_from(candidate, ref=lead.pk, company_name=company_name))

    def _fill(self, candidate: Candidate, plan: Plan) -> bool:
        known = plan.known
        values: dict[str, object] = {
            name: getattr(candidate, name) for name in plan.fills if name != "company"
        }
        with transaction.atomic():
            company = self.companies.resolve(candidate) if "company" in plan.fills else None
            if company is not None:
                values["company"] = company
            # The service re-reads the lead under a lock; the id is all it needs.
            filled = lead_fill_empty_fields(
                lead=Lead(pk=known.ref, owner=self.owner), user=self.owner, values=values
            )
        self.companies.remember(company)
        self.index.filled(known, candidate, filled, company.name if company else "")
        return bool(filled)


class _CompanyCache:
    """The owner's companies by domain and by name, read once; misses go to
    `company_find_or_create`, which also records a domain on a company known by name only."""

    def __init__(self, owner: User) -> None:
        self.owner = owner
        self.by_domain: dict[str, Company] = {}
        self.by_name: dict[str, Company] = {}
        for company in (
            Company.objects.filter(owner=owner)
            .order_by("id")
            .only("id", "owner_id", "name", "domain", "country")
        ):
            self.remember(company)

    def resolve(self, candidate: Candidate) -> Company | None:
        if not candidate.has_company:
            return None
        domain = normalize_domain(candidate.company_domain)
        company = self.by_domain.get(domain) if domain else None
        if company is None and candidate.company_name:
            company = self.by_name.get(candidate.company_name.casefold())
            if company is not None and domain and not company.domain:
                company = None  # the service records the domain on it
        if company is None:
            try:
                company = company_find_or_create(
                    owner=self.owner, name=candidate.company_name, domain=domain
                )
            except ValidationError as error:
                raise ValidationError({"company": error.messages}) from None
        return company

    def remember(self, company: Company | None) -> None:
        if company is None:
            return
        if company.domain:
            self.by_domain.setdefault(company.domain, company)
        key = company.name.casefold()
        if self.by_name.setdefault(key, company).pk == company.pk:
            self.by_name[key] = company  # the freshest copy, with a domain just recorded


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
