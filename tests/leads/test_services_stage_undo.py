"""lead_stage_undo: a move is undone through the same stage service, and history says so."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads import services
from tests.factories import LeadFactory


def latest_move(lead):
    return lead.stage_changes.order_by("-changed_at", "-id").first()


@pytest.mark.django_db
def test_undoing_a_move_to_lost_restores_the_old_stage_and_clears_the_reason(salesperson):
    lead = LeadFactory(owner=salesperson, stage="proposal")
    services.lead_change_stage(lead=lead, to_stage="lost", user=salesperson, reason="No budget")

    undo = services.lead_stage_undo(stage_change=latest_move(lead), user=salesperson)

    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("proposal", "")
    assert (undo.from_stage, undo.to_stage, undo.reason) == (
        "lost",
        "proposal",
        "Undo of the move to Lost",
    )
    assert undo.changed_by == salesperson
    assert list(lead.stage_changes.values_list("to_stage", flat=True)) == ["proposal", "lost"]


@pytest.mark.django_db
def test_undoing_a_move_out_of_lost_puts_back_the_reason_it_was_lost_for(salesperson):
    lead = LeadFactory(owner=salesperson, stage="proposal")
    services.lead_change_stage(lead=lead, to_stage="lost", user=salesperson, reason="Bad timing")
    services.lead_change_stage(lead=lead, to_stage="engaged", user=salesperson)

    services.lead_stage_undo(stage_change=latest_move(lead), user=salesperson)

    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("lost", "Bad timing")


@pytest.mark.django_db
def test_only_the_latest_move_can_be_undone(salesperson):
    lead = LeadFactory(owner=salesperson, stage="new")
    services.lead_change_stage(lead=lead, to_stage="contacted", user=salesperson)
    first = latest_move(lead)
    services.lead_change_stage(lead=lead, to_stage="engaged", user=salesperson)

    with pytest.raises(ValidationError, match="has moved since"):
        services.lead_stage_undo(stage_change=first, user=salesperson)

    lead.refresh_from_db()
    assert lead.stage == "engaged"
    assert lead.stage_changes.count() == 2


@pytest.mark.django_db
def test_an_undo_cannot_be_undone_twice(salesperson):
    lead = LeadFactory(owner=salesperson, stage="new")
    services.lead_change_stage(lead=lead, to_stage="contacted", user=salesperson)
    move = latest_move(lead)
    services.lead_stage_undo(stage_change=move, user=salesperson)

    with pytest.raises(ValidationError):
        services.lead_stage_undo(stage_change=move, user=salesperson)

    lead.refresh_from_db()
    assert lead.stage == "new"
