"""Tasks are enqueued only after the transaction that wrote their rows has committed."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest
from celery.signals import task_postrun, task_received
from django.conf import settings
from django.db import transaction

from leads.models import Lead
from leads.services import lead_create
from tests.factories import UserFactory
from tests.trust.conftest import broker_queue_size
from tests.waiting import wait_for

APPS = ["accounts", "api", "icp", "imports", "leads", "referrals", "reminders", "reports"]


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not those of functions defined inside it."""
    for child in ast.iter_child_nodes(function):
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield child
            yield from _own_nodes(child)


def _enqueuing_functions(tree: ast.Module) -> dict[str, int]:
    """Functions (by name) that call .delay() or .apply_async(), with the line of the call."""
    found = {}
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in _own_nodes(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"delay", "apply_async"}
                ):
                    found[function.name] = node.lineno
    return found


def _names_passed_to_on_commit(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "on_commit"
        ):
            for argument in node.args[:1]:
                names |= {n.id for n in ast.walk(argument) if isinstance(n, ast.Name)}
    return names


def test_the_app_enqueues_tasks_only_from_on_commit_callbacks():
    """Every .delay()/.apply_async() in the app lives in a function that only runs from
    transaction.on_commit (directly or through a lambda); a bare one in a view or service
    would send a task for rows that may never commit."""
    offenders = []
    checked = 0
    for app in APPS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            enqueuing = _enqueuing_functions(tree)
            checked += len(enqueuing)
            deferred = _names_passed_to_on_commit(tree)
            offenders += [
                f"{path}:{line} in {name}()"
                for name, line in enqueuing.items()
                if name not in deferred
            ]
    assert checked >= 2  # rescoring and imports enqueue; the check looks at real code
    assert offenders == []


@pytest.fixture
def tasks_seen():
    """Names and arguments of the tasks the in-process worker received and finished."""
    seen: dict[str, list] = {"received": [], "ran": []}

    def received(request, **kwargs):
        seen["received"].append((request.name, tuple(request.args)))

    def ran(task, args, **kwargs):
        seen["ran"].append((task.name, tuple(args)))

    task_received.connect(received, weak=False)
    task_postrun.connect(ran, weak=False)
    yield seen
    task_received.disconnect(received)
    task_postrun.disconnect(ran)


class Refused(Exception):
    pass


@pytest.mark.worker
def test_a_rolled_back_write_sends_nothing_and_a_committed_one_waits_for_its_commit(
    celery_worker, tasks_seen
):
    owner = UserFactory(username="enqueue")

    def refused_request() -> None:
        with transaction.atomic():
            lead_create(owner=owner, first_name="Rolled", last_name="Back")
            raise Refused

    with pytest.raises(Refused):
        refused_request()
    assert broker_queue_size() == 0

    committed_at = []
    with transaction.atomic():
        kept = lead_create(owner=owner, first_name="Kept", last_name="Lead")
        # The transaction stays open longer than the task's countdown and the broker's
        # polling: nothing may reach the broker before the commit.
        time.sleep(3)
        assert broker_queue_size() == 0
        assert tasks_seen["received"] == []
        transaction.on_commit(lambda: committed_at.append(time.monotonic()))

    assert wait_for(lambda: ("icp.tasks.rescore_lead", (kept.pk,)) in tasks_seen["ran"])
    assert Lead.objects.get(pk=kept.pk).scored_at is not None
    # The rolled-back lead's rescore never reached the broker, so no worker ever saw it.
    assert tasks_seen["received"] == [("icp.tasks.rescore_lead", (kept.pk,))]
    assert list(Lead.objects.values_list("first_name", flat=True)) == ["Kept"]


@pytest.mark.worker
def test_a_write_in_another_thread_is_scored_after_its_commit_not_before(celery_worker):
    """The web request commits after the worker would have been ready; the task still finds
    the row (it was not sent before the commit), so it never fails on a missing row."""
    owner = UserFactory(username="enqueue-thread")
    created: list[int] = []
    release = threading.Event()

    def web_request() -> None:
        from django.db import connection

        try:
            with transaction.atomic():
                created.append(lead_create(owner=owner, first_name="Slow", last_name="Commit").pk)
                release.wait(10)
        finally:
            connection.close()

    request = threading.Thread(target=web_request)
    request.start()
    assert wait_for(lambda: created, timeout=10)
    time.sleep(2.5)  # past the rescore countdown
    assert broker_queue_size() == 0
    release.set()
    request.join()

    assert wait_for(lambda: Lead.objects.get(pk=created[0]).scored_at is not None)
