from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_a_manager_reads_every_check_with_what_to_do(client_of, manager, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    WorkerHeartbeat.objects.create(
        hostname="celery@box",
        pid=7,
        started_at=timezone.now(),
        seen_at=timezone.now() - timedelta(minutes=10),
        consuming=True,
    )

    response = client_of(manager).get("/status/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    for name in ("Database", "Broker", "Worker", "Beat", "Nightly rescore", "Last rescore"):
        assert f'<span class="strong">{name}</span>' in response.text
    assert "not running (last heartbeat 10 min ago)" in response.text
    assert "Start it: <code>celery -A leadhunter worker</code>" in response.text
    assert "Something is not working" in response.text


def test_a_salesperson_cannot_open_status(client_of, salesperson):
    assert client_of(salesperson).get("/status/").status_code == 403


def test_the_status_link_is_shown_to_managers_only(client_of, manager, salesperson):
    assert 'href="/status/"' in client_of(manager).get("/settings/").text
    assert 'href="/status/"' not in client_of(salesperson).get("/settings/").text


def test_status_needs_a_login(client, db):
    response = client.get("/status/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_commands_in_the_advice_are_shown_as_code_and_the_rest_is_escaped():
    from ops.templatetags.ops_text import command_spans

    assert command_spans("Run `python manage.py migrate` <now>") == (
        "Run <code>python manage.py migrate</code> &lt;now&gt;"
    )
