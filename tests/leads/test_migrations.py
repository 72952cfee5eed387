from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from leads import services
from leads.models import Lead

pytestmark = pytest.mark.django_db

furthest_stage_migration = importlib.import_module("leads.migrations.0021_lead_furthest_stage")


def test_the_furthest_stage_is_filled_as_the_stage_services_keep_it(salesperson):
    def lead(stage: str = "new", *moves: str):
        made = services.lead_create(owner=salesperson, first_name=stage, stage=stage)
        for to_stage in moves:
            reason = "Price" if to_stage == "lost" else ""
            services.lead_change_stage(
                lead=made, to_stage=to_stage, user=salesperson, reason=reason
            )

    lead()
    lead("new", "qualified", "lost")
    lead("new", "proposal", "contacted")
    lead("nurture")
    lead("nurture", "engaged", "won")
    kept = dict(Lead.objects.values_list("pk", "furthest_stage"))
    Lead.objects.update(furthest_stage="")

    furthest_stage_migration.fill_furthest_stage(apps, None)

    assert sorted(kept.values()) == ["", "new", "proposal", "qualified", "won"]
    assert dict(Lead.objects.values_list("pk", "furthest_stage")) == kept
