from __future__ import annotations

import re

import pytest
from django.urls import reverse

from emails.models import Email
from emails.sending import new_message_id
from emails.templates_models import EmailTemplate
from leads.models import Activity
from tests.factories import CompanyFactory, LeadFactory, UserFactory


@pytest.fixture
def sam(db):
    return UserFactory(
        username="sam", first_name="Sam", last_name="Seller", email="sam@seller.example"
    )


@pytest.fixture
def client_sam(client, sam):
    client.force_login(sam)
    return client


@pytest.fixture
def dana(sam):
    return LeadFactory(
        owner=sam,
        first_name="Dana",
        last_name="Reyes",
        email="dana@buyer.example",
        company=CompanyFactory(owner=sam, name="Juniper Logistics"),
    )


def compose_url(lead):
    return reverse("lead-email-compose", args=[lead.pk])


def sent_form(sam, **fields):
    return {
        "message_id": new_message_id(sam),
        "subject": "Hello {{first_name}}",
        "body": "Hi {{first_name}}, shall we talk?",
        "action": "send",
        **fields,
    }


@pytest.mark.django_db
def test_the_lead_pages_email_button_opens_the_compose_page(client_sam, dana):
    html = client_sam.get(reverse("lead-detail", args=[dana.pk])).content.decode()

    assert f'href="{compose_url(dana)}"' in html


@pytest.mark.django_db
def test_picking_a_template_fills_the_text_and_previews_it_merged(client_sam, sam, dana):
    client_sam.get(compose_url(dana))  # the defaults are given on the first visit
    first_touch = EmailTemplate.objects.get(owner=sam, name="First touch")

    response = client_sam.get(
        compose_url(dana), {"template": first_touch.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="email-compose"')  # only the swapped region
    assert "Hi {{first_name}}," in html  # the editor keeps the merge fields
    assert "Hi Dana," in html  # the preview has them merged
    assert "Quick question, Dana" in html
    assert "Sam Seller &lt;sam@seller.example&gt;" in html
    # This salesperson has no public page: the booking link is empty, and the preview says so.
    assert "Empty for this lead: {{booking_link}}" in html
    # What sending will plan, as the cadence has it for an email touch.
    assert "the next step becomes <strong>Follow up</strong>" in html


@pytest.mark.django_db
def test_the_preview_follows_the_text_typed(client_sam, dana):
    response = client_sam.post(
        reverse("lead-email-preview", args=[dana.pk]),
        {"subject": "For {{company}}", "body": "Dear {{first_name}}, <b>bold</b>"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="email-preview"')
    assert "For Juniper Logistics" in html
    assert "Dear Dana, &lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.django_db
def test_sending_logs_the_email_and_goes_back_to_the_lead(client_sam, sam, dana, smtp_server):
    response = client_sam.post(compose_url(dana), sent_form(sam))

    assert response.status_code == 302
    assert response["Location"] == reverse("lead-detail", args=[dana.pk]) + "#lead-timeline"
    email = Email.objects.get(lead=dana)
    assert email.subject == "Hello Dana"
    assert len(smtp_server.received) == 1
    page = client_sam.get(response["Location"]).content.decode()
    assert "Email sent to Dana Reyes" in page
    assert "Hi Dana, shall we talk?" in page  # on the timeline


@pytest.mark.django_db
def test_a_do_not_contact_lead_offers_no_send_and_a_forced_post_is_refused(
    client_sam, sam, dana, smtp_server
):
    dana.do_not_contact = True
    dana.save()

    page = client_sam.get(compose_url(dana)).content.decode()
    assert "asked not to be contacted" in page
    assert "Send email" not in page

    response = client_sam.post(compose_url(dana), sent_form(sam))

    assert response.status_code == 403
    assert "Dana Reyes asked not to be contacted: this email was not sent." in (
        response.content.decode()
    )
    # What was typed is not lost: it is on the page, read-only, to copy.
    assert 'id="kept-body" readonly' in response.content.decode()
    assert sent_form(sam)["body"] in response.content.decode()
    assert smtp_server.received == []
    assert not Email.objects.exists()
    assert not Activity.objects.filter(lead=dana).exists()


@pytest.mark.django_db
def test_a_lead_without_an_email_address_says_how_to_add_one(client_sam, sam):
    lead = LeadFactory(owner=sam, first_name="Noel", last_name="Mail", email="")

    html = client_sam.get(compose_url(lead)).content.decode()

    assert "Noel Mail has no email address yet." in html
    assert reverse("lead-edit", args=[lead.pk, "contact"]) in html
    assert "Send email" not in html


@pytest.mark.django_db
def test_a_refusing_mail_server_shows_its_answer_and_keeps_the_text(
    client_sam, sam, dana, smtp_server
):
    smtp_server.refuse_with("550 5.7.1 Relaying denied")

    response = client_sam.post(compose_url(dana), sent_form(sam, body="My own careful words"))

    assert response.status_code == 502
    html = response.content.decode()
    assert "The mail server refused the email: 550 5.7.1 Relaying denied." in html
    assert "My own careful words</textarea>" in html
    assert not Email.objects.exists()


@pytest.mark.django_db
def test_an_unknown_merge_field_in_the_email_is_an_error_next_to_the_field(
    client_sam, sam, dana, smtp_server
):
    response = client_sam.post(compose_url(dana), sent_form(sam, subject="Hi {{nickname}}"))

    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_subject_error"' in html
    assert "Unknown merge field {{nickname}}" in html
    assert smtp_server.received == []


@pytest.mark.django_db
def test_another_owners_lead_answers_404(client_sam, sam, smtp_server):
    theirs = LeadFactory(owner=UserFactory(username="alex"))

    assert client_sam.get(compose_url(theirs)).status_code == 404
    assert client_sam.post(compose_url(theirs), sent_form(sam)).status_code == 404
    assert smtp_server.received == []


@pytest.mark.django_db
def test_a_message_id_that_is_no_single_token_is_refused(client_sam, sam, dana, smtp_server):
    form = sent_form(sam, message_id="x@y\r\nBcc: everyone@example.com")

    response = client_sam.post(compose_url(dana), form)

    assert response.status_code == 422
    page = response.content.decode()
    assert "This form came back changed, so nothing went out." in page
    assert smtp_server.received == []
    # The page carries a fresh key, so sending again works without a reload.
    fresh = re.search(r'name="message_id" value="([^"]+)"', page)[1]
    assert "Bcc" not in fresh
    again = client_sam.post(compose_url(dana), {**form, "message_id": fresh})
    assert again.status_code == 302
    assert len(smtp_server.received) == 1


@pytest.mark.django_db
def test_a_salesperson_without_an_address_is_told_to_get_one(client, dana, smtp_server):
    dana.owner.email = ""
    dana.owner.save()
    client.force_login(dana.owner)

    html = client.get(compose_url(dana)).content.decode()

    assert "Your account has no email address to send from." in html
    assert "Send email" not in html


@pytest.mark.django_db
def test_a_lead_with_a_phone_but_no_email_address_still_offers_email_to_say_how(client_sam, sam):
    lead = LeadFactory(owner=sam, email="", phone="+44 20 7946 0123")

    html = client_sam.get(reverse("lead-detail", args=[lead.pk])).content.decode()

    assert f'href="{compose_url(lead)}"' in html
    assert "no address yet" in html


@pytest.mark.django_db
def test_without_a_mail_server_the_page_says_emails_are_printed_not_delivered(
    client_sam, sam, dana, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    compose = client_sam.get(compose_url(dana)).content.decode()
    sent = client_sam.post(compose_url(dana), sent_form(sam), follow=True).content.decode()

    assert "No mail server is set up" in compose
    assert "was not delivered: no mail server is set up (EMAIL_URL)" in sent
    assert "Email sent to" not in sent
