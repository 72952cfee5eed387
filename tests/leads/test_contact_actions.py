"""The call / email / LinkedIn buttons under a lead's name, and the number a phone dials."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from leads.templatetags.lead_tags import tel_href
from tests.factories import LeadFactory

HTMX = {"HX-Request": "true"}
LINKEDIN = "https://www.linkedin.com/in/dana-reyes"


def html(response) -> str:
    return response.content.decode()


def contact_actions(page: str) -> str:
    """The markup of the contact-actions region of a lead page."""
    start = page.index('<div id="lead-contact-actions"')
    return page[start : page.index("</div>", start)]


@pytest.mark.parametrize(
    ("typed", "dialled"),
    [
        ("+44 (0)20 7946 0123", "+442079460123"),
        ("+1 (555) 010-4477", "+15550104477"),
        ("030 1234567", "0301234567"),
        ("+49 30 1234567 ext. 12", "+49301234567;ext=12"),
        ("555.010.4477 x204", "5550104477;ext=204"),
        ("ask reception", ""),
        ("", ""),
    ],
)
def test_a_typed_phone_number_becomes_one_a_phone_can_dial(typed, dialled):
    assert tel_href(typed) == dialled


@pytest.mark.django_db
def test_the_lead_page_starts_with_call_email_and_linkedin_then_the_next_step(
    client_of, salesperson
):
    lead = LeadFactory(
        owner=salesperson,
        first_name="Dana",
        phone="+44 (0)20 7946 0123",
        email="dana@acme.test",
        linkedin_url=LINKEDIN,
    )

    page = html(client_of(salesperson).get(reverse("lead-detail", args=[lead.pk])))

    actions = contact_actions(page)
    assert 'href="tel:+442079460123"' in actions
    assert "+44 (0)20 7946 0123" in actions
    # Email writes from LeadHunter (sent from the salesperson's address, logged as a touch).
    assert f'href="{reverse("lead-email-compose", args=[lead.pk])}"' in actions
    assert "dana@acme.test" in actions
    assert f'href="{LINKEDIN}"' in actions
    # Under the name, before the next step and everything else in the page's order.
    assert page.index("<h1>") < page.index('id="lead-contact-actions"')
    assert page.index('id="lead-contact-actions"') < page.index('id="lead-follow-up"')
    assert '<main id="main" class="page lead-page"' in page


@pytest.mark.django_db
def test_a_do_not_contact_lead_gets_no_call_or_email_buttons(client_of, salesperson):
    lead = LeadFactory(
        owner=salesperson, first_name="Dana", phone="030 1234567", do_not_contact=True
    )

    page = html(client_of(salesperson).get(reverse("lead-detail", args=[lead.pk])))

    actions = contact_actions(page)
    assert "Dana asked not to be contacted." in actions
    assert "tel:" not in actions
    assert "mailto:" not in actions
    assert "/email/" not in actions


@pytest.mark.django_db
def test_a_lead_without_contact_details_says_so_and_links_to_adding_them(client_of, salesperson):
    lead = LeadFactory(owner=salesperson, email="", phone="n/a")

    page = html(client_of(salesperson).get(reverse("lead-detail", args=[lead.pk])))

    actions = contact_actions(page)
    assert "No phone, email or LinkedIn yet." in actions
    assert f'href="{reverse("lead-edit", args=[lead.pk, "contact"])}#lead-contact"' in actions
    assert "tel:" not in actions


@pytest.mark.django_db
def test_the_contact_buttons_reload_as_their_own_region(client_of, salesperson):
    lead = LeadFactory(owner=salesperson, email="dana@acme.test")

    response = client_of(salesperson).get(
        reverse("lead-detail", args=[lead.pk]), {"region": "lead-contact-actions"}, headers=HTMX
    )

    body = html(response).strip()
    assert body.startswith('<div id="lead-contact-actions"')
    assert 'hx-trigger="leadChanged from:body"' in body.split(">", 1)[0]
    assert f'href="{reverse("lead-email-compose", args=[lead.pk])}"' in body
    assert "<h1>" not in body


@pytest.mark.django_db
def test_saving_contact_details_tells_the_page_so_the_buttons_follow(client_of, salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Dana", last_name="Reyes", email="")

    response = client_of(salesperson).post(
        reverse("lead-edit", args=[lead.pk, "contact"]),
        {"first_name": "Dana", "last_name": "Reyes", "phone": "+1 555 010 4477"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"leadChanged": {}, "leadScored": {}}
    lead.refresh_from_db()
    assert lead.phone == "+15550104477"  # the service keeps numbers in one form
