from __future__ import annotations

import pytest

from imports import services
from leads.models import Lead
from tests.factories import UserFactory
from tests.imports.test_services import generated_csv
from tests.waiting import wait_for


@pytest.mark.worker
def test_a_3000_row_file_is_imported_by_a_real_worker(celery_worker):
    owner = UserFactory(username="worker-importer")
    job = services.import_job_create(owner=owner, data=generated_csv(3000), filename="big.csv")

    job = services.import_job_start(job=job)
    assert job.status == "queued"

    assert wait_for(lambda: (job.refresh_from_db() or job.status) == "done", timeout=180)
    assert (job.created, job.processed_rows, job.errors) == (3000, 3000, 0)
    assert Lead.objects.filter(owner=owner).count() == 3000
