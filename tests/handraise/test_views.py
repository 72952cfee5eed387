from __future__ import annotations

import time

import pytest
from django.urls import reverse

from handraise.forms import form_started_stamp
from handraise.models import HandRaise
from handraise.services import public_page_regenerate_token, public_page_update
from leads.models import Lead

pytestmark = pytest.mark.django_db


def url(public_page, name="public-page"):
    return reverse(name, args=[public_page.token])


def submission(public_page, **fields):
    """What a person's browser posts, ten seconds after the form was handed out."""
    return {
        "name": "Dana Visitor",
        "email": "dana@visitor.example",
        "company": "Visitor Ltd",
        "phone": "",
        "message": "Can we talk about a CRM for 12 reps?",
        "consent": "on",
        "website": "",
        "started": form_started_stamp(public_page.token, now=time.time() - 10),
        **fields,
    }


def csp(response) -> dict[str, str]:
    directives = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in directives if " " in d}


def test_the_page_answers_anyone_with_its_owners_name_and_intro_escaped(client, public_page):
    public_page_update(
        page=public_page, intro="<script>alert(1)</script>\n\nI help.", embed_origins=""
    )
    response = client.get(url(public_page))
    assert response.status_code == 200
    html = response.content.decode()
    assert public_page.owner.get_full_name() in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert 'name="website"' in html
    assert 'name="started"' in html
    assert 'id="public-page-booking"' not in html
    # The strict policy holds on the page itself: no site may frame it.
    assert csp(response)["frame-ancestors"] == "'none'"


def test_the_booking_place_is_drawn_only_when_booking_is_on(client, public_page):
    public_page.booking_enabled = True
    public_page.save()
    assert 'id="public-page-booking"' in client.get(url(public_page)).content.decode()


def test_an_unknown_or_regenerated_address_is_404(client, public_page):
    old = url(public_page)
    assert client.get(reverse("public-page", args=["nope" * 10])).status_code == 404
    public_page_regenerate_token(page=public_page)
    assert client.get(old).status_code == 404
    assert client.post(old, submission(public_page)).status_code == 404
    public_page.refresh_from_db()
    assert client.get(url(public_page)).status_code == 200


def test_a_submission_lands_and_thanks_the_visitor(client, public_page, salesperson):
    response = client.post(
        url(public_page),
        submission(public_page),
        REMOTE_ADDR="198.51.100.7",
        HTTP_USER_AGENT="Firefox/140",
    )
    assert response.status_code == 302
    assert response["Location"] == url(public_page, "public-page-thanks")
    hand_raise = HandRaise.objects.get()
    assert hand_raise.ip == "198.51.100.7"
    assert hand_raise.user_agent == "Firefox/140"
    assert hand_raise.channel == "page"
    assert "may contact me" in hand_raise.consent_text
    assert hand_raise.lead.owner == salesperson
    thanks = client.get(response["Location"])
    assert "Thank you" in thanks.content.decode()


def test_the_honeypot_thanks_a_bot_and_lands_nothing(client, public_page):
    response = client.post(url(public_page), submission(public_page, website="http://spam.example"))
    assert response.status_code == 302
    assert not HandRaise.objects.exists()
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("stamp", "message"),
    [
        ("fast", "That was very quick"),
        ("forged", "This form had expired"),
        ("other-page", "This form had expired"),
    ],
)
def test_a_form_sent_too_fast_or_with_a_bad_stamp_comes_back_filled_in(
    client, public_page, settings, stamp, message
):
    started = {
        "fast": form_started_stamp(public_page.token),
        "forged": "eyJwYWdlIjoiIn0:1vXyZa:forged",
        "other-page": form_started_stamp("another-token", now=time.time() - 10),
    }[stamp]
    response = client.post(url(public_page), submission(public_page, started=started))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert 'value="Dana Visitor"' in html
    assert not HandRaise.objects.exists()
    # Sent again with the fresh stamp (once the minimum time has passed), it lands.
    fresh = response.context["form"].data["started"]
    assert fresh != started
    settings.HAND_RAISE_MIN_FILL_SECONDS = 0
    again = client.post(url(public_page), submission(public_page, started=fresh))
    assert again.status_code == 302
    assert HandRaise.objects.count() == 1


def test_what_a_visitor_typed_comes_back_escaped(client, public_page):
    response = client.post(
        url(public_page), submission(public_page, name='"><script>alert(1)</script>', email="bad")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_field_has_a_size_limit(client, public_page):
    response = client.post(
        url(public_page), submission(public_page, message="x" * 4001, name="n" * 201)
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"message", "name"}
    huge = client.post(url(public_page), submission(public_page, message="x" * 40_000))
    assert huge.status_code == 413
    assert "too long" in huge.content.decode()
    assert not HandRaise.objects.exists()


def test_consent_is_required(client, public_page):
    data = submission(public_page)
    del data["consent"]
    response = client.post(url(public_page), data)
    assert response.status_code == 422
    assert "Please tick this box" in response.content.decode()


def test_a_flood_from_one_address_lands_at_most_the_limit_and_keeps_the_real_one(
    client, public_page, settings
):
    settings.HAND_RAISES_PER_IP = 5
    real = client.post(url(public_page), submission(public_page, email="real@customer.example"))
    assert real.status_code == 302

    statuses = []
    for number in range(1000):
        response = client.post(
            url(public_page), submission(public_page, email=f"bot{number}@spam.example")
        )
        statuses.append(response.status_code)

    assert HandRaise.objects.count() == 5  # the real one and 4 of the flood
    assert HandRaise.objects.filter(email="real@customer.example").exists()
    assert statuses.count(302) == 4
    assert statuses.count(429) == 996
    refused = client.post(url(public_page), submission(public_page))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many messages" in refused.content.decode()
    assert f'<a href="{url(public_page)}">Back to' in refused.content.decode()
    # The flood used up its own address's limit, not the page's: others still get through.
    other = client.post(url(public_page), submission(public_page), REMOTE_ADDR="192.0.2.44")
    assert other.status_code == 302


def test_the_page_has_its_own_limit_over_all_addresses(client, public_page, settings):
    settings.HAND_RAISES_PER_PAGE = 3
    codes = [
        client.post(
            url(public_page),
            submission(public_page, email=f"p{n}@x.example"),
            REMOTE_ADDR=f"192.0.2.{n}",
        ).status_code
        for n in range(1, 6)
    ]
    assert codes == [302, 302, 302, 429, 429]
    assert HandRaise.objects.count() == 3


def test_the_embed_may_be_framed_only_by_the_listed_sites(client, public_page):
    assert csp(client.get(url(public_page, "public-page-embed")))["frame-ancestors"] == "'none'"
    public_page_update(
        page=public_page, intro="", embed_origins="https://www.example.com\nhttp://127.0.0.2:8123"
    )
    response = client.get(url(public_page, "public-page-embed"))
    policy = csp(response)
    assert policy["frame-ancestors"] == "https://www.example.com http://127.0.0.2:8123"
    assert policy["script-src"] == "'self'"
    assert "X-Frame-Options" not in response
    posted = client.post(url(public_page, "public-page-embed"), submission(public_page))
    assert posted["Location"] == url(public_page, "public-page-embed-thanks")
    thanks = client.get(posted["Location"])
    assert csp(thanks)["frame-ancestors"] == "https://www.example.com http://127.0.0.2:8123"
    assert HandRaise.objects.get().channel == "embed"
    # Everywhere else the strict policy stays.
    for other in (url(public_page), url(public_page, "public-page-thanks"), reverse("login")):
        assert csp(client.get(other))["frame-ancestors"] == "'none'"


def test_the_settings_page_needs_a_login(client):
    response = client.get(reverse("public-page-settings"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_settings_link_to_the_public_page(sam_client):
    html = sam_client.get(reverse("settings")).content.decode()
    assert reverse("public-page-settings") in html


def test_the_salesperson_writes_the_intro_and_lists_sites(sam_client, salesperson):
    page_response = sam_client.get(reverse("public-page-settings"))
    public_page = salesperson.public_page
    html = page_response.content.decode()
    assert f"/p/{public_page.token}/" in html
    assert f"/p/{public_page.token}/embed/" in html
    assert "&lt;iframe" in html

    saved = sam_client.post(
        reverse("public-page-settings"),
        {"intro": "I help teams sell.", "embed_origins": "https://www.example.com/"},
    )
    assert saved.status_code == 302
    public_page.refresh_from_db()
    assert public_page.intro == "I help teams sell."
    assert public_page.embed_origins == "https://www.example.com"

    refused = sam_client.post(
        reverse("public-page-settings"),
        {"intro": "x", "embed_origins": "https://example.com; script-src *"},
    )
    assert refused.status_code == 422
    assert "is not a site address" in refused.content.decode()
    public_page.refresh_from_db()
    assert public_page.embed_origins == "https://www.example.com"


def test_regenerating_gives_a_new_address(sam_client, salesperson):
    sam_client.get(reverse("public-page-settings"))
    old = salesperson.public_page.token
    response = sam_client.post(reverse("public-page-regenerate"))
    assert response.status_code == 302
    salesperson.public_page.refresh_from_db()
    assert salesperson.public_page.token != old


def test_the_page_of_someone_who_left_no_longer_answers(client, public_page, salesperson):
    salesperson.is_active = False
    salesperson.save()
    assert client.get(url(public_page)).status_code == 404
    assert client.post(url(public_page), submission(public_page)).status_code == 404
    assert not HandRaise.objects.exists()
