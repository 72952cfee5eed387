"""Who sees what, as tables: view × role × owner.

tests/test_access.py walks every URL with an id and proves a salesperson gets 404 for another
salesperson's record, whatever the method. This file adds the rest of the matrix:
- the same reads for a sales manager (who sees the team's records, except personal imports);
- lists, search, counts, exports, the calendar feed and the API's lists, which must hold only
  the rows in scope (a salesperson's own; a manager's team);
- bulk actions given someone else's ids;
- fields a form or API client may not set (owner, scores, is_staff), which are ignored.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.urls import reverse

from api import services as api_services
from icp.models import ICP
from leads.models import Activity, FollowUp, Lead
from referrals.models import ReferralSource
from tests.factories import LeadFactory

# walk_*: the fixtures that make Sam's and Alex's records once for this module (and hand the
# tests `salesperson`, `other_salesperson`, `mine` and `theirs`), as for tests/test_access.py.
from tests.test_access import (  # noqa: F401
    walk_mine,
    walk_other_salesperson,
    walk_people,
    walk_salesperson,
    walk_theirs,
)

pytestmark = pytest.mark.django_db

# One word each, so a CSV column or a JSON field holds it whole.
MINE = "Minamine"
THEIRS = "Theotheirs"

# --- Reads by id: view × role × owner → status ----------------------------------------------

# (url name, kind of record, extra path arguments). Every detail, edit form, partial and API
# detail that reads one record.
DETAIL_VIEWS = [
    ("lead-detail", "lead", ()),
    ("lead-edit", "lead", ("contact",)),
    ("lead-company-edit", "lead", ()),
    ("company-detail", "company", ()),
    ("company-edit", "company", ()),
    ("referral-detail", "referral_source", ()),
    ("icp-detail", "icp", ()),
    ("icp-preview", "icp", ()),
    ("import-detail", "import_job", ()),
    ("api-lead-detail", "lead", ()),
    ("api-lead-score", "lead", ()),
    ("api-activity-detail", "activity", ()),
    ("api-follow-up-detail", "follow_up", ()),
    ("api-referral-source-detail", "referral_source", ()),
    ("api-referral-ask-detail", "referral_ask", ()),
    ("api-icp-detail", "icp", ()),
    ("api-criterion-detail", "criterion", ()),
    ("lead-email-compose", "lead", ()),
    ("email-template-update", "email_template", ()),
    ("api-email-detail", "email", ()),
    ("api-lead-emails", "lead", ()),
]
# Whose record → who asks → the answer. A manager sees the team; an import stays personal.
# "shown": any answer below 400 (a partial-only view sends a browser on to its page).
EXPECTED = {
    ("own", "salesperson"): "shown",
    ("other salesperson's", "salesperson"): 404,
    ("a salesperson's", "manager"): "shown",
}
PERSONAL_KINDS = {"import_job", "email_template"}


@pytest.mark.parametrize(("url_name", "kind", "extra"), DETAIL_VIEWS, ids=lambda v: str(v))
def test_reads_by_id_follow_the_matrix(
    client, salesperson, other_salesperson, manager, mine, theirs, url_name, kind, extra
):
    cases = {
        ("own", "salesperson"): (salesperson, mine[kind]),
        ("other salesperson's", "salesperson"): (salesperson, theirs[kind]),
        ("a salesperson's", "manager"): (manager, mine[kind]),
    }
    answers = {}
    for case, (user, record) in cases.items():
        client.force_login(user)
        status = client.get(reverse(url_name, args=[record.pk, *extra])).status_code
        answers[case] = "shown" if status < 400 else status

    expected = dict(EXPECTED)
    if kind in PERSONAL_KINDS:
        expected[("a salesperson's", "manager")] = 404
    assert answers == expected


def test_every_api_detail_route_is_in_the_matrix():
    from tests.test_access import ROUTES

    details = {
        route.name
        for route in ROUTES
        if route.name.startswith("api-") and route.name.endswith("-detail")
    }
    assert details <= {name for name, _kind, _extra in DETAIL_VIEWS}


# --- Lists, search, counts and exports: only rows in scope -----------------------------------


@pytest.fixture
def two_books(salesperson, other_salesperson, mine, theirs):
    """A lead, referral source and ICP for each salesperson, named so a page shows whose."""
    for records, name in ((mine, MINE), (theirs, THEIRS)):
        source = records["referral_source"]
        Lead.objects.filter(pk=records["lead"].pk).update(
            first_name=name, last_name="Lead", referred_by=source
        )
        ReferralSource.objects.filter(pk=source.pk).update(name=f"{name} Source")
        ICP.objects.filter(pk=records["icp"].pk).update(name=f"{name} ICP")
        Activity.objects.filter(pk=records["activity"].pk).update(text=f"Called {name}")
        FollowUp.objects.filter(pk=records["follow_up"].pk).update(note=f"Call {name}")
    return salesperson, other_salesperson


def body_of(response) -> str:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if data[:2] == b"PK":  # the account zip: every file in it
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(name).decode() for name in archive.namelist())
    return data.decode()


LISTS = [
    ("today", {}),
    ("lead-list", {}),
    ("lead-list", {"q": "m"}),  # search: both names contain an "m"
    ("lead-list", {"stage": "new"}),
    ("pipeline-cards:new", {}),  # the board's cards come a column at a time
    ("referral-list", {}),
    ("icp-list", {}),
    ("lead-export-csv", {}),
    ("lead-export-json", {}),
    ("lead-export-csv", {"q": "m"}),
    ("report-detail:referrals", {}),
    ("api-lead-list", {}),
    ("api-lead-list", {"q": "m"}),
    ("api-activity-list", {}),
    ("api-follow-up-list", {}),
    ("api-referral-source-list", {}),
    ("api-icp-list", {}),
]
# Personal by design: even a manager sees only their own here.
PERSONAL_LISTS = {"today", "account-export"}
NEW_COLUMN_COUNT = re.compile(r'id="col-new">[^<]*</h2>\s*<p class="muted"><span data-count>(\d+)')


def get_list(client, name: str, query: dict):
    url_name, _, arg = name.partition(":")
    url = reverse(url_name, args=[arg] if arg else [])
    # The pipeline's column cards answer the board's htmx request only.
    headers = {"HX-Request": "true"} if url_name == "pipeline-cards" else {}
    return client.get(url, query, headers=headers)


@pytest.mark.parametrize(("name", "query"), LISTS, ids=lambda v: str(v))
def test_a_salesperson_lists_only_their_own_rows(client, two_books, name, query):
    salesperson, _other = two_books
    client.force_login(salesperson)

    response = get_list(client, name, query)

    assert response.status_code == 200
    body = body_of(response)
    assert MINE in body
    assert THEIRS not in body


@pytest.mark.parametrize(("name", "query"), LISTS, ids=lambda v: str(v))
def test_a_manager_lists_the_teams_rows(client, two_books, manager, name, query):
    client.force_login(manager)

    response = get_list(client, name, query)

    assert response.status_code == 200
    body = body_of(response)
    if name in PERSONAL_LISTS:
        assert THEIRS not in body
    else:
        assert MINE in body
        assert THEIRS in body


def test_the_account_export_holds_only_ones_own_records(client, two_books, manager):
    salesperson, _other = two_books

    for user, sees_mine in ((salesperson, True), (manager, False)):
        client.force_login(user)
        body = body_of(client.get(reverse("account-export")))
        assert (MINE in body) is sees_mine
        assert THEIRS not in body


def test_the_pipeline_counts_only_rows_in_scope(client, two_books, manager):
    salesperson, _other = two_books

    client.force_login(salesperson)
    own = NEW_COLUMN_COUNT.search(client.get(reverse("pipeline")).content.decode())[1]
    client.force_login(manager)
    team = NEW_COLUMN_COUNT.search(client.get(reverse("pipeline")).content.decode())[1]

    assert int(own) == Lead.objects.filter(owner=salesperson, stage="new").count()
    assert int(team) == Lead.objects.filter(stage="new").count() > int(own)


def test_the_calendar_feed_holds_only_its_owners_follow_ups(client, two_books):
    salesperson, _other = two_books
    feed = api_services.calendar_feed_regenerate(user=salesperson)

    body = client.get(reverse("calendar-feed", args=[feed_token(feed)])).content.decode()

    assert MINE in body
    assert THEIRS not in body


def feed_token(feed) -> str:
    return feed[1] if isinstance(feed, tuple) else feed.token


# --- Bulk actions ------------------------------------------------------------------------------


def test_a_bulk_action_ignores_someone_elses_ids(client_of, salesperson, other_salesperson):
    mine = LeadFactory(owner=salesperson, stage="new")
    theirs = LeadFactory(owner=other_salesperson, stage="new")

    client_of(salesperson).post(
        reverse("lead-bulk"),
        {"lead_ids": [mine.pk, theirs.pk], "action": "stage", "to_stage": "contacted"},
    )

    assert Lead.objects.get(pk=mine.pk).stage == "contacted"
    assert Lead.objects.get(pk=theirs.pk).stage == "new"


# --- Fields nobody may set: owner, scores, is_staff --------------------------------------------

SMUGGLED = {"fit_score": "99", "intent_score": "99", "total_score": "99", "is_staff": "on"}


def test_quick_add_ignores_a_posted_owner_and_score(client_of, salesperson, other_salesperson):
    client_of(salesperson).post(
        reverse("lead-create"),
        {
            "first_name": "Posted",
            "last_name": "Lead",
            "source": "own_network",
            **SMUGGLED,
            "owner": other_salesperson.pk,
        },
    )

    lead = Lead.objects.get(first_name="Posted")
    assert lead.owner == salesperson
    assert lead.total_score != 99
    assert lead.fit_score != 99


@pytest.mark.parametrize("section", ["contact", "deal"])
def test_editing_a_lead_ignores_a_posted_owner_and_score(
    client_of, salesperson, other_salesperson, section
):
    lead = LeadFactory(owner=salesperson, first_name="Kept", total_score=10, fit_score=10)
    client = client_of(salesperson)
    form = client.get(reverse("lead-edit", args=[lead.pk, section])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}

    client.post(
        reverse("lead-edit", args=[lead.pk, section]),
        {**data, **SMUGGLED, "owner": other_salesperson.pk},
    )

    lead.refresh_from_db()
    assert lead.owner == salesperson
    assert (lead.total_score, lead.fit_score) == (10, 10)


def test_creating_a_referral_source_or_icp_ignores_a_posted_owner(
    client_of, salesperson, other_salesperson
):
    client = client_of(salesperson)

    client.post(
        reverse("referral-create"),
        {
            "name": "Posted Source",
            "kind": "partner",
            "strength": "3",
            "ask_cadence_days": "90",
            "owner": other_salesperson.pk,
        },
    )
    client.post(
        reverse("icp-create"),
        {"name": "Posted ICP", "is_active": "on", "owner": other_salesperson.pk},
    )

    assert ReferralSource.objects.get(name="Posted Source").owner == salesperson
    assert ICP.objects.get(name="Posted ICP").owner == salesperson


def test_the_settings_form_cannot_make_anyone_staff(client_of, salesperson):
    client_of(salesperson).post(
        reverse("settings"),
        {
            "time_zone": "UTC",
            "daily_touch_goal": "20",
            "reconnects_per_day": "10",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": "1",
        },
    )

    salesperson.refresh_from_db()
    assert salesperson.time_zone == "UTC"  # the form did save
    assert not salesperson.is_staff
    assert not salesperson.is_superuser
    assert not salesperson.groups.exists()


def test_the_api_ignores_a_posted_owner_and_score(client_of, salesperson, other_salesperson):
    client = client_of(salesperson)
    smuggled = {"owner": other_salesperson.pk, "total_score": 99, "fit_score": 99}

    created = client.post(
        reverse("api-lead-list"),
        json.dumps({"first_name": "Api", "last_name": "Lead", **smuggled}),
        content_type="application/json",
    )
    lead = Lead.objects.get(first_name="Api")
    patched = client.patch(
        reverse("api-lead-detail", args=[lead.pk]),
        json.dumps({"last_name": "Changed", **smuggled}),
        content_type="application/json",
    )
    source = client.post(
        reverse("api-referral-source-list"),
        json.dumps({"name": "Api Source", "owner": other_salesperson.pk}),
        content_type="application/json",
    )

    assert (created.status_code, patched.status_code, source.status_code) == (201, 200, 201)
    lead.refresh_from_db()
    assert lead.last_name == "Changed"
    assert lead.owner == salesperson
    assert lead.total_score != 99
    assert ReferralSource.objects.get(name="Api Source").owner == salesperson


def test_a_token_holder_cannot_reach_the_admin(client, salesperson):
    _token, secret = api_services.api_token_create(user=salesperson, name="Script")

    response = client.get(reverse("admin:index"), headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 302  # the admin's own login: a token is not a session
