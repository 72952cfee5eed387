"""Every region the lead page asks htmx for comes back with the element it is swapped into
(issue 16, point 1: Cancel on the Contact and Deal cards used to remove the card)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import CompanyFactory, FollowUpFactory, LeadFactory

HTMX = {"HX-Request": "true"}


class HtmxGets(HTMLParser):
    """Each element with hx-get: (url, id of the element its answer goes into, hx-select, how
    it is swapped)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, str, str]] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        url = attributes.get("hx-get")
        if not url:
            return
        target = attributes.get("hx-target") or "this"
        if target == "this":
            target = attributes.get("id", "")
        swap = (attributes.get("hx-swap") or "innerHTML").split()[0]
        select = attributes.get("hx-select") or ""
        self.requests.append((url, target.removeprefix("#"), select, swap))


def htmx_gets(page: str) -> list[tuple[str, str, str, str]]:
    parser = HtmxGets()
    parser.feed(page)
    return parser.requests


@pytest.mark.django_db
def test_every_region_the_lead_page_requests_comes_back_with_its_element(client_of, salesperson):
    lead = LeadFactory(
        owner=salesperson, company=CompanyFactory(name="Acme"), phone="+44 20 7946 0958"
    )
    FollowUpFactory(lead=lead)
    client = client_of(salesperson)
    page = client.get(reverse("lead-detail", args=[lead.pk])).content.decode()
    requests = htmx_gets(page)
    # The cards' edit forms hold more requests (their Cancel buttons among them).
    for section in ("contact", "deal"):
        form = client.get(reverse("lead-edit", args=[lead.pk, section]), headers=HTMX)
        requests += htmx_gets(form.content.decode())
    form = client.get(reverse("lead-company-edit", args=[lead.pk]), headers=HTMX)
    requests += htmx_gets(form.content.decode())
    cancels = {request[0] for request in requests if "region=lead-contact" in request[0]}
    assert cancels, "the Contact card's Cancel was not found"

    checked = 0
    for url, target, select, swap in requests:
        if not target.isidentifier() and not target.replace("-", "_").isidentifier():
            continue  # "closest …", "next …": relative targets, not a region of the page
        response = client.get(url, headers=HTMX)
        body = response.content.decode()
        assert response.status_code == 200, url
        if swap != "outerHTML":
            continue  # its answer fills the element: any content will do
        wanted = select.removeprefix("#") or target
        assert f'id="{wanted}"' in body, f"{url} answers without #{wanted}"
        checked += 1
    assert checked >= 8
