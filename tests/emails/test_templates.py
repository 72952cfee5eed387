from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from emails.templates_defaults import DEFAULT_TEMPLATES
from emails.templates_merge import merge, unknown_fields
from emails.templates_models import EmailTemplate
from emails.templates_services import (
    email_template_create,
    email_templates_give_defaults,
)
from tests.factories import UserFactory


def test_merge_fills_known_fields_and_a_missing_value_is_empty():
    text = "Hi {{first_name}}, {{ referrer_name }} said hello. {{company}}"

    merged = merge(text, {"first_name": "Dana", "company": ""})

    assert merged == "Hi Dana,  said hello. "


def test_unknown_fields_are_listed_once_in_order():
    assert unknown_fields("{{nick}} {{first_name}} {{ nick }}", "{{Company}}") == [
        "nick",
        "Company",
    ]


@pytest.mark.django_db
def test_defaults_are_given_once_and_a_deleted_one_stays_deleted(salesperson):
    assert email_templates_give_defaults(owner=salesperson) is True
    names = set(EmailTemplate.objects.filter(owner=salesperson).values_list("name", flat=True))
    assert names == {default.name for default in DEFAULT_TEMPLATES}
    assert "First touch" in names

    EmailTemplate.objects.get(owner=salesperson, name="Referral ask").delete()
    assert email_templates_give_defaults(owner=salesperson) is False

    assert not EmailTemplate.objects.filter(owner=salesperson, name="Referral ask").exists()


@pytest.mark.django_db
def test_a_template_with_an_unknown_merge_field_is_refused(salesperson):
    with pytest.raises(ValidationError) as refused:
        email_template_create(owner=salesperson, name="Hi", subject="{{nick}}", body="Hello")

    assert "subject" in refused.value.message_dict
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_the_settings_page_lists_the_defaults_with_the_merge_fields(sam_client):
    response = sam_client.get(reverse("email-template-list"))

    html = response.content.decode()
    assert response.status_code == 200
    for default in DEFAULT_TEMPLATES:
        assert default.name in html
    assert "{{booking_link}}" in html


@pytest.mark.django_db
def test_adding_a_template_with_an_unknown_field_shows_the_error_next_to_the_field(sam_client):
    response = sam_client.post(
        reverse("email-template-create"),
        {"name": "Coffee", "subject": "Coffee?", "body": "Hi {{firstname}}"},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_body_error"' in html
    assert "Unknown merge field {{firstname}}" in html
    assert "Hi {{firstname}}" in html  # what was typed is kept
    assert not EmailTemplate.objects.filter(name="Coffee").exists()


@pytest.mark.django_db
def test_a_template_is_added_edited_and_deleted(sam_client, salesperson):
    sam_client.post(
        reverse("email-template-create"),
        {"name": "Coffee", "subject": "Coffee, {{first_name}}?", "body": "Hi {{first_name}}"},
    )
    template = EmailTemplate.objects.get(owner=salesperson, name="Coffee")

    response = sam_client.post(
        reverse("email-template-update", args=[template.pk]),
        {"name": "Coffee chat", "subject": "Coffee?", "body": "Hi {{first_name}}!"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.body) == ("Coffee chat", "Hi {{first_name}}!")

    sam_client.post(reverse("email-template-delete", args=[template.pk]))
    assert not EmailTemplate.objects.filter(pk=template.pk).exists()


@pytest.mark.django_db
def test_a_duplicate_name_is_an_error_on_the_name(sam_client, salesperson):
    email_template_create(owner=salesperson, name="Coffee", subject="", body="Hi")

    response = sam_client.post(
        reverse("email-template-create"), {"name": "Coffee", "subject": "", "body": "Hello"}
    )

    assert response.status_code == 422
    assert "You already have a template with this name." in response.content.decode()


@pytest.mark.django_db
def test_another_salespersons_template_answers_404(sam_client):
    theirs = email_template_create(
        owner=UserFactory(username="alex"), name="Mine", subject="", body="Hi"
    )

    assert sam_client.get(reverse("email-template-update", args=[theirs.pk])).status_code == 404
    assert sam_client.post(reverse("email-template-delete", args=[theirs.pk])).status_code == 404
    assert EmailTemplate.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [0, 30])
def test_the_templates_page_reads_the_same_queries_however_many_templates(
    client_of, salesperson, django_assert_num_queries, extra
):
    client = client_of(salesperson)
    client.get(reverse("email-template-list"))  # the defaults are given on the first visit
    for number in range(extra):
        email_template_create(owner=salesperson, name=f"Template {number}", subject="", body="Hi")

    with django_assert_num_queries(4):
        response = client.get(reverse("email-template-list"))

    assert response.status_code == 200
    assert response.text.count("Template ") >= extra
