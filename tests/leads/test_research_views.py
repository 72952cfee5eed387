"""Research moves the score: the lead page's Company card, the company page and the score card."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import LeadFactory

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


def score_card_lists(page: str) -> dict[str, list[str]]:
    """The score card's lists by heading: {"Matched": [...], "Not matched": [...], …}."""
    card = page[page.index('id="lead-score"') :]
    card = card[: card.index("</section>")]
    return {
        heading: re.findall(r"<li>([^<]*)</li>", items)
        for heading, items in re.findall(r"<h3>([^<]*)</h3><ul[^>]*>(.*?)</ul>", card)
    }


@pytest.fixture
def sam_client(client_of, salesperson):
    return client_of(salesperson)


@pytest.mark.django_db
def test_a_score_stored_before_the_fix_lists_an_unknown_criterion_only_as_unknown(
    sam_client, salesperson
):
    # Scores stored before the engine listed unknown criteria apart had them in both lists
    # (until the nightly rescore rewrites them); the card shows each once either way.
    lead = LeadFactory(
        owner=salesperson,
        score_explanation={
            "icp": "EU SaaS",
            "matched": ["Country is GB"],
            "unmatched": ["Industry is Software", "Staff 50-500"],
            "unknown": ["Industry is Software"],
        },
    )

    response = sam_client.get(
        reverse("lead-detail", args=[lead.pk]) + "?region=lead-score", headers=HTMX
    )

    assert score_card_lists(html(response)) == {
        "Matched": ["Country is GB"],
        "Not matched": ["Staff 50-500"],
        "Unknown — worth researching": ["Industry is Software"],
    }
