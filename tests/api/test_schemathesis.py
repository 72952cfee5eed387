"""Property-based run of the API against its own OpenAPI schema (schemathesis).

The schema is read from the app, each GET, POST and PATCH operation gets a fixed number of
generated requests as a salesperson with a token, and every answer must be no 5xx, a status
code the schema lists, and a body matching the schema. Derandomised: the same requests on
every run, so a failure here is reproducible, not flaky.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings, strategies
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import services
from tests.factories import (
    ActivityFactory,
    CriterionFactory,
    FollowUpFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
)

EXAMPLES_PER_OPERATION = 12
METHODS = {"GET", "POST", "PATCH"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI app, called in the test's thread and transaction.

    Django closes "old" connections at the start and end of each request; inside a test's
    transaction that would close it under the test, so (like Django's test client) the
    handlers are detached for the run.
    """
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def records(salesperson, other_salesperson):
    """Ids by resource, mine and someone else's, for the generated requests to aim at."""
    now = timezone.now()
    mine = [LeadFactory(owner=salesperson, stage=stage) for stage in ("new", "proposal", "won")]
    theirs = LeadFactory(owner=other_salesperson)
    for lead in mine:
        ActivityFactory(lead=lead)
        FollowUpFactory(lead=lead, due_at=now + timedelta(days=1))
    source = ReferralSourceFactory(owner=salesperson, lead=mine[2])
    services_ask = _ask(source, salesperson)
    icp = ICPFactory(owner=salesperson)
    criterion = CriterionFactory(icp=icp)
    their_icp = ICPFactory(owner=other_salesperson)
    emails = [_email(lead) for lead in [*mine, theirs]]
    return {
        "leads": [lead.pk for lead in mine] + [theirs.pk],
        "activities": [activity.pk for lead in mine for activity in lead.activities.all()],
        "follow-ups": [f.pk for lead in mine for f in lead.follow_ups.all()],
        "referral-sources": [source.pk, ReferralSourceFactory(owner=other_salesperson).pk],
        "referral-asks": [services_ask.pk],
        "icps": [icp.pk, their_icp.pk],
        "criteria": [criterion.pk, CriterionFactory(icp=their_icp).pk],
        "emails": [email.pk for email in emails],
        # references in request bodies
        "lead": [lead.pk for lead in mine] + [theirs.pk],
        "icp": [icp.pk, their_icp.pk],
        "referred_by": [source.pk],
        "company": [mine[0].company_id],
    }


def _ask(source, user):
    from referrals.services import referral_ask_record

    return referral_ask_record(source=source, user=user)


def _email(lead):
    from emails.models import EmailSource
    from emails.services import EmailFacts, email_log

    return email_log(
        owner=lead.owner,
        lead=lead,
        facts=EmailFacts(
            message_id=f"m{lead.pk}@mail.example",
            direction="outbound",
            source=EmailSource.SENT,
            from_address="sam@example.com",
            to_addresses=[lead.email],
            sent_at=timezone.now(),
            subject="Hello",
            body_text="Hi",
        ),
    )


def _aim(value, pool):
    """Most generated ids are pointed at a real record (one of the pool, which includes
    another owner's); every third is left as generated, usually a missing one."""
    if isinstance(value, int) and not isinstance(value, bool) and pool and value % 3:
        return pool[value % len(pool)]
    return value


def test_the_api_keeps_to_its_schema(salesperson, records, wsgi_app):
    _, secret = services.api_token_create(user=salesperson, name="schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, headers=headers)

    operations = [result.ok() for result in schema.get_all_operations()]
    tested = [operation for operation in operations if operation.method.upper() in METHODS]
    assert len(tested) >= 25

    for operation in tested:
        _exercise(schema, operation, records=records, app=wsgi_app, headers=headers)


def _exercise(schema, operation, *, records, app, headers):
    ids = records[operation.path.split("/")[3]]
    # Generated data, and now and then the schema's own examples (valid requests).
    cases = strategies.one_of(
        operation.as_strategy(), *schema.get_strategies_from_examples(operation)
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        if case.path_parameters and "id" in case.path_parameters:
            case.path_parameters["id"] = _aim(case.path_parameters["id"], ids)
        if isinstance(case.body, dict):
            for name in ("lead", "icp", "referred_by", "company"):
                if name in case.body:
                    case.body[name] = _aim(case.body[name], records[name])
        response = case.call(app=app, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
