"""Every URL of the project, walked from the resolver: who may reach it and whose records.

(a) An anonymous visitor is sent to the login page from every URL but the public ones.
(b) A salesperson asking for another salesperson's record by id gets 404, whatever the
    method, and the other's records are left as they were.

A new URL is checked without anyone listing it. One that takes an object id must say which
object it is about (ID_KINDS_BY_NAME_PREFIX, ID_KINDS_BY_KWARG) or the suite fails: no URL
escapes the check by being forgotten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RegexPattern
from django.utils import timezone

from accounts.models import User
from api import services as api_services
from api.models import ApiToken
from emails.capture_models import UnmatchedEmail
from emails.models import Email, EmailTemplate
from emails.templates_services import email_template_create
from icp.models import ICP, Criterion
from imports import services as import_services
from imports.models import ImportJob
from leads import services as lead_services
from leads.models import Activity, Company, FollowUp, Lead, LeadMerge, StageChange
from leads.services import merging as merge_writes
from referrals.models import ReferralAsk, ReferralSource
from tests.factories import (
    ActivityFactory,
    CriterionFactory,
    FollowUpFactory,
    ICPFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)

# Not walked: the admin checks staff status and permissions itself (tests/leads/test_admin.py).
SKIPPED_PREFIXES = ("admin/", settings.STATIC_URL.lstrip("/"))
# Reachable without logging in, by design.
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "reminders:email-link",  # e/<token>/: the signed token is the credential
    "calendar-feed",  # calendar/<token>.ics: the secret token is the credential
    "first-account",  # only while the database has no account at all; 404 after
    # p/<token>/…: a salesperson's public page and embeddable form; the secret token finds it
    "public-page",
    "public-page-thanks",
    "public-page-embed",
    "public-page-embed-thanks",
    # p/<token>/book/: booking a slot on that page; p/booking/<cancel_token>/…: the visitor's
    # own booking, the unguessable cancel token is the credential
    "booking-new",
    "booking-confirmed",
    "booking-manage",
    "booking-cancel",
    "booking-erase",
}
# Sales managers' pages about the team: any person by id, no ownership to check; everyone
# else gets 403 (test_manager_pages_refuse_salespeople).
MANAGER_ONLY = {
    "team",
    "team-member-add",
    "team-member-goal",
    "team-member-deactivate",
    "team-demo-remove",
    "team-settings",
}
# Path arguments that are not object ids, with a value the view accepts.
SAMPLE_VALUES = {
    "section": "contact",
    "stage": "new",
    "slug": "sources",
    "token": "not-a-real-token",
    "cancel_token": "not-a-real-token",
    "path": "no-such-endpoint/",
}
# Which object an id argument is about: the `pk` of a URL by its name's prefix (the longest
# matching prefix wins), any other id argument by its own name.
ID_KINDS_BY_NAME_PREFIX = {
    "lead-": "lead",
    "lead-merge-undo": "lead_merge",
    "lead-stage-undo": "stage_change",
    "today-log": "lead",
    "today-done": "lead",
    "today-follow-up-": "follow_up",
    "follow-up-": "follow_up",
    "referral-": "referral_source",
    "referral-ask-": "referral_ask",
    "icp-": "icp",
    "criterion-": "icp",  # icp/<pk>/criteria/…
    "api-lead-": "lead",
    "api-activity-": "activity",
    "api-follow-up-": "follow_up",
    "api-referral-source-": "referral_source",
    "api-referral-ask-": "referral_ask",
    "api-icp-": "icp",
    "api-criterion-": "criterion",
    "api-token-revoke": "api_token",
    "import-": "import_job",
    "company-": "company",
    "prospect-lookalike-": "lead",
    "team-member-": "user",  # a manager's page about one person of the team
    "email-template-": "email_template",
    "api-email-": "email",
    "unmatched-email-": "unmatched_email",
}
ID_KINDS_BY_KWARG = {"criterion_pk": "criterion", "other_pk": "lead"}
# GET and POST for the pages; PATCH and DELETE too, which an API's detail routes answer.
METHODS = ("GET", "POST", "PATCH", "DELETE")
# What a POST sends: data the view would accept, so a view that forgot to scope its lookup
# would change the other salesperson's record (and the snapshot below would catch it).
TOMORROW = (timezone.now() + timedelta(days=1)).date().isoformat()
POST_DATA: dict[str, dict[str, str]] = {
    "lead-edit": {"first_name": "Changed", "last_name": "By someone else", "title": "CEO"},
    "lead-company-edit": {"name": "Changed by someone else", "industry": "Changed"},
    "company-edit": {"name": "Changed by someone else", "industry": "Changed"},
    "lead-stage": {"to_stage": "qualified"},
    "lead-activity-create": {"kind": "call", "outcome": "connected", "text": "Not mine"},
    "lead-follow-up": {"due_date": TOMORROW, "due_time": "09:00", "kind": "custom"},
    "today-log": {"kind": "call", "outcome": "connected"},
    "follow-up-snooze": {"days": "3"},
    "referral-update": {"strength": "5", "ask_cadence_days": "30", "notes": "Not mine"},
    "referral-ask": {"channel": "email"},
    "referral-ask-outcome": {"outcome": "declined"},
    "icp-update": {"name": "Changed by someone else", "is_active": "on"},
    "criterion-create": {"field": "industry", "operator": "equals", "value": "X", "weight": "5"},
    "api-lead-stage": {"stage": "qualified"},
    "api-referral-ask-outcome": {"outcome": "declined"},
    # A preview: the form accepted, nothing sent (a send is tests/emails' business).
    "lead-email-compose": {
        "action": "preview",
        "message_id": "1.leadhunter@example.com",
        "subject": "Hello",
        "body": "Not mine",
    },
    "lead-email-preview": {"subject": "Hello", "body": "Not mine"},
    "email-template-update": {"name": "Changed by someone else", "body": "Changed"},
}
ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")  # path("<int:pk>/")
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")  # re_path(r"^(?P<pk>[^/.]+)/$")
UNESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, e.g. "reminders:email-link"; "" when the pattern has none
    segments: tuple  # the RoutePattern or RegexPattern of each level, outermost first
    view: Callable

    def __str__(self) -> str:
        return self.name or "".join(map(str, self.segments))

    @property
    def arguments(self) -> dict[str, object | None]:
        """Each path argument with its converter (None for a regex group)."""
        found: dict[str, object | None] = {}
        for segment in self.segments:
            if isinstance(segment, RegexPattern):
                found.update(dict.fromkeys(segment.regex.groupindex))
            else:
                for match in ARGUMENT.finditer(str(segment)):
                    found[match["name"]] = segment.converters[match["name"]]
        return found

    @property
    def id_arguments(self) -> list[str]:
        return [
            name
            for name, converter in self.arguments.items()
            if isinstance(converter, IntConverter) or name == "pk" or name.endswith("_pk")
        ]

    @property
    def guarded_by_login_middleware(self) -> bool:
        """False for a view marked @login_not_required: it must refuse strangers itself."""
        return getattr(self.view, "login_required", True)

    @property
    def speaks_json_only(self) -> bool:
        """A view class whose parsers all read JSON (an API view) refuses a form post."""
        parsers = getattr(getattr(self.view, "cls", None), "parser_classes", ())
        return bool(parsers) and all(parser.media_type == "application/json" for parser in parsers)

    def id_kind(self, argument: str) -> str | None:
        if argument in ID_KINDS_BY_KWARG:
            return ID_KINDS_BY_KWARG[argument]
        if argument != "pk":
            return None
        prefixes = [prefix for prefix in ID_KINDS_BY_NAME_PREFIX if self.name.startswith(prefix)]
        return ID_KINDS_BY_NAME_PREFIX[max(prefixes, key=len)] if prefixes else None

    def url(self, values: Mapping[str, object]) -> str:
        parts = []
        for segment in self.segments:
            if isinstance(segment, RegexPattern):
                text = NAMED_GROUP.sub(lambda match: str(values[match["name"]]), str(segment))
                parts.append(UNESCAPE.sub(r"\1", text.lstrip("^").rstrip("$")))
            else:
                parts.append(
                    ARGUMENT.sub(
                        lambda match, segment=segment: segment.converters[match["name"]].to_url(
                            values[match["name"]]
                        ),
                        str(segment),
                    )
                )
        return "/" + "".join(parts)


def walk(patterns, segments: tuple = (), namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        inner = (*segments, pattern.pattern)
        if "".join(map(str, inner)).lstrip("^").startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            scope = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, inner, scope)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield Route(name, inner, pattern.callback)


ROUTES = list(walk(get_resolver().url_patterns))
PRIVATE = [route for route in ROUTES if route.name not in PUBLIC]
WITH_IDS = [route for route in PRIVATE if route.id_arguments and route.name not in MANAGER_ONLY]
MAPPED = [route for route in WITH_IDS if all(map(route.id_kind, route.id_arguments))]
# One case per id argument given someone else's id (the others one's own), plus all of them.
ID_CASES = [
    pytest.param(route, others, id=f"{route}[{'+'.join(others)}]")
    for route in MAPPED
    for others in (
        [[argument] for argument in route.id_arguments]
        + ([route.id_arguments] if len(route.id_arguments) > 1 else [])
    )
]


UPLOAD = b"First Name,Email\nDana,dana@example.com\n"


def records_of(user) -> dict[str, object]:
    """One of each kind of record a URL can be about, owned by `user`."""
    lead = LeadFactory(owner=user)
    source = ReferralSourceFactory(owner=user)
    icp = ICPFactory(owner=user)
    return {
        "lead": lead,
        "company": lead.company,
        "activity": ActivityFactory(lead=lead),
        "follow_up": FollowUpFactory(lead=lead),
        "referral_source": source,
        "referral_ask": ReferralAsk.objects.create(
            source=source, asked_by=user, asked_at=timezone.now()
        ),
        "icp": icp,
        "criterion": CriterionFactory(icp=icp),
        "api_token": api_services.api_token_create(user=user, name="Laptop")[0],
        "import_job": import_services.import_job_create(
            owner=user, data=UPLOAD, filename="leads.csv"
        ),
        "stage_change": lead_services.lead_change_stage(
            lead=LeadFactory(owner=user), to_stage="contacted", user=user
        )
        .stage_changes.order_by("-changed_at", "-id")
        .first(),
        "lead_merge": merge_writes.lead_merge(
            survivor=LeadFactory(owner=user), duplicate=LeadFactory(owner=user), by=user
        ),
        "unmatched_email": UnmatchedEmail.objects.create(
            owner=user,
            person_address="eve@prospect.example",
            message_id=f"unmatched-{lead.pk}@x",  # one per call, as the other records
            direction="inbound",
            from_address="eve@prospect.example",
            sent_at=timezone.now(),
        ),
        "user": user,
        "email_template": email_template_create(
            owner=user, name=f"Hello {lead.pk}", subject="", body="Hi"
        ),
        # Stored as is: logging it (emails.services.email_log) would touch the lead, moving it
        # out of New and completing its follow-up, which other URLs here act on.
        "email": Email.objects.create(
            owner=user,
            lead=lead,
            message_id=f"m{lead.pk}@example.com",
            thread_key=f"m{lead.pk}@example.com",
            direction="outbound",
            source="sent",
            from_address=user.email,
            sent_at=timezone.now(),
        ),
    }


@dataclass(frozen=True)
class People:
    salesperson: User
    other_salesperson: User
    mine: dict[str, object]
    theirs: dict[str, object]


@pytest.fixture(scope="module", name="people")
def walk_people(django_db_setup, django_db_blocker) -> Iterator[People]:
    """Sam and Alex, each with one of each kind of record, made once for the module that uses
    these fixtures: records_of takes ~40 ms, and the walks make them ~500 times a run.

    In one transaction rolled back at the end, like the demo of tests/team/test_demo.py: each
    test nests inside it and its own writes are rolled back, so every test finds the records
    as they were made. The users' fixtures below hand each test a fresh copy from the database.
    """
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), transaction.atomic(), fast_hashing:
        sam, alex = UserFactory(username="sam"), UserFactory(username="alex")
        yield People(sam, alex, records_of(sam), records_of(alex))
        transaction.set_rollback(True)


def with_upload(records: dict[str, object]) -> dict[str, object]:
    """The records with their import job's file as uploaded. Running the import (a small one
    runs at once) deletes the file, and a file is not rolled back with the database."""
    path = import_services.upload_path(records["import_job"].pk)
    if not path.exists():
        path.write_bytes(UPLOAD)
        path.chmod(0o600)
    return records


@pytest.fixture(name="salesperson")
def walk_salesperson(db, people: People) -> User:
    return User.objects.get(pk=people.salesperson.pk)


@pytest.fixture(name="other_salesperson")
def walk_other_salesperson(db, people: People) -> User:
    return User.objects.get(pk=people.other_salesperson.pk)


@pytest.fixture(name="mine")
def walk_mine(people: People) -> dict[str, object]:
    """`salesperson`'s records (records_of)."""
    return with_upload(people.mine)


@pytest.fixture(name="theirs")
def walk_theirs(people: People) -> dict[str, object]:
    """`other_salesperson`'s records (records_of)."""
    return with_upload(people.theirs)


def snapshot(user) -> dict[str, list[dict]]:
    """Every record of `user` that a URL could change, column by column."""
    rows = {
        "leads": Lead.objects.filter(owner=user),
        "companies": Company.objects.filter(owner=user),
        "activities": Activity.objects.filter(lead__owner=user),
        "follow-ups": FollowUp.objects.filter(lead__owner=user),
        "stage changes": StageChange.objects.filter(lead__owner=user),
        "referral sources": ReferralSource.objects.filter(owner=user),
        "referral asks": ReferralAsk.objects.filter(source__owner=user),
        "ICPs": ICP.objects.filter(owner=user),
        "criteria": Criterion.objects.filter(icp__owner=user),
        "API tokens": ApiToken.objects.filter(user=user),
        "imports": ImportJob.objects.filter(owner=user),
        "lead merges": LeadMerge.objects.filter(owner=user),
        "email templates": EmailTemplate.objects.filter(owner=user),
        "emails": Email.objects.filter(lead__owner=user),
        "unmatched emails": UnmatchedEmail.objects.filter(owner=user),
    }
    return {name: list(queryset.order_by("pk").values()) for name, queryset in rows.items()}


def path_values(route: Route, mine: dict, theirs: dict, others: list[str] = ()) -> dict:
    """Path arguments: real ids, someone else's for the `others`; an id whose kind isn't
    mapped gets a placeholder (test_every_url_that_takes_an_id_says_what_it_is_about fails)."""
    values = dict(SAMPLE_VALUES)
    converters = route.arguments
    for argument in route.id_arguments:
        records = theirs if argument in others else mine
        kind = route.id_kind(argument)
        placeholder = UUID(int=1) if isinstance(converters[argument], UUIDConverter) else 1
        values[argument] = records[kind].pk if kind else placeholder
    return values


def send(client, route: Route, method: str, url: str):
    """A request as its client would send it: a browser form, or JSON to a JSON-only view."""
    data = POST_DATA.get(route.name, {})
    if method == "GET":
        return client.get(url)
    if method == "POST" and not route.speaks_json_only:
        return client.post(url, data)
    return client.generic(method, url, json.dumps(data), content_type="application/json")


# --- The walk itself finds everything it needs ----------------------------------------------


def test_the_walk_finds_the_apps_urls():
    names = {route.name for route in ROUTES}
    assert {"today", "lead-detail", "referral-detail", "icp-detail", "healthz"} <= names
    assert not any(str(route).startswith("admin/") for route in ROUTES)


def test_every_url_can_be_filled_in():
    unfillable = [
        f"{route} ({argument})"
        for route in PRIVATE
        for argument in route.arguments
        if argument not in SAMPLE_VALUES and argument not in route.id_arguments
    ]
    assert not unfillable, f"Add a sample value to SAMPLE_VALUES for: {unfillable}"


def test_every_url_that_takes_an_id_says_what_it_is_about():
    unmapped = [
        f"{route} ({argument})"
        for route in WITH_IDS
        for argument in route.id_arguments
        if route.id_kind(argument) is None
    ]
    assert not unmapped, (
        "Say which object these id arguments are about (ID_KINDS_BY_NAME_PREFIX or "
        f"ID_KINDS_BY_KWARG), so the 404 check covers them: {unmapped}"
    )


# --- (a) Anonymous visitors are sent to log in ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", PRIVATE, ids=str)
def test_an_anonymous_visitor_is_sent_to_log_in(client, mine, route):
    url = route.url(path_values(route, mine, {}))

    response = client.get(url)

    answer = f"GET {url} answered {response.status_code}"
    if route.guarded_by_login_middleware or response.status_code == 302:
        assert response.status_code == 302, answer
        assert response.url == redirect_to_login(url).url
        if not url.startswith("/api/"):  # the API docs page is never loaded by htmx
            # htmx cannot swap a login page into a region: 401, and HX-Redirect to the login.
            htmx = client.get(url, headers={"HX-Request": "true"})
            assert htmx.status_code == 401, f"htmx GET {url} answered {htmx.status_code}"
            assert htmx["HX-Redirect"] == redirect_to_login(url).url
    else:
        # Exempt from the middleware (an API authenticating its own tokens): it must refuse.
        assert response.status_code in (401, 403), answer


def test_the_public_allow_list_is_exact():
    """PUBLIC names only URLs that exist, and every view exempt from the login middleware is
    either on it or refuses strangers itself (an API view, checked above)."""
    names = {route.name for route in ROUTES}
    assert names >= PUBLIC, f"PUBLIC lists URLs that no longer exist: {PUBLIC - names}"
    exempt = {
        route.name
        for route in ROUTES
        if not route.guarded_by_login_middleware
        and not "".join(map(str, route.segments)).startswith("api/")
    }
    assert exempt <= PUBLIC, f"Exempt from login but not on the PUBLIC list: {exempt - PUBLIC}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC - {"logout"}))
def test_the_public_urls_do_not_send_a_visitor_to_log_in(client, salesperson, name):
    """The other half: what PUBLIC lists really is reachable without logging in (logout
    answers POST only, see tests/accounts/test_auth.py)."""
    [route] = [route for route in ROUTES if route.name == name]
    url = route.url({**SAMPLE_VALUES, "uidb64": "MQ"})

    response = client.get(url)

    assert response.status_code != 401
    assert not response.get("Location", "").startswith(reverse("login")), url


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MANAGER_ONLY))
def test_manager_pages_refuse_salespeople(client, salesperson, manager, name):
    [route] = [route for route in ROUTES if route.name == name]
    url = route.url({"pk": salesperson.pk})
    client.force_login(salesperson)

    answers = {method: send(client, route, method, url).status_code for method in METHODS}

    assert set(answers.values()) <= {403, 405}, f"{url} answered {answers}"
    assert 403 in answers.values()
    client.force_login(manager)
    assert client.get(url).status_code in (200, 405)
    assert salesperson.is_active


def test_manager_pages_are_listed():
    team_routes = {
        route.name for route in ROUTES if "".join(map(str, route.segments)).startswith("team/")
    }
    assert team_routes == MANAGER_ONLY


# --- (b) Someone else's record by id is not found ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "others"), ID_CASES)
def test_another_salespersons_record_is_not_found(
    client, salesperson, other_salesperson, mine, theirs, route, others
):
    url = route.url(path_values(route, mine, theirs, others))
    before = snapshot(other_salesperson)
    client.force_login(salesperson)

    answers = {method: send(client, route, method, url).status_code for method in METHODS}

    # 405: the method is refused before any record is looked up, whatever the id.
    assert set(answers.values()) <= {404, 405}, f"{url} answered {answers}"
    assert 404 in answers.values(), f"{url} never looked the record up: {answers}"
    assert snapshot(other_salesperson) == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", MAPPED, ids=str)
def test_the_same_requests_work_on_ones_own_records(client, salesperson, mine, route):
    """The control for the test above: its ids and data are ones the views accept, so its
    404s come from the ownership check and not from a malformed request."""
    url = route.url(path_values(route, mine, {}))
    client.force_login(salesperson)

    answers = {method: send(client, route, method, url).status_code for method in METHODS}

    assert all(status < 400 or status == 405 for status in answers.values()), (
        f"{url} answered {answers}"
    )
