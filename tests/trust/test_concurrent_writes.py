"""The web app and the worker write at the same time without "database is locked".

On the SQLite default this is what WAL, the busy timeout and IMMEDIATE transactions are for
(leadhunter/env.py); on PostgreSQL the same test shows no deadlock or serialization error.
Two processes, as in production: one edits leads and logs activities through the services,
the other rescores and keeps the follow-up cadence through the task functions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from leads.models import Activity
from tests.factories import CompanyFactory, CriterionFactory, ICPFactory, LeadFactory, UserFactory
from tests.trust.conftest import broker_reset, database_url_for_workers

SECONDS = 30


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_web_and_worker_writing_for_30_seconds_meet_no_locked_database():
    owner = UserFactory(username="busy")
    icp = ICPFactory(owner=owner)
    CriterionFactory(icp=icp, field="industry", value="Retail", weight=30)
    for number in range(40):
        company = CompanyFactory(owner=owner, industry=["Retail", "Software"][number % 2])
        LeadFactory(owner=owner, company=company)
    env = {**os.environ, "DATABASE_URL": database_url_for_workers()}
    env.setdefault("DJANGO_SETTINGS_MODULE", "leadhunter.settings")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        options = settings.DATABASES["default"]["OPTIONS"]
        assert options["transaction_mode"] == "IMMEDIATE"
        assert options["timeout"] >= 20
        assert "journal_mode=WAL" in options["init_command"]

    try:
        writers = [
            subprocess.Popen(  # noqa: S603 - our own module
                [sys.executable, "-m", "tests.trust.writers", role, str(SECONDS), str(owner.pk)],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for role in ("web", "worker")
        ]
        outputs = [writer.communicate(timeout=SECONDS + 90) for writer in writers]
    finally:
        broker_reset()  # the rescore requests the web writer queued

    reports = {}
    for writer, (stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr[-3000:]
        report = json.loads(stdout.strip().splitlines()[-1])
        reports[report["role"]] = report
    web, worker = reports["web"], reports["worker"]
    assert web["errors"] == []
    assert worker["errors"] == []
    # Both really wrote, and at the same time. How much depends on the machine's load: ~1,300
    # web operations alone, ~450 beside six busy loops, 44-46 inside `.ci/run` with both stacks
    # at once (session 14); 20 still shows each kept writing through the window.
    assert web["operations"] >= 20
    assert worker["operations"] >= 20
    assert max(web["started"], worker["started"]) < min(web["ended"], worker["ended"]) - 20
    assert Activity.objects.filter(lead__owner=owner).count() >= web["operations"] * 2 // 3 - 1
