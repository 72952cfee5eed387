from __future__ import annotations

import pytest

from tests.factories import LeadFactory

LEADS = "/api/v1/leads/"


@pytest.mark.django_db
def test_invalid_json_is_a_400(api):
    response = api.generic("POST", LEADS, '{"first_name": "Ada",', content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("JSON parse error")
    assert body["fields"] == {}


@pytest.mark.django_db
def test_a_json_list_instead_of_an_object_is_a_400(api):
    response = api.post(LEADS, [{"first_name": "Ada"}])

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid data. Expected a dictionary, but got list."


@pytest.mark.django_db
def test_nan_is_not_json(api):
    response = api.generic(
        "POST",
        LEADS,
        '{"first_name": "Ada", "expected_value": NaN}',
        content_type="application/json",
    )

    assert response.status_code == 400


@pytest.mark.django_db
def test_form_data_is_415(api):
    response = api.post(LEADS, {"first_name": "Ada"}, format="multipart")

    assert response.status_code == 415
    assert response.json()["error"].startswith("Unsupported media type")


@pytest.mark.django_db
def test_an_unknown_id_is_a_json_404(api):
    response = api.get(f"{LEADS}987654/")

    assert response.status_code == 404
    assert response.json() == {"error": "No lead with id 987654.", "fields": {}}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/nowhere/", f"{LEADS}abc/", "/api/v1/"])
def test_an_unknown_address_is_a_json_404(api, url):
    response = api.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("No API endpoint at this address")


@pytest.mark.django_db
def test_a_missing_slash_gets_a_hint(api):
    response = api.post("/api/v1/leads", {"first_name": "Ada"})

    assert response.status_code == 404
    assert response.json()["error"].endswith("did you mean /api/v1/leads/ ?")


@pytest.mark.django_db
def test_a_wrong_method_is_405(api, salesperson):
    lead = LeadFactory(owner=salesperson)

    assert api.put(f"{LEADS}{lead.pk}/", {"first_name": "Ada"}).status_code == 405
    response = api.delete(LEADS)
    assert response.status_code == 405
    assert response.json() == {"error": 'Method "DELETE" not allowed.', "fields": {}}


@pytest.mark.django_db
def test_nested_errors_get_dotted_field_names(api):
    response = api.post(LEADS, {"first_name": "Ada", "tags": ["ok", "x" * 51, 7]})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "tags.1": ["Ensure this field has no more than 50 characters."]
    }


@pytest.mark.django_db
def test_null_characters_are_refused_not_a_server_error(api):
    response = api.post(LEADS, {"first_name": "Ada\x00", "tags": ["a\x00"]})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"first_name", "tags.0"}


@pytest.mark.django_db
def test_an_integrity_race_is_a_409(api, salesperson, monkeypatch):
    from django.db import IntegrityError

    from leads import services

    def raced(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "lead_create", raced)

    response = api.post(LEADS, {"first_name": "Ada"})

    assert response.status_code == 409
    assert response.json()["error"].startswith("This conflicts")


@pytest.mark.django_db
def test_an_id_wider_than_the_column_is_a_404(api):
    response = api.get(f"{LEADS}{'9' * 30}/")

    assert response.status_code == 404
    assert response.json()["fields"] == {}


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [950, 100_000])
def test_json_nested_too_deeply_is_a_json_400_not_a_server_error(api, depth):
    body = '{"first_name": "Ada", "tags": ' + "[" * depth + "]" * depth + "}"

    response = api.generic("POST", LEADS, body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("JSON parse error")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [f"{LEADS}%0A", f"{LEADS}%0A/", "/api/v1/%0D%0Aleads/", f"{LEADS}1%00/"]
)
def test_an_address_with_a_line_break_is_a_json_404(api, url):
    response = api.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("No ")


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_a_json_error(api, settings):
    body = (
        '{"first_name": "Ada", "notes": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'
    )

    response = api.generic("POST", LEADS, body, content_type="application/json")

    assert response.status_code in (400, 413)
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["error"]


@pytest.mark.django_db
def test_a_server_error_in_the_api_is_json_and_a_pages_stays_html(api, client, monkeypatch):
    from api import views as api_views

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api_views.LeadViewSet, "list", crash)
    api.raise_request_exception = False
    client.raise_request_exception = False

    api_answer = api.get(LEADS)

    assert api_answer.status_code == 500
    assert api_answer["Content-Type"] == "application/json"
    assert api_answer.json() == {
        "error": "Something went wrong on the server; nothing was saved.",
        "fields": {},
    }
    assert "boom" not in api_answer.content.decode()
    page = client.get("/no-such-page/")  # pages keep Django's own HTML answers
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
