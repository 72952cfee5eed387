"""A writer process for the concurrency test: `python -m tests.trust.writers ROLE SECONDS OWNER`.

ROLE "web" does what people do in the app (edit leads, log activities) through the services;
ROLE "worker" does what the Celery worker does (rescore, keep the follow-up cadence) through
the task functions. Each writes for SECONDS and prints one JSON line: how many operations it
finished, and every database error it met.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

import django


def main(role: str, seconds: float, owner_id: int) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadhunter.settings")
    django.setup()
    from django.db import DatabaseError

    from accounts.models import User
    from leads.models import ActivityKind, Lead

    owner = User.objects.get(pk=owner_id)
    lead_ids = list(Lead.objects.filter(owner=owner).values_list("pk", flat=True))
    pick = random.Random(role).choice
    step = _web_step if role == "web" else _worker_step
    started = time.time()
    operations, errors = 0, []
    while time.time() - started < seconds:
        try:
            step(owner, pick(lead_ids), operations, ActivityKind, Lead)
            operations += 1
        except DatabaseError as error:
            errors.append(f"{type(error).__name__}: {error}")
    return {"role": role, "operations": operations, "errors": errors, "started": started,
            "ended": time.time()}  # fmt: skip


def _web_step(owner, lead_id, number, ActivityKind, Lead) -> None:
    from leads.services import activity_log, lead_update

    lead = Lead.objects.get(pk=lead_id)
    if number % 3 == 0:
        lead_update(lead=lead, user=owner, title=f"Head of Sales {number}")
    elif number % 3 == 1:
        activity_log(lead=lead, user=owner, kind=ActivityKind.CALL, text=f"Call {number}")
    else:
        activity_log(lead=lead, user=owner, kind=ActivityKind.ASKED_FOR_INFO)


def _worker_step(owner, lead_id, number, ActivityKind, Lead) -> None:
    from icp.tasks import rescore_lead, rescore_owner_leads
    from leads.tasks import schedule_follow_ups

    # Called directly, the tasks raise what they meet instead of retrying it away.
    if number % 10 == 0:
        rescore_owner_leads(owner.pk)
    elif number % 10 == 5:
        schedule_follow_ups()
    else:
        rescore_lead(lead_id)


if __name__ == "__main__":
    role, seconds, owner_id = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    sys.stdout.write(json.dumps(main(role, seconds, owner_id)) + "\n")
