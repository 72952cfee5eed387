"""The ICP editor's live preview as htmx asks for it: what counts as a draft criterion, and
when the preview refreshes after a criterion is added or removed."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

HTMX = {"HX-Request": "true"}

# What the browser sends for the untouched "Add a criterion" form: its selects always carry
# a value, the text boxes are empty.
EMPTY_DRAFT = {
    "field": "industry",
    "operator": "equals",
    "value": "",
    "minimum": "",
    "maximum": "",
    "weight": "10",
}


def preview(client, icp, params):
    response = client.get(reverse("icp-preview", args=[icp.pk]), params, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="icp-preview"')
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        EMPTY_DRAFT,
        {**EMPTY_DRAFT, "field": "country", "value": "   "},
        {**EMPTY_DRAFT, "operator": "range"},
        {**EMPTY_DRAFT, "weight": "30", "required": "on"},
    ],
)
def test_an_empty_draft_form_is_no_draft(client_of, salesperson, saas_icp, params):
    client = client_of(salesperson)

    empty = preview(client, saas_icp, params)
    saved_only = preview(client, saas_icp, {})

    assert "Draft criterion not counted" not in empty
    assert "Including the criterion you" not in empty
    assert empty == saved_only


@pytest.mark.django_db
def test_a_typed_draft_that_is_incomplete_says_why_and_is_not_counted(
    client_of, salesperson, saas_icp
):
    client = client_of(salesperson)

    body = preview(client, saas_icp, {**EMPTY_DRAFT, "operator": "range", "minimum": "5"})
    bad_weight = preview(
        client, saas_icp, {**EMPTY_DRAFT, "field": "country", "value": "GB", "weight": "x"}
    )

    assert "Draft criterion not counted:" in body
    assert "Including the criterion you" not in body
    assert "Draft criterion not counted: Enter a whole number." in bad_weight
    assert "Including the criterion you" not in bad_weight


@pytest.mark.django_db
def test_a_typed_draft_is_counted(client_of, salesperson, saas_icp):
    body = preview(
        client_of(salesperson),
        saas_icp,
        {**EMPTY_DRAFT, "field": "country", "value": "GB", "required": "on"},
    )

    assert "Including the criterion you" in body
    assert "<strong data-preview-matching>2</strong>" in body


@pytest.mark.django_db
def test_adding_refreshes_the_preview_after_the_form_is_reset(client_of, salesperson, saas_icp):
    response = client_of(salesperson).post(
        reverse("criterion-create", args=[saas_icp.pk]),
        {**EMPTY_DRAFT, "field": "country", "value": "GB", "weight": "50"},
        headers=HTMX,
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="criterion-form"' in body
    [value_box] = re.findall(r'<input[^>]*name="value"[^>]*>', body)
    assert " value=" not in value_box  # the fresh, empty form
    # The preview reads the criterion form when it refreshes: only once the fresh form is
    # swapped in, else the criterion just saved would count a second time, as a draft.
    assert json.loads(response["HX-Trigger-After-Swap"]) == {"criteriaChanged": {}}
    assert "criteriaChanged" not in response.get("HX-Trigger", "")


@pytest.mark.django_db
def test_removing_refreshes_the_preview_after_the_swap(client_of, salesperson, saas_icp):
    criterion = saas_icp.criteria.get()

    response = client_of(salesperson).post(
        reverse("criterion-delete", args=[saas_icp.pk, criterion.pk]), headers=HTMX
    )

    assert json.loads(response["HX-Trigger-After-Swap"]) == {"criteriaChanged": {}}
    assert "criteriaChanged" not in response.get("HX-Trigger", "")


@pytest.mark.django_db
def test_the_preview_refresh_sends_the_draft_fields_but_not_the_csrf_token(
    client_of, salesperson, saas_icp
):
    page = client_of(salesperson).get(reverse("icp-detail", args=[saas_icp.pk])).content.decode()

    assert 'hx-include="#criterion-form .criterion-fields"' in page
    fields = page[page.index('<div class="criterion-fields">') :]
    fields = fields[: fields.index('<p class="help">')]
    assert 'name="value"' in fields
    assert "csrfmiddlewaretoken" not in fields
