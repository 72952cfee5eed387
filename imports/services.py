"""Import jobs: upload, mapping, start and run. The only writes to ImportJob.

A small file (up to SYNC_ROW_LIMIT rows) is imported while the person waits; a larger one by a
Celery task, with progress saved as it goes so the page can show it. The uploaded file waits in
DATA_DIR/imports/<job id> and is deleted when the import ends or the upload is abandoned.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from accounts.models import User
from imports import engine
from imports.decoding import ImportFileError, decode
from imports.models import (
    NETWORK_FORMATS,
    DuplicatePolicy,
    FirstTouch,
    ImportFormat,
    ImportJob,
    ImportStatus,
)
from imports.parsing import ParsedFile, mapping_problem, read_file
from leadhunter.scrubbing import mentions, scrub
from leads.models import Source
from leads.referrers import ReferrerChoice
from referrals.services import referral_source_for_choice

logger = logging.getLogger(__name__)

SYNC_ROW_LIMIT = 2000
# A running job whose heartbeat is older than this has lost its worker; a redelivered task
# may take it over and carry on from its last saved row.
HEARTBEAT_TIMEOUT = timedelta(minutes=2)
# Uploads nobody confirmed are deleted (with their file) after this long.
ABANDONED_AFTER = timedelta(days=1)
# The error report keeps this many problems (the count stays exact); a file that bad needs
# fixing at its source, not reading line by line.
MAX_STORED_ERRORS = 5000


def upload_path(job_id: UUID | str) -> Path:
    return Path(settings.DATA_DIR) / "imports" / str(job_id)


def import_job_create(
    *,
    owner: User,
    data: bytes,
    filename: str,
    format: str = ImportFormat.AUTO,
    source: str = "",
    duplicates: str = DuplicatePolicy.FILL_EMPTY,
    referred_by: ReferrerChoice | None = None,
) -> ImportJob:
    """Read and keep an uploaded file; the job waits for its mapping or confirmation.

    With a "Referred by" pick every lead the import adds is credited to that referral source
    (made one if it is a lead or customer). Raises ValidationError({"file": …}) with one clear
    sentence when the file can't be imported, ({"referred_by": …}) for an unknown referrer.
    """
    if source and source not in Source.values:
        raise ValidationError({"source": f"Unknown lead source {source!r}."})
    try:
        parsed = read_file(data, max_bytes=settings.IMPORT_MAX_BYTES, format=format)
    except ImportFileError as error:
        raise ValidationError({"file": str(error)}) from None
    import_jobs_discard_abandoned()
    referrer = None
    if referred_by is not None and not referred_by.is_empty:
        referrer = referral_source_for_choice(owner=owner, choice=referred_by)
    job = ImportJob(
        owner=owner,
        filename=Path(filename).name[:255] or "upload",
        size=len(data),
        format=parsed.format,
        source=source,
        duplicates=duplicates,
        referred_by=referrer,
        headers=parsed.headers,
        mapping=parsed.mapping,
        total_rows=parsed.data_rows,
        # One's own contacts join the network pool unless the person says otherwise.
        first_touch=(
            FirstTouch.NETWORK if parsed.format in NETWORK_FORMATS else FirstTouch.NEXT_DAY
        ),
    )
    job.full_clean()
    path = upload_path(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o600)
    try:
        job.save()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job


def import_job_set_mapping(*, job: ImportJob, mapping: list[str]) -> ImportJob:
    """Say what each column of a generic CSV is."""
    problem = mapping_problem(mapping, job.headers)
    if problem:
        raise ValidationError(problem)
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError("This import has already started.")
    job.mapping = mapping
    job.save(update_fields=["mapping"])
    return job


def import_job_parsed(job: ImportJob) -> ParsedFile:
    """The job's file, read again from disk in the format it was detected as."""
    path = upload_path(job.pk)
    if not path.exists():
        raise ImportFileError("The uploaded file is gone; upload it again.")
    # The limit was checked at upload; a later, lower limit must not strand a waiting job.
    return read_file(path.read_bytes(), max_bytes=job.size or 1, format=job.format)


def import_job_options(job: ImportJob) -> engine.ImportOptions:
    return engine.ImportOptions(
        source=job.source,
        duplicates=job.duplicates,
        mapping=job.mapping,
        referred_by=job.referred_by,
        tags=tuple(job.tags),
        network=job.into_network_pool,
    )


def import_job_preview(job: ImportJob) -> list[engine.PreviewRow]:
    """The first rows as the import would treat them; writes nothing."""
    return engine.preview(import_job_parsed(job), owner=job.owner, options=import_job_options(job))


def import_job_start(
    *, job: ImportJob, tags: list[str] | None = None, first_touch: str | None = None
) -> ImportJob:
    """Start a confirmed import: now for a small file, by a Celery task for a large one.
    `tags` go on each lead it creates; `first_touch` says whether they join the network pool
    or each get a first touch on the next business day (None: as the job has it).

    Starting twice (a double click, a resubmitted form) starts it once.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.UPLOADED:
            return job
        if job.format == ImportFormat.CSV and (
            problem := mapping_problem(job.mapping, job.headers)
        ):
            raise ValidationError(problem)
        if first_touch is not None and first_touch not in FirstTouch.values:
            raise ValidationError({"first_touch": "Choose what happens to the new leads."})
        if tags is not None:
            job.tags = list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))
        job.first_touch = first_touch or job.first_touch
        job.status = ImportStatus.QUEUED
        job.save(update_fields=["status", "tags", "first_touch"])
        if job.total_rows > SYNC_ROW_LIMIT:
            job_id = str(job.pk)
            transaction.on_commit(lambda: _enqueue(job_id))
            return job
    # None only when the job was deleted meanwhile: then the job as this call last saw it.
    return import_job_run(job_id=job.pk) or job


class ImportBusy(Exception):
    """Another run holds the job (its heartbeat is fresh); try again once it may have died."""


def import_job_run(*, job_id: UUID | str, release_on_transient: bool = False) -> ImportJob | None:
    """Run a queued import to the end. Idempotent: a finished job is left alone; one whose
    worker died resumes after its last saved row; one another run is on raises ImportBusy.

    With `release_on_transient` (the Celery task), a database hiccup or the task's time limit
    saves the progress, hands the job back to the queue and re-raises, for the task to retry
    and carry on; without it (an import while the person waits) they fail the job.
    """
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    result = engine.ImportResult(
        created=job.created,
        updated=job.updated,
        skipped_duplicates=job.skipped_duplicates,
        errors=job.errors,
        error_rows=list(job.error_rows),
    )
    try:
        engine.import_file(
            import_job_parsed(job),
            owner=job.owner,
            options=import_job_options(job),
            skip_rows=job.processed_rows,
            result=result,
            on_progress=lambda progress: _save_progress(job, progress),
        )
    except (OperationalError, SoftTimeLimitExceeded):
        if not release_on_transient:
            return _fail(job, result, "The database was busy; start the import again.")
        _save_progress(job, result, status=ImportStatus.QUEUED, heartbeat_at=None)
        raise
    except ImportFileError as error:
        return _fail(job, result, str(error))
    except Exception:
        logger.exception("Import %s stopped on an unexpected error", job.pk)
        return _fail(job, result, "Something went wrong; the rows counted here were imported.")
    _finish(job, result, status=ImportStatus.DONE)
    return job


def import_jobs_discard_abandoned(*, now=None) -> int:
    """Delete uploads nobody confirmed within a day, with their files."""
    now = now or timezone.now()
    abandoned = ImportJob.objects.filter(
        status=ImportStatus.UPLOADED, created_at__lt=now - ABANDONED_AFTER
    )
    ids = list(abandoned.values_list("pk", flat=True))
    for job_id in ids:
        upload_path(job_id).unlink(missing_ok=True)
    ImportJob.objects.filter(pk__in=ids).delete()
    return len(ids)


def _claim(job_id: UUID | str) -> ImportJob | None:
    """Lock the job and take it for this run; None when there is nothing left to do."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
        )
        if job is None or job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return None
        if (
            job.status == ImportStatus.RUNNING
            and job.heartbeat_at is not None
            and job.heartbeat_at > now - HEARTBEAT_TIMEOUT
        ):
            raise ImportBusy(str(job.pk))
        job.status = ImportStatus.RUNNING
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    return job


def _enqueue(job_id: str) -> None:
    from imports.tasks import run_import  # imported late: the task module imports this one

    try:
        run_import.delay(job_id)
    except Exception:
        # The broker is down: say so on the page instead of leaving the job queued forever.
        logger.exception("Could not queue import %s", job_id)
        job = ImportJob.objects.get(pk=job_id)
        _fail(job, engine.ImportResult(), "The background worker can't be reached; try again.")


def _save_progress(job: ImportJob, result: engine.ImportResult, **also: object) -> None:
    # Called inside each batch's transaction (see engine.import_file), so the counts are
    # committed with the rows they count: a resumed run skips exactly the committed rows.
    # The error list is rewritten only when it grew.
    changes: dict[str, object] = {
        "processed_rows": result.processed,
        "created": result.created,
        "updated": result.updated,
        "skipped_duplicates": result.skipped_duplicates,
        "errors": result.errors,
        "heartbeat_at": timezone.now(),
        **also,
    }
    if len(result.error_rows) != len(job.error_rows):
        job.error_rows = result.error_rows[:MAX_STORED_ERRORS]
        changes["error_rows"] = job.error_rows
    ImportJob.objects.filter(pk=job.pk).update(**changes)


def _fail(job: ImportJob, result: engine.ImportResult, message: str) -> ImportJob:
    logger.exception("Import %s failed: %s", job.pk, message)
    _finish(job, result, status=ImportStatus.FAILED, failure=message)
    return job


def _finish(job: ImportJob, result: engine.ImportResult, *, status: str, failure: str = "") -> None:
    now = timezone.now()
    job.status = status
    job.failure = failure
    job.processed_rows = result.processed
    job.created = result.created
    job.updated = result.updated
    job.skipped_duplicates = result.skipped_duplicates
    job.errors = result.errors
    job.error_rows = result.error_rows[:MAX_STORED_ERRORS]
    job.finished_at = now
    job.heartbeat_at = now
    job.save()
    upload_path(job.pk).unlink(missing_ok=True)
    # One summary audit event per import (each lead's own history names the owner as well).
    from audit.services import audit_event_record

    audit_event_record(
        action="import",
        target="leads.Lead",
        count=job.created + job.updated,
        actor=job.owner,
        now=now,
        details={
            "job_id": str(job.pk),
            "status": status,
            "rows": job.processed_rows,
            "created": job.created,
            "updated": job.updated,
            "skipped_duplicates": job.skipped_duplicates,
            "errors": job.errors,
        },
    )


IMPORT_STOPPED = (
    "Stopped: a person in this file was erased. Remove them from the file and import it again."
)


def import_jobs_erase_person(
    *, owner_id: int, needles: list[str], precise_needles: list[str], names: list[str]
) -> tuple[int, int]:
    """Erasure of a person (privacy): stop the owner's unfinished imports whose stored file names
    them and delete the file; replace their identifiers in the other jobs' reports. Returns how
    many jobs were stopped and how many scrubbed.

    `needles` identify the person in text, `precise_needles` are their contact details, `names`
    their first and last name (both, or none): a file line names them when it holds a contact
    detail or both names (CSV columns split a name; vCard's FN line holds it whole).
    """
    stopped = scrubbed = 0
    for job, in_file in import_jobs_mentioning(owner_id, needles, precise_needles, names):
        # scrub() keeps the kind of value it is given: text stays text.
        job.filename = str(scrub(job.filename, needles)) or "upload"
        job.headers = scrub(job.headers, needles)
        job.error_rows = scrub(job.error_rows, needles)
        job.failure = str(scrub(job.failure, needles))
        fields = ["filename", "headers", "error_rows", "failure"]
        if in_file:
            # Imported later, the file would bring the person back. (A running import has
            # read its rows already and may still create them: erase again once it is done.)
            job.status = ImportStatus.FAILED if not job.is_finished else job.status
            job.failure = IMPORT_STOPPED
            job.finished_at = job.finished_at or timezone.now()
            fields += ["status", "finished_at"]
            transaction.on_commit(functools.partial(upload_path(job.pk).unlink, missing_ok=True))
            stopped += 1
        else:
            scrubbed += 1
        ImportJob.objects.filter(pk=job.pk).update(**{name: getattr(job, name) for name in fields})
    return stopped, scrubbed


def import_jobs_mentioning(
    owner_id: int, needles: list[str], precise_needles: list[str], names: list[str]
) -> Iterator[tuple[ImportJob, bool]]:
    """The owner's import jobs that name the person, each with whether its stored file does."""
    for job in ImportJob.objects.filter(owner_id=owner_id).order_by("created_at"):
        in_file = upload_path(job.pk).exists() and _file_mentions(job, precise_needles, names)
        if in_file or mentions([job.filename, job.headers, job.error_rows, job.failure], needles):
            yield job, in_file


def _file_mentions(job: ImportJob, precise_needles: list[str], names: list[str]) -> bool:
    path = upload_path(job.pk)
    try:
        text = decode(path.read_bytes(), max_bytes=max(job.size, path.stat().st_size, 1))
    except (OSError, ImportFileError):
        return False
    precise = [needle.casefold() for needle in precise_needles]
    folded_names = [name.casefold() for name in names]
    for line in text.casefold().splitlines():
        if any(needle in line for needle in precise):
            return True
        if folded_names and all(name in line for name in folded_names):
            return True
    return False
