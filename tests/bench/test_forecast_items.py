"""The bench's issue-19 cases answer on the bench data (a small set; the bench times them)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from accounts.models import User
from bench.data import MANAGER_USERNAMES, SALESPERSON, Sizes, load
from bench.run import forecast_items

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.django_db(transaction=True)
def test_the_forecast_and_suggestion_cases_answer_with_their_content():
    load(Sizes.for_leads(1_000, activities=2_000), seed=7, now=NOW)
    sam = User.objects.get(username=SALESPERSON)
    items = forecast_items(sam, MANAGER_USERNAMES[0])
    expected = {
        "Win probability card": "data-win-probability",
        "Forecast strip": "data-forecast-total",
        "Report forecast": "Closed deals it rests on",
        "ICP suggestions": "won and",
        "ICP suggestion preview": "data-effect-summary",
    }
    for item in items:
        client = Client()
        client.force_login(User.objects.get(username=item.username))
        response = client.get(item.url)
        assert response.status_code == 200, item.name
        marker = next(text for name, text in expected.items() if item.name.startswith(name))
        assert marker in response.content.decode(), item.name
