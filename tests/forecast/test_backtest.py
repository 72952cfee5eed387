"""`manage.py backtest_win_probability`: trained on the past, scored on what came after."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leads.models import Stage
from tests.forecast.deals import deal

pytestmark = pytest.mark.django_db
THROUGH = (Stage.NEW, Stage.QUALIFIED, Stage.PROPOSAL)
EARLY = datetime(2026, 3, 1, tzinfo=UTC)
LATE = datetime(2026, 9, 1, tzinfo=UTC)


def backtest(*args: str) -> str:
    out = StringIO()
    call_command("backtest_win_probability", *args, stdout=out)
    return out.getvalue()


def test_it_trains_before_the_date_and_scores_after(salesperson):
    for _ in range(8):
        deal(salesperson, outcome=Stage.WON, through=THROUGH, closed_at=EARLY)
    for _ in range(2):
        deal(salesperson, outcome=Stage.LOST, through=THROUGH, closed_at=EARLY)
    for outcome in (Stage.WON, Stage.WON, Stage.LOST):
        deal(salesperson, outcome=outcome, through=THROUGH, closed_at=LATE)
    text = backtest("--before", "2026-06-01")
    assert "Trained on 10 deals closed before 2026-06-01; scored 3 deals" in text
    # Each went from New to Proposal: scored at the five open stages in between.
    assert "(15 predictions)" in text
    assert "Model (priors updated by each owner's history): Brier score" in text
    assert "Priors alone (no history): Brier score" in text
    model = float(text.split("history): Brier score ")[1].split()[0])
    prior = float(text.split("(no history): Brier score ")[1].split()[0])
    assert model < prior  # 8 of 10 won before, 2 of 3 after: the history helps


def test_without_closed_deals_it_says_so(salesperson):
    with pytest.raises(CommandError, match="No closed deals"):
        backtest()
