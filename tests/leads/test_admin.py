from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from leads import admin as lead_admin
from leads import selectors
from leads.admin import EstimatedCountPaginator
from leads.models import Lead, StageChange
from tests.factories import (
    CompanyFactory,
    CriterionFactory,
    FollowUpFactory,
    ICPFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")
# Session, user with the manager flag, permissions (2), owners for the filter, the count, the
# page; PostgreSQL asks the planner's estimate first, and counts when the table is small.
CHANGELIST_QUERIES = 8 if connection.vendor == "postgresql" else 7


@pytest.fixture
def admin_client(client_of, manager):
    assert not manager.is_superuser  # a sales manager, by the group's permissions alone
    return client_of(manager)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def run_action(client, action: str, leads, url: str = CHANGELIST, **form):
    """Choose the action on the changelist (its intermediate page, if any, comes back), and
    with `form` given, submit that page as the browser would."""
    selected = [lead.pk for lead in leads]
    page = client.post(url, {"action": action, ACTION_CHECKBOX_NAME: selected, "index": 0})
    if not form:
        return page
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: selected, **form})


# --- Who gets in ------------------------------------------------------------------------------


def test_a_salesperson_is_sent_to_the_admin_login(client_of, salesperson):
    response = client_of(salesperson).get(CHANGELIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_a_manager_sees_the_teams_leads(admin_client, salesperson, other_salesperson):
    LeadFactory(owner=salesperson, first_name="Sams")
    LeadFactory(owner=other_salesperson, first_name="Alexs")

    page = admin_client.get(CHANGELIST).content.decode()

    assert "Sams" in page
    assert "Alexs" in page


def test_the_admin_index_offers_a_manager_the_team_but_not_the_scheduler(admin_client):
    """The scheduler's internals are for superusers (tests/team/test_views.py)."""
    page = admin_client.get(reverse("admin:index")).content.decode()

    for section in ("Leads", "Referral sources", "ICPs", "Users"):
        assert section in page
    assert "Periodic tasks" not in page


def test_the_team_list_counts_open_leads_and_links_to_them(admin_client, salesperson):
    LeadFactory.create_batch(2, owner=salesperson, stage="contacted")
    LeadFactory(owner=salesperson, stage="lost")

    response = admin_client.get(reverse("admin:accounts_user_changelist"))

    row = next(user for user in response.context["cl"].result_list if user == salesperson)
    assert (row.open_lead_count, row.in_managers_group) == (2, False)
    assert f"{CHANGELIST}?owner__id__exact={salesperson.pk}" in response.content.decode()


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize("filters", ["", "?stage__exact=contacted", "?source__exact=referral"])
def test_the_changelist_query_count_does_not_grow_with_leads(
    admin_client, salesperson, other_salesperson, django_assert_max_num_queries, rows, filters
):
    for number in range(rows):
        LeadFactory(
            owner=salesperson if number % 2 else other_salesperson,
            stage="contacted",
            source="referral",
        )

    with django_assert_max_num_queries(CHANGELIST_QUERIES):
        response = admin_client.get(CHANGELIST + filters)

    assert response.status_code == 200
    assert response.content.decode().count('class="action-select"') == min(rows, 50)


def test_the_row_checkbox_is_djangos_own(salesperson):
    """LeadAdmin writes the row checkbox itself (speed); it must stay Django's HTML."""
    from django.contrib import admin

    lead = LeadFactory(owner=salesperson, first_name="Dana <&> O'Neil")
    model_admin = admin.site._registry[Lead]

    assert model_admin.action_checkbox(lead) == admin.ModelAdmin.action_checkbox(model_admin, lead)


@pytest.mark.parametrize(
    "query",
    ["", "?stage__exact=contacted", "?q=987654321&o=-7", "?cold=yes&o=2"],
)
@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_the_changelist_rows_are_the_cells_django_draws(manager, salesperson, query, zone):
    """lead_result_list draws the rows itself (speed); each cell must stay what Django's
    items_for_result prints: names and companies with markup, no company, no dates, each
    stage and source, going cold or not, links keeping the list's filters."""
    from django.contrib import admin
    from django.contrib.admin.templatetags.admin_list import items_for_result
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    from leads.templatetags.lead_admin_list import lead_cells

    now = timezone.now()
    for number, (stage, source) in enumerate(
        zip(
            ["new", "contacted", "won", "lost", "contacted"],
            ["referral", "event", "other", "referral", "event"],
            strict=True,
        )
    ):
        LeadFactory(
            owner=salesperson,
            first_name=f"Dana <&> O'Neil {number}",
            # A search for the number lead_cells puts the key in: the link keeps it as typed.
            last_name="987654321" if number in (0, 3) else "Smith",
            company=CompanyFactory(owner=salesperson, name='Acme "&" <Co>') if number % 2 else None,
            stage=stage,
            source=source,
            next_follow_up_at=now + timedelta(hours=number) if number % 3 else None,
            last_contacted_at=now - timedelta(days=40 * number) if number else None,
            stage_changed_at=now - timedelta(days=60 * number),
        )
    request = RequestFactory().get(CHANGELIST + query)
    request.user, request.session = manager, {}
    request._messages = FallbackStorage(request)
    request.resolver_match = resolve(CHANGELIST)  # the admin keeps the filters on this page
    model_admin = admin.site._registry[Lead]

    with timezone.override(zone):
        changelist = model_admin.get_changelist_instance(request)
        rows = [
            (
                [str(cell) for cell in items_for_result(changelist, lead, None)],
                lead_cells(changelist, lead),
            )
            for lead in changelist.result_list
        ]

    assert rows
    assert all(ours == djangos for djangos, ours in rows)
    if query:
        assert all("_changelist_filters=" in ours[1] for _djangos, ours in rows)


def test_filters_and_search_load(admin_client, salesperson):
    LeadFactory(owner=salesperson, first_name="Dana")

    response = admin_client.get(
        CHANGELIST, {"q": "dana", "stage__exact": "new", "owner__id__exact": salesperson.pk}
    )

    assert response.status_code == 200
    assert [lead.first_name for lead in response.context["cl"].result_list] == ["Dana"]


def test_the_going_cold_filter(admin_client, salesperson):
    LeadFactory(
        owner=salesperson,
        first_name="Cold",
        stage="new",
        stage_changed_at=timezone.now() - timedelta(days=10),
    )
    LeadFactory(owner=salesperson, first_name="Fresh", stage="new")

    cold = admin_client.get(CHANGELIST, {"cold": "yes"}).context["cl"].result_list
    warm = admin_client.get(CHANGELIST, {"cold": "no"}).context["cl"].result_list

    assert [lead.first_name for lead in cold] == ["Cold"]
    assert [lead.first_name for lead in warm] == ["Fresh"]


# --- Pagination without COUNT(*) over the table ------------------------------------------------


def test_an_unfiltered_count_on_postgresql_is_the_planners_estimate(monkeypatch, salesperson):
    LeadFactory.create_batch(3, owner=salesperson)
    monkeypatch.setattr(lead_admin, "_estimated_rows", lambda table: 1_000_000)

    unfiltered = EstimatedCountPaginator(Lead.objects.all(), 100).count
    filtered = EstimatedCountPaginator(Lead.objects.filter(owner=salesperson), 100).count

    assert unfiltered == (1_000_000 if connection.vendor == "postgresql" else 3)
    assert filtered == 3


def test_a_filtered_count_stops_at_the_cap(monkeypatch, salesperson):
    LeadFactory.create_batch(4, owner=salesperson)
    monkeypatch.setattr(EstimatedCountPaginator, "COUNT_CAP", 2)

    assert EstimatedCountPaginator(Lead.objects.filter(owner=salesperson), 1).count == 2


def test_a_filtered_count_reads_no_annotation_of_the_rows(salesperson):
    LeadFactory.create_batch(3, owner=salesperson)
    leads = Lead.objects.filter(owner=salesperson).annotate(in_pool=selectors.in_network_pool())

    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(leads, 1).count

    assert count == 3
    assert [query["sql"] for query in queries if "leads_followup" in query["sql"]] == []


# --- Bulk actions -----------------------------------------------------------------------------


def test_reassign_asks_for_an_active_user_then_moves_the_leads(
    admin_client, salesperson, other_salesperson
):
    UserFactory(username="gone", is_active=False)
    leads = LeadFactory.create_batch(2, owner=salesperson)
    FollowUpFactory(lead=leads[0])

    page = run_action(admin_client, "reassign_owner", leads)
    done = run_action(admin_client, "reassign_owner", leads, to_owner=other_salesperson.pk, apply=1)

    assert page.status_code == 200
    assert "gone" not in page.context["form"]["to_owner"].as_widget()
    assert done.status_code == 302
    assert set(Lead.objects.values_list("owner", flat=True)) == {other_salesperson.pk}
    assert Lead.objects.get(pk=leads[0].pk).follow_ups.filter(done_at__isnull=True).exists()
    assert messages_of(done)[0].startswith(f"Gave 2 leads to {other_salesperson}.")


def test_reassign_to_an_inactive_user_is_refused(admin_client, salesperson):
    gone = UserFactory(username="gone", is_active=False)
    lead = LeadFactory(owner=salesperson)

    response = run_action(admin_client, "reassign_owner", [lead], to_owner=gone.pk, apply=1)

    assert response.status_code == 200  # the form again
    assert "Choose an active salesperson" in " ".join(messages_of(response))
    lead.refresh_from_db()
    assert lead.owner == salesperson


def test_reassign_all_matching_a_filter(admin_client, manager, salesperson, other_salesperson):
    theirs = LeadFactory.create_batch(3, owner=salesperson)
    untouched = LeadFactory(owner=manager)
    url = f"{CHANGELIST}?owner__id__exact={salesperson.pk}"

    run_action(
        admin_client,
        "reassign_owner",
        theirs[:1],
        url=url,
        select_across=1,
        to_owner=other_salesperson.pk,
        apply=1,
    )

    assert Lead.objects.filter(owner=other_salesperson).count() == 3
    untouched.refresh_from_db()
    assert untouched.owner == manager


def test_change_stage_moves_the_leads_and_names_those_it_skips(admin_client, salesperson):
    movable = LeadFactory(owner=salesperson, stage="contacted")
    already = LeadFactory(owner=salesperson, first_name="Already", stage="qualified")

    page = run_action(admin_client, "change_stage", [movable, already])
    done = run_action(
        admin_client, "change_stage", [movable, already], to_stage="qualified", apply=1
    )

    assert page.status_code == 200
    movable.refresh_from_db()
    assert movable.stage == "qualified"
    change = StageChange.objects.get(lead=movable)
    assert (change.from_stage, change.changed_by) == ("contacted", done.wsgi_request.user)
    skipped = f"{already}: The lead is already in Qualified."
    assert messages_of(done) == [f"Moved 1 lead. Skipped 1: {skipped}"]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.count) == (
        AuditAction.BULK_STAGE_CHANGE,
        done.wsgi_request.user,
        1,
    )
    assert event.details["stage"] == {"to": "qualified", "from": {str(movable.pk): "contacted"}}


def test_change_stage_to_lost_needs_a_reason(admin_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    done = run_action(admin_client, "change_stage", [lead], to_stage="lost", apply=1)

    lead.refresh_from_db()
    assert lead.stage == "new"
    assert "Say why the lead was lost" in messages_of(done)[0]


def test_rescore_scores_the_selected_leads(admin_client, salesperson):
    CriterionFactory(icp=ICPFactory(owner=salesperson), field="title", value="Head of Sales")
    lead = LeadFactory(owner=salesperson, title="Head of Sales")

    done = run_action(admin_client, "rescore", [lead])

    lead.refresh_from_db()
    assert (lead.fit_score, lead.scored_at is not None) == (100, True)
    assert messages_of(done) == ["Rescored 1 lead; 1 scores changed."]


def test_export_neutralises_spreadsheet_formulas(admin_client, salesperson):
    lead = LeadFactory(
        owner=salesperson,
        first_name='=HYPERLINK("http://evil.example","Click")',
        last_name="@SUM(A1)",
        phone="+442079460958",
        company=CompanyFactory(owner=salesperson, name="-Acme"),
    )

    response = run_action(admin_client, "export_csv", [lead])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    exported = dict(zip(header, row, strict=True))
    assert exported["First name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert exported["Last name"] == "'@SUM(A1)"
    assert exported["Phone"] == "'+442079460958"
    assert exported["Company"] == "'-Acme"
    assert exported["Email"] == lead.email


# --- The change form goes through the services ------------------------------------------------


def change_form_data(response, **changes) -> dict:
    """What the change form posts back unchanged, with `changes` on top."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form[name].value())
        if isinstance(value, bool):
            value = "on" if value else ""
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    return {**data, **changes}


def test_an_edit_in_the_admin_is_saved_by_the_service_and_audited(
    admin_client, manager, salesperson
):
    lead = LeadFactory(owner=salesperson, title="Head of Sales")
    url = reverse("admin:leads_lead_change", args=[lead.pk])

    response = admin_client.post(
        url, change_form_data(admin_client.get(url), title="VP Sales", email=" VP@Acme.TEST ")
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.title, lead.email) == ("VP Sales", "vp@acme.test")  # normalised
    assert lead.history.latest().history_user == manager


def test_the_admin_refuses_another_owners_company(admin_client, salesperson, other_salesperson):
    lead = LeadFactory(owner=salesperson)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    theirs = CompanyFactory(owner=other_salesperson)

    response = admin_client.post(url, change_form_data(admin_client.get(url), company=theirs.pk))

    assert response.status_code == 200
    assert f"Choose one of {salesperson}" in response.content.decode()
    lead.refresh_from_db()
    assert lead.company != theirs


@pytest.mark.parametrize("model", ["activity", "followup"])
def test_activities_and_follow_ups_are_read_only_in_the_admin(client_of, manager, model):
    """They are logged and planned on the lead page, where the services keep the lead's last
    touch and next follow-up in step; a row saved here would leave them stale."""
    client = client_of(manager)

    assert client.get(reverse(f"admin:leads_{model}_add")).status_code == 403
    assert client.get(reverse(f"admin:leads_{model}_changelist")).status_code == 200
