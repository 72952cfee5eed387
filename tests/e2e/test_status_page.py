"""A manager reads the Status page; a salesperson cannot open it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ops.models import WorkerHeartbeat
from ops.tasks import beat_heartbeat
from tests.factories import ManagerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHECKS = [
    "Database",
    "Broker",
    "Worker",
    "Beat",
    "Nightly rescore",
    "Last rescore",
    "Pending emails",
    "Failed emails",
    "Migrations",
    "Backup",
]


def test_a_manager_reads_each_check_on_the_status_page(
    logged_in_page, live_server, settings, tmp_path, console_errors
):
    settings.DATA_DIR = tmp_path  # no backup there yet
    WorkerHeartbeat.objects.create(
        hostname="celery@box",
        pid=7,
        started_at=timezone.now(),
        seen_at=timezone.now(),
        consuming=True,
    )
    beat_heartbeat.apply()
    page = logged_in_page(ManagerFactory(username="morgan"))

    page.get_by_role("link", name="Status").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Status")
    rows = page.get_by_role("list", name="Checks").get_by_role("listitem")
    expect(rows).to_have_count(len(CHECKS))
    for row, name in zip(rows.all(), CHECKS, strict=True):
        expect(row.locator(".strong")).to_have_text(name)
    worker = page.locator('[data-check="worker"]')
    expect(worker).to_contain_text("OK")
    expect(worker).to_contain_text("taking tasks")
    expect(page.locator('[data-check="beat"]')).to_contain_text("sending tasks")
    expect(page.locator('[data-check="migrations"]')).to_contain_text("all applied")
    backup = page.locator('[data-check="backup"]')
    expect(backup).to_contain_text("Warning")
    expect(backup.locator("code")).to_have_text(".venv/bin/python manage.py backup")
    expect(page.locator("#status-summary")).to_have_text(
        "Working, but something needs a look soon."
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "status.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SCREENSHOTS / "status-phone.png"), full_page=True)
    assert console_errors == []


def test_a_salesperson_cannot_open_the_status_page(logged_in_page, live_server, page):
    logged_in_page(UserFactory(username="sam"))

    expect(page.get_by_role("link", name="Status")).to_have_count(0)
    response = page.goto(f"{live_server.url}/status/")

    assert response.status == 403
    expect(page.locator("body")).not_to_contain_text("Database")
