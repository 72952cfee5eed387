"""A real worker and a real Redis that dies: the worker rides it out, and /healthz tells.

Each test starts a redis-server of its own (tests/trust/conftest.py `redis_server`) and points
its worker processes at it (REDIS_URL in their environment: broker and cache); the database is
the test's, as for the other trust tests, so these run on both stacks. The test sends its tasks
through a connection to that server. What the worker must do is in leadhunter/redis_broker.py
and ops/heartbeat.py.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from kombu import Connection

from icp.rescoring import leads_rescore
from leadhunter.celery import app as celery_app
from leads.models import Lead
from ops.models import WorkerHeartbeat
from ops.selectors import worker_status
from tests.factories import CompanyFactory, CriterionFactory, ICPFactory, LeadFactory, UserFactory
from tests.trust.test_worker_crash import inconsistent_leads
from tests.waiting import wait_for

pytestmark = pytest.mark.worker

SLOW = "tests.trust.slow_idempotent"


@pytest.fixture(autouse=True)
def fast_heartbeats(settings):
    settings.WORKER_HEARTBEAT_INTERVAL = 1  # the workers get the same in their environment


def send(server, name: str, *args: object) -> None:
    with Connection(server.url) as connection:
        celery_app.send_task(name, args, connection=connection)


def lines(log: Path) -> Counter:
    return Counter(log.read_text().splitlines()) if log.exists() else Counter()


def test_a_worker_holding_tasks_rides_out_a_redis_crash_and_runs_each_task_once(
    redis_server, worker_process, tmp_path
):
    log = tmp_path / "runs.txt"
    keys = [f"task-{number}" for number in range(6)]
    worker = worker_process(
        pool="prefork", REDIS_URL=redis_server.url, WORKER_HEARTBEAT_INTERVAL="1"
    )
    assert wait_for(lambda: worker_status().state == "ok", timeout=60), worker.output()
    for key in keys:
        send(redis_server, SLOW, key, 3, str(log))

    # Redis dies while the worker runs the first task and holds the next ones.
    assert wait_for(lambda: lines(log)["started task-0"] == 1, timeout=30), worker.output()
    redis_server.kill()
    assert wait_for(lambda: worker_status().state == "disconnected", timeout=10), worker.output()
    time.sleep(3)  # an outage, not a blip: the worker's reconnection attempts fail for a while
    assert worker.alive, worker.output()
    redis_server.start()

    def all_applied() -> bool:
        return all(lines(log)[f"applied {key}"] for key in keys)

    # A string, not a tuple: pytest would shorten the tuple's repr and cut the stacks off.
    assert wait_for(all_applied, timeout=90), f"{lines(log)}\n{worker.output_with_stacks()}"
    time.sleep(2)  # anything handed out twice would start again now
    runs = lines(log)
    assert {key: runs[f"applied {key}"] for key in keys} == dict.fromkeys(keys, 1)
    assert Group.objects.filter(name__startswith="slow-").count() == len(keys)
    assert worker.alive, worker.output()
    assert "Unrecoverable error" not in worker.output()
    assert worker_status().state == "ok"


def test_healthz_says_the_worker_is_down_once_it_was_killed(
    redis_server, worker_process, client, settings
):
    worker = worker_process(REDIS_URL=redis_server.url, WORKER_HEARTBEAT_INTERVAL="1")

    def worker_field() -> str:
        return client.get("/healthz").json()["worker"]

    assert wait_for(lambda: worker_field() == "ok", timeout=60), worker.output()
    assert client.get("/healthz").json()["status"] == "ok"
    worker.kill()

    assert wait_for(lambda: worker_field() == "down", timeout=10), list(
        WorkerHeartbeat.objects.values()
    )
    response = client.get("/healthz")
    assert (response.status_code, response.json()["status"]) == (200, "degraded")
    assert client.get("/healthz", {"worker": "required"}).status_code == 503


def test_a_task_running_longer_than_the_visibility_timeout_is_not_handed_out_twice(
    redis_server, worker_process, tmp_path
):
    log = tmp_path / "runs.txt"
    leases = {"REDIS_URL": redis_server.url, "CELERY_VISIBILITY_TIMEOUT": "3"}
    busy = worker_process(**leases)
    send(redis_server, SLOW, "long", 12, str(log))
    assert wait_for(lambda: lines(log)["started long"] == 1, timeout=60), busy.output()
    idle = worker_process(**leases)  # would take the task if its lease ran out

    assert wait_for(lambda: lines(log)["applied long"] == 1, timeout=30), busy.output()
    time.sleep(4)
    assert lines(log) == {"started long": 1, "applied long": 1}, idle.output()


def test_a_bulk_rescore_whose_worker_was_killed_resumes_within_the_visibility_timeout(
    redis_server, worker_process
):
    owner = UserFactory(username="resume-rescore")
    icp = ICPFactory(owner=owner, name="Retail")
    industry = CriterionFactory(icp=icp, field="industry", value="Retail", weight=30)
    for number in range(40):
        company = CompanyFactory(owner=owner, industry=["Retail", "Software"][number % 2])
        LeadFactory(owner=owner, company=company)
    leads_rescore(owner_id=owner.pk)
    before = timezone.now()
    type(industry).objects.filter(pk=industry.pk).update(value="Software")

    def rescored() -> int:
        return Lead.objects.filter(owner=owner, scored_at__gt=before).count()

    broker = {"REDIS_URL": redis_server.url, "CELERY_VISIBILITY_TIMEOUT": "10"}
    slow_batches = {"LH_TEST_RESCORE_BATCH": "10", "LH_TEST_RESCORE_PAUSE": "0.5"}
    worker = worker_process(**broker, **slow_batches)
    send(redis_server, "icp.tasks.rescore_owner_leads", owner.pk)
    assert wait_for(lambda: rescored() >= 10, timeout=90), worker.output()
    worker.kill()
    killed_at = time.monotonic()
    assert 0 < rescored() < 40, "the kill must land in the middle of the run"

    restarted = worker_process(**broker)  # nothing sends the job again: Redis hands it back
    assert wait_for(lambda: rescored() == 40, timeout=90), restarted.output()
    # Ten seconds of timeout, a sweep every three, the worker's start and the rescore itself:
    # about half a minute here, where it used to be an hour.
    assert time.monotonic() - killed_at < 75
    assert inconsistent_leads(owner) == []
