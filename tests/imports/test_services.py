from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone

from imports import services, tasks
from imports.models import ImportJob, ImportStatus
from leads.models import Lead
from tests.imports.conftest import csv_text, fixture_bytes

pytestmark = pytest.mark.django_db


def generated_csv(rows: int, *, bad_every: int = 0) -> bytes:
    lines = ["First Name,Last Name,Email,Company"]
    for n in range(rows):
        email = "broken@" if bad_every and n % bad_every == 0 else f"person{n}@example.com"
        lines.append(f"Person{n},Lead,{email},Company {n % 40}")
    return csv_text(*lines).encode()


def create_job(owner, data: bytes, **options) -> ImportJob:
    return services.import_job_create(owner=owner, data=data, filename="contacts.csv", **options)


def test_an_upload_is_kept_until_the_import_is_done(salesperson):
    job = create_job(salesperson, fixture_bytes("linkedin_connections.csv"))

    assert services.upload_path(job.pk).read_bytes() == fixture_bytes("linkedin_connections.csv")
    assert (job.format, job.total_rows, job.status) == ("linkedin", 3, "uploaded")

    job = services.import_job_start(job=job)

    assert (job.status, job.created, job.processed_rows) == ("done", 3, 3)
    assert not services.upload_path(job.pk).exists()


def test_a_refused_file_leaves_no_job_and_no_file(salesperson, data_dir):
    with pytest.raises(ValidationError) as refused:
        create_job(salesperson, b"\x00\x01\x02binary")

    assert "isn't a CSV or vCard" in refused.value.message_dict["file"][0]
    assert not ImportJob.objects.exists()
    assert not (data_dir / "imports").exists() or not any((data_dir / "imports").iterdir())


def test_starting_twice_imports_once(salesperson):
    job = create_job(salesperson, fixture_bytes("hubspot.csv"))
    services.import_job_start(job=job)

    again = services.import_job_start(job=job)

    assert again.created == 2
    assert Lead.objects.count() == 2


def test_a_mapping_without_name_or_email_is_refused(salesperson):
    job = create_job(salesperson, csv_text("A,B", "ada@example.com,Ada").encode())

    with pytest.raises(ValidationError, match="name or the email"):
        services.import_job_set_mapping(job=job, mapping=["ignore", "ignore"])
    with pytest.raises(ValidationError, match="name or the email"):
        services.import_job_start(job=job)

    services.import_job_set_mapping(job=job, mapping=["email", "full_name"])
    assert services.import_job_start(job=job).created == 1
    assert Lead.objects.get().first_name == "Ada"


def test_a_large_file_is_queued_for_the_worker_after_commit(
    salesperson, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: sent.append(job_id))
    job = create_job(salesperson, generated_csv(services.SYNC_ROW_LIMIT + 1))

    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_start(job=job)

    assert job.status == "queued"
    assert sent == [str(job.pk)]
    assert Lead.objects.count() == 0


def test_the_task_imports_a_large_file_with_progress_and_an_error_report(salesperson):
    job = create_job(salesperson, generated_csv(2500, bad_every=500))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)

    tasks.run_import(str(job.pk))

    job.refresh_from_db()
    assert job.status == "done"
    assert (job.created, job.errors, job.processed_rows) == (2495, 5, 2500)
    assert [error["row"] for error in job.error_rows] == [2, 502, 1002, 1502, 2002]
    assert job.progress_percent == 100
    assert not services.upload_path(job.pk).exists()


def test_the_task_logs_one_summary_line_per_import(salesperson, caplog):
    job = create_job(salesperson, generated_csv(600, bad_every=500))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)

    with caplog.at_level(logging.INFO, logger="imports"):
        tasks.run_import(str(job.pk))
        tasks.run_import(str(job.pk))  # a redelivery of a finished job: nothing to say

    assert [record.getMessage() for record in caplog.records] == [
        f"Import {job.pk} done: 600 rows, 598 new leads, 0 updated, 0 duplicates, 2 errors"
    ]


def test_the_task_does_nothing_for_a_finished_job(salesperson):
    job = create_job(salesperson, fixture_bytes("hubspot.csv"))
    ImportJob.objects.filter(pk=job.pk).update(status="done")

    tasks.run_import(str(job.pk))

    assert Lead.objects.count() == 0


def test_the_task_leaves_a_job_another_worker_is_on_and_checks_again_later(salesperson):
    job = create_job(salesperson, fixture_bytes("hubspot.csv"))
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now())

    # Called directly, Celery's retry re-raises the reason instead of queueing the retry.
    with pytest.raises(services.ImportBusy):
        tasks.run_import(str(job.pk))

    assert Lead.objects.count() == 0


class WorkerKilled(BaseException):
    """Stands in for a worker process dying mid-import: nothing in the app catches it."""


def interrupt_batch(monkeypatch, batch_number: int, interruption: BaseException) -> None:
    """Interrupt the import in its n-th batch, after that batch's leads were inserted (in its
    transaction, not yet committed)."""
    real = services.engine.leads_bulk_create
    calls = 0

    def leads_bulk_create(**kwargs):
        nonlocal calls
        calls += 1
        created = real(**kwargs)
        if calls == batch_number:
            raise interruption
        return created

    monkeypatch.setattr(services.engine, "leads_bulk_create", leads_bulk_create)


def test_a_job_whose_worker_died_resumes_after_its_last_committed_batch(salesperson, monkeypatch):
    monkeypatch.setattr(services.engine, "BATCH_ROWS", 250)
    job = create_job(salesperson, generated_csv(600))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    interrupt_batch(monkeypatch, 2, WorkerKilled())
    with pytest.raises(WorkerKilled):
        tasks.run_import(str(job.pk))
    job.refresh_from_db()
    # The progress is committed with each batch: the second batch's rows and count are gone.
    assert (job.status, job.processed_rows, job.created, Lead.objects.count()) == (
        "running",
        250,
        250,
        250,
    )

    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - services.HEARTBEAT_TIMEOUT - timedelta(seconds=1)
    )
    monkeypatch.undo()
    monkeypatch.setattr(services.engine, "BATCH_ROWS", 250)
    tasks.run_import(str(job.pk))  # the redelivered message

    job.refresh_from_db()
    # Carried on after the committed batch: no row written twice, none taken for a duplicate.
    assert job.status == "done"
    assert (job.created, job.skipped_duplicates, job.processed_rows) == (600, 0, 600)
    assert Lead.objects.count() == 600


@pytest.mark.parametrize(
    "interruption", [OperationalError("database is locked"), SoftTimeLimitExceeded()]
)
def test_a_hiccup_or_the_time_limit_saves_progress_and_the_retry_carries_on(
    salesperson, monkeypatch, interruption
):
    monkeypatch.setattr(services.engine, "BATCH_ROWS", 10)
    job = create_job(salesperson, generated_csv(40))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    interrupt_batch(monkeypatch, 4, interruption)

    with pytest.raises(type(interruption)):
        services.import_job_run(job_id=job.pk, release_on_transient=True)

    job.refresh_from_db()
    assert (job.status, job.heartbeat_at) == ("queued", None)
    assert (job.processed_rows, job.created, Lead.objects.count()) == (30, 30, 30)
    assert services.upload_path(job.pk).exists()
    monkeypatch.undo()

    tasks.run_import(str(job.pk))  # the retry

    job.refresh_from_db()
    assert (job.status, job.created, job.skipped_duplicates) == ("done", 40, 0)
    assert Lead.objects.count() == 40


def test_progress_is_saved_with_each_batch(salesperson, monkeypatch):
    monkeypatch.setattr(services.engine, "BATCH_ROWS", 100)
    job = create_job(salesperson, generated_csv(350, bad_every=100))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    seen = []
    real_save = services._save_progress

    def save_progress(job, result, **also):
        # Inside the batch's transaction, the batch's leads are already there to count.
        seen.append((result.processed, Lead.objects.count(), result.errors))
        real_save(job, result, **also)

    monkeypatch.setattr(services, "_save_progress", save_progress)

    tasks.run_import(str(job.pk))

    assert seen[:4] == [(100, 99, 1), (200, 198, 2), (300, 297, 3), (350, 346, 4)]


def test_the_database_busy_while_the_person_waits_fails_the_job(salesperson, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services.engine, "import_file", locked)
    job = services.import_job_start(job=create_job(salesperson, fixture_bytes("hubspot.csv")))

    assert (job.status, job.failure) == ("failed", "The database was busy; start the import again.")


def test_an_unexpected_failure_marks_the_job_failed_and_removes_the_file(salesperson, monkeypatch):
    job = create_job(salesperson, fixture_bytes("hubspot.csv"))

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(services.engine, "import_file", broken)
    job = services.import_job_start(job=job)

    assert job.status == "failed"
    assert "Something went wrong" in job.failure
    assert not services.upload_path(job.pk).exists()


def test_a_broker_outage_fails_the_job_instead_of_leaving_it_queued(
    salesperson, django_capture_on_commit_callbacks, monkeypatch
):
    def down(job_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_import, "delay", down)
    job = create_job(salesperson, generated_csv(services.SYNC_ROW_LIMIT + 1))

    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(job=job)

    job.refresh_from_db()
    assert job.status == "failed"
    assert "background worker" in job.failure


def test_abandoned_uploads_are_deleted_with_their_files(salesperson):
    old = create_job(salesperson, fixture_bytes("hubspot.csv"))
    ImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    fresh = create_job(salesperson, fixture_bytes("hubspot.csv"))

    assert list(ImportJob.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not services.upload_path(old.pk).exists()
    assert services.upload_path(fresh.pk).exists()
