"""Errors show where they happen: every htmx form that did not validate gets its own region
back (422) with the errors next to its fields; a pipeline move names the lead and offers Undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import services
from leads.models import StageChange
from tests.factories import FollowUpFactory, LeadFactory, UserFactory

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


def root_tag(response) -> str:
    return html(response).lstrip().split(">", 1)[0]


@pytest.fixture
def dana(salesperson):
    return LeadFactory(owner=salesperson, first_name="Dana", last_name="Kim", stage="qualified")


def move(client, lead, page=None, headers=HTMX, **data):
    if page:
        data["page"] = page
    return client.post(reverse("lead-stage", args=[lead.pk]), data, headers=headers)


# --- The pipeline board ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_board_move_answers_with_a_message_naming_the_lead_and_undo(sam_client, dana):
    response = move(sam_client, dana, page="board", to_stage="proposal")

    assert response.status_code == 200
    assert root_tag(response).startswith('<div class="message message-success"')
    change = dana.stage_changes.get(to_stage="proposal")
    assert "Dana Kim moved to Proposal." in html(response)
    assert f'hx-post="{reverse("lead-stage-undo", args=[change.pk])}"' in html(response)
    assert "leadChanged" in response["HX-Trigger"]


@pytest.mark.django_db
def test_a_refused_board_move_comes_back_as_the_cards_form_with_the_reason(sam_client, dana):
    response = move(sam_client, dana, page="board", to_stage="lost", reason="  ")

    assert response.status_code == 422
    assert root_tag(response).startswith(
        f'<form method="post" action="{reverse("lead-stage", args=[dana.pk])}"'
    )
    assert f'id="move-form-{dana.pk}"' in root_tag(response)
    # The board sent it with #messages as its target: the refusal goes to the card instead.
    assert response["HX-Retarget"] == f"#move-form-{dana.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    page = html(response)
    assert 'aria-invalid="true"' in page
    assert f'aria-describedby="move-{dana.pk}-error"' in page
    assert "Dana Kim was not moved: Say why the lead was lost" in page
    dana.refresh_from_db()
    assert dana.stage == "qualified"


@pytest.mark.django_db
def test_moving_to_the_stage_the_lead_is_in_is_refused_on_the_card(sam_client, dana):
    response = move(sam_client, dana, page="board", to_stage="qualified")

    assert response.status_code == 422
    assert "The lead is already in Qualified." in html(response)


# --- The lead page's stage card ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_refused_move_on_the_lead_page_shows_the_reason_next_to_its_field(sam_client, dana):
    response = move(sam_client, dana, page="lead", to_stage="lost")

    assert response.status_code == 422
    assert root_tag(response) == '<div id="lead-stage" class="stage-card card"'
    page = html(response)
    assert 'class="field field-invalid" data-lost-reason-field' in page
    assert 'aria-invalid="true" aria-describedby="id_reason_error"' in page
    assert '<p class="field-error" id="id_reason_error">Say why the lead was lost' in page
    # What was picked stays picked.
    assert '<option value="lost" selected>' in page
    assert "hx-swap-oob" not in page


@pytest.mark.django_db
def test_a_move_on_the_lead_page_says_so_with_undo_and_updates_the_header(sam_client, dana):
    response = move(sam_client, dana, page="lead", to_stage="lost", reason="No budget")

    assert response.status_code == 200
    page = html(response)
    change = dana.stage_changes.get(to_stage="lost")
    assert "Dana Kim moved to Lost." in page
    assert reverse("lead-stage-undo", args=[change.pk]) in page
    assert '<span id="lead-stage-badge" hx-swap-oob="true">' in page
    assert "Lost: No budget" in page
    assert "leadChanged" in response["HX-Trigger"]


@pytest.mark.django_db
def test_a_move_without_javascript_redirects_with_the_message_and_an_undo_button(sam_client, dana):
    response = sam_client.post(
        reverse("lead-stage", args=[dana.pk]),
        {"to_stage": "proposal", "next": reverse("pipeline")},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("pipeline"), 302)]
    change = dana.stage_changes.get(to_stage="proposal")
    page = html(response)
    assert "Dana Kim moved to Proposal." in page
    assert f'action="{reverse("lead-stage-undo", args=[change.pk])}"' in page


# --- Undo --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_undo_on_the_board_moves_a_lost_lead_back_and_records_it(sam_client, dana, salesperson):
    services.lead_change_stage(lead=dana, to_stage="lost", user=salesperson, reason="Bad timing")
    change = dana.stage_changes.get(to_stage="lost")

    response = sam_client.post(
        reverse("lead-stage-undo", args=[change.pk]), {"page": "board"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "Undone: Dana Kim is back in Qualified." in html(response)
    assert "leadChanged" in response["HX-Trigger"]
    dana.refresh_from_db()
    assert (dana.stage, dana.lost_reason) == ("qualified", "")
    latest = dana.stage_changes.order_by("-changed_at", "-id").first()
    assert (latest.from_stage, latest.to_stage) == ("lost", "qualified")
    assert latest.reason == "Undo of the move to Lost"
    assert StageChange.objects.filter(pk=change.pk).exists()  # history is not rewritten


@pytest.mark.django_db
def test_undo_on_the_lead_page_gives_the_stage_card_back(sam_client, dana, salesperson):
    services.lead_change_stage(lead=dana, to_stage="proposal", user=salesperson)
    change = dana.stage_changes.get(to_stage="proposal")

    response = sam_client.post(
        reverse("lead-stage-undo", args=[change.pk]), {"page": "lead"}, headers=HTMX
    )

    assert response.status_code == 200
    assert root_tag(response) == '<div id="lead-stage" class="stage-card card"'
    assert "Undone: Dana Kim is back in Qualified." in html(response)
    assert '<option value="qualified" selected>' in html(response)


@pytest.mark.django_db
def test_undo_after_the_lead_moved_again_is_refused_with_a_message(sam_client, dana, salesperson):
    services.lead_change_stage(lead=dana, to_stage="proposal", user=salesperson)
    change = dana.stage_changes.get(to_stage="proposal")
    services.lead_change_stage(lead=dana, to_stage="won", user=salesperson)

    response = sam_client.post(
        reverse("lead-stage-undo", args=[change.pk]), {"page": "board"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Dana Kim has moved since" in html(response)
    dana.refresh_from_db()
    assert dana.stage == "won"


@pytest.mark.django_db
def test_someone_elses_move_cannot_be_undone(sam_client):
    other = UserFactory()
    lead = LeadFactory(owner=other, stage="new")
    services.lead_change_stage(lead=lead, to_stage="contacted", user=other)
    change = lead.stage_changes.get(to_stage="contacted")

    response = sam_client.post(reverse("lead-stage-undo", args=[change.pk]), headers=HTMX)

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.stage == "contacted"


# --- Other forms of the lead page ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_follow_up_in_the_past_comes_back_with_the_error_next_to_the_date(sam_client, dana):
    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()

    response = sam_client.post(
        reverse("lead-follow-up", args=[dana.pk]),
        {"due_date": last_week, "due_time": "09:00", "kind": "custom", "note": "Send the deck"},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
    assert root_tag(response).startswith('<section class="card follow-up-card" id="lead-follow-up"')
    page = html(response)
    assert '<details class="plan-follow-up" open>' in page
    assert '<p class="field-error" id="follow_up_due_date_error">Pick today or a day ahead.' in page
    assert 'value="Send the deck"' in page  # what was typed is kept
    assert not dana.follow_ups.filter(note="Send the deck").exists()


@pytest.mark.django_db
def test_without_javascript_a_refused_plan_shows_the_lead_page_with_its_panel_open(
    sam_client, dana
):
    """It redirected with a message at the top and lost what was typed (found by a trial)."""
    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()

    response = sam_client.post(
        reverse("lead-follow-up", args=[dana.pk]),
        {"due_date": last_week, "due_time": "09:00", "kind": "custom", "note": "Send the deck"},
    )

    assert response.status_code == 422
    page = html(response)
    assert "<title>Dana" in page  # the whole lead page
    assert '<details class="plan-follow-up" open>' in page
    assert '<p class="field-error" id="follow_up_due_date_error">Pick today or a day ahead.' in page
    assert f'value="{last_week}"' in page
    assert 'value="Send the deck"' in page
    assert not dana.follow_ups.filter(note="Send the deck").exists()


@pytest.mark.django_db
def test_the_plan_a_follow_up_form_is_asked_for_when_its_panel_opens(sam_client, dana):
    url = reverse("lead-follow-up", args=[dana.pk])

    page = html(sam_client.get(reverse("lead-detail", args=[dana.pk])))
    form = sam_client.get(url, headers=HTMX)
    without_javascript = html(sam_client.get(url))

    panel = page[page.index('<details class="plan-follow-up">') :]
    panel = panel[: panel.index("</details>")]
    assert f'hx-get="{url}" hx-trigger="toggle from:closest details"' in panel
    assert f'href="{url}#lead-follow-up"' in panel
    assert 'name="due_date"' not in page
    assert root_tag(form).startswith(f'<form id="plan-follow-up-form" method="post" action="{url}"')
    assert 'id="follow_up_due_date"' in html(form)
    assert "data-focus-on-load" in root_tag(form)
    assert '<details class="plan-follow-up" open>' in without_javascript
    assert 'id="follow_up_due_date"' in without_javascript


@pytest.mark.django_db
def test_snoozing_a_done_follow_up_from_the_lead_page_says_why_in_its_card(sam_client, dana):
    follow_up = FollowUpFactory(lead=dana, done_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]),
        {"days": "3"},
        headers={**HTMX, "HX-Target": "lead-follow-up"},
    )

    assert response.status_code == 422
    assert root_tag(response).startswith('<section class="card follow-up-card" id="lead-follow-up"')
    assert "This follow-up is already done." in html(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("section", "data", "field", "message"),
    [
        ("contact", {"first_name": "Dana", "email": "not-an-email"}, "email", "valid email"),
        (
            "deal",
            {"expected_value": "lots", "currency": "EUR", "source": "own_network"},
            "expected_value",
            "Enter a number",
        ),
    ],
)
def test_an_invalid_card_edit_comes_back_with_the_error_next_to_the_field(
    sam_client, dana, section, data, field, message
):
    response = sam_client.post(reverse("lead-edit", args=[dana.pk, section]), data, headers=HTMX)

    assert response.status_code == 422
    assert root_tag(response) == f'<section id="lead-{section}" class="card"'
    page = html(response)
    assert f'id="id_{field}_error">' in page
    assert message in page.split(f'id="id_{field}_error">', 1)[1].split("</p>", 1)[0]
    assert 'aria-invalid="true"' in page


@pytest.mark.django_db
def test_a_refused_undo_on_the_lead_page_says_why_in_the_stage_card(sam_client, dana, salesperson):
    services.lead_change_stage(lead=dana, to_stage="proposal", user=salesperson)
    change = dana.stage_changes.get(to_stage="proposal")
    services.lead_change_stage(lead=dana, to_stage="won", user=salesperson)

    response = sam_client.post(
        reverse("lead-stage-undo", args=[change.pk]), {"page": "lead"}, headers=HTMX
    )

    assert response.status_code == 422
    assert root_tag(response) == '<div id="lead-stage" class="stage-card card"'
    page = html(response)
    assert '<div class="message message-error stage-moved" role="alert">' in page
    assert "Dana Kim has moved since" in page
    assert "hx-swap-oob" not in page
    assert "HX-Trigger" not in response
