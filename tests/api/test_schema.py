from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

RESOURCES = (
    "/api/v1/leads/",
    "/api/v1/leads/{id}/score/",
    "/api/v1/activities/",
    "/api/v1/follow-ups/",
    "/api/v1/follow-ups/{id}/complete/",
    "/api/v1/follow-ups/{id}/snooze/",
    "/api/v1/referral-sources/",
    "/api/v1/referral-sources/{id}/asks/",
    "/api/v1/referral-asks/",
    "/api/v1/icps/",
    "/api/v1/criteria/",
)


@pytest.mark.django_db
def test_the_schema_is_openapi_3_covering_every_resource(api):
    response = api.get(reverse("api-schema"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "LeadHunter API"
    for path in RESOURCES:
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    lead_create = schema["paths"]["/api/v1/leads/"]["post"]
    assert set(lead_create["responses"]) >= {"201", "400", "401"}
    read_only = schema["components"]["schemas"]["Lead"]["properties"]["total_score"]
    assert read_only["readOnly"] is True
    assert "total_score" not in schema["components"]["schemas"]["LeadRequest"]["properties"]


@pytest.mark.django_db
def test_the_schema_needs_a_login(anonymous_api):
    assert anonymous_api.get(reverse("api-schema")).status_code == 401


@pytest.mark.django_db
def test_the_schema_validates_without_warnings(tmp_path):
    # The same check as `manage.py spectacular --validate --fail-on-warn`.
    target = tmp_path / "schema.json"

    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )

    assert json.loads(target.read_text())["openapi"] == "3.0.3"


@pytest.mark.django_db
def test_the_docs_page_loads_nothing_from_outside(client_of, salesperson):
    response = client_of(salesperson).get(reverse("api-docs"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    for outside in ("https://cdn", "http://cdn", "unpkg", "jsdelivr", "cdnjs", "googleapis"):
        assert outside not in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    # Swagger UI's files, and its start-up script served by the page itself (no inline script,
    # for the Content-Security-Policy).
    docs_script = f"{reverse('api-docs')}?script="
    assert all(
        url.startswith("/static/drf_spectacular_sidecar/") or url == docs_script for url in assets
    )
    assert docs_script in assets
    assert reverse("api-schema") in client_of(salesperson).get(docs_script).content.decode()


@pytest.mark.django_db
def test_the_docs_assets_are_served_locally(client_of, salesperson):
    from django.contrib.staticfiles import finders

    page = client_of(salesperson).get(reverse("api-docs")).content.decode()
    for url in re.findall(r'(?:src|href)="/static/([^"]+)"', page):
        assert finders.find(url), url


@pytest.mark.django_db
def test_the_docs_page_sends_a_visitor_to_the_login(client):
    response = client.get(reverse("api-docs"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The schema says what the server enforces (issue 14, item 12) ---------------------------


@pytest.fixture
def schema(api):
    return json.loads(api.get(reverse("api-schema")).content)


def parameter(schema, path, name):
    [found] = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/leads/", "/api/v1/activities/", "/api/v1/follow-ups/"])
def test_page_size_is_documented_as_the_server_takes_it(schema, path):
    assert parameter(schema, path, "page_size")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 200,
        "default": 50,
    }


@pytest.mark.django_db
def test_the_activity_kinds_a_client_may_send_are_the_ones_the_server_takes(schema, api):
    from leads.models import ActivityKind

    def enum_of(component):
        kind = schema["components"]["schemas"][component]["properties"]["kind"]
        if "$ref" in kind:
            kind = schema["components"]["schemas"][kind["$ref"].rsplit("/", 1)[1]]
        return kind["enum"]

    sent, answered = enum_of("ActivityRequest"), enum_of("Activity")

    assert set(sent) == set(ActivityKind.values) - {ActivityKind.REFERRAL_ASK}
    assert set(answered) == set(ActivityKind.values)  # an ask logged elsewhere is listed


@pytest.mark.django_db
def test_a_criterion_value_is_documented_as_its_four_shapes(schema):
    value = schema["components"]["schemas"]["CriterionRequest"]["properties"]["value"]

    shapes = {shape["type"]: shape for shape in value["oneOf"]}
    assert shapes["string"]["maxLength"] == 200
    assert "number" in shapes
    assert shapes["array"]["items"] == {"type": "string", "maxLength": 200}
    assert shapes["array"]["maxItems"] == 100
    range_shape = shapes["object"]
    assert range_shape["additionalProperties"] is False
    assert set(range_shape["properties"]) == {"min", "max"}
