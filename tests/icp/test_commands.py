from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from icp.models import ICP
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_rescore_leads_generates_bench_data_and_reports_the_rate():
    out = io.StringIO()

    call_command("rescore_leads", "--generate", "60", stdout=out)

    report = out.getvalue()
    assert "Generated 60 leads, 6 companies" in report
    summary = (
        r"Rescored 60 leads \(60 changed\) in [\d.]+ s \([\d.]+ s of it Python CPU\): "
        r"[\d,]+ leads/s, \d+ SQL statements"
    )
    assert re.search(summary, report)
    assert ICP.objects.filter(owner__username="bench-1").count() == 2
    assert not Lead.objects.filter(scored_at__isnull=True).exists()
    assert Lead.objects.filter(fit_score__gt=0).exists()


def test_the_same_seed_generates_the_same_leads():
    call_command("rescore_leads", "--generate", "20", stdout=io.StringIO())
    first = list(Lead.objects.order_by("id").values_list("title", "source", "total_score"))
    Lead.objects.all().delete()

    call_command("rescore_leads", "--generate", "20", stdout=io.StringIO())

    assert list(Lead.objects.order_by("id").values_list("title", "source", "total_score")) == first


def test_rescore_leads_for_an_unknown_owner_is_refused():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("rescore_leads", "--owner", "nobody")
