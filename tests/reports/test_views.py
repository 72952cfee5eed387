from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from referrals.models import ReferralAsk
from reports.registry import REPORTS
from tests.factories import ActivityFactory, ReferralSourceFactory, UserFactory
from tests.reports.builders import at, history, lead

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SLUGS = list(REPORTS)
# The forecast is of the deals open today: a period does not empty it (tests/forecast).
PERIOD_SLUGS = [slug for slug, report in REPORTS.items() if report.uses_period]
SPRING = {"start": "2025-01-01", "end": "2025-04-30"}
EVIL = '=HYPERLINK("http://evil.example","Click")'


def html(response) -> str:
    return response.content.decode()


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def page(slug: str) -> str:
    return reverse("report-detail", args=[slug])


def csv_url(slug: str) -> str:
    return reverse("report-csv", args=[slug])


@pytest.fixture
def spring_data(salesperson, other_salesperson):
    """A little of everything in spring 2025 for Sam, and a secret for Alex."""
    customer = lead(salesperson, created="2024-06-01 09:00", stage="won", won="2024-09-01 09:00")
    ada = ReferralSourceFactory(owner=salesperson, name="Ada Lovelace", lead=customer)
    won = lead(
        salesperson,
        source="referral",
        created="2025-03-01 09:00",
        stage="won",
        won="2025-03-21 09:00",
        value=12_000,
        referred_by=ada,
    )
    history(won, ("new", "2025-03-01 09:00"), ("contacted", "2025-03-02 09:00"))
    lead(salesperson, source="marketing", created="2025-03-05 09:00")
    ActivityFactory(
        lead=won, kind="replied", direction="inbound", occurred_at=at("2025-03-04 09:58")
    )
    ActivityFactory(lead=won, user=salesperson, kind="call", occurred_at=at("2025-03-04 10:00"))
    ReferralAsk.objects.create(source=ada, asked_by=salesperson, asked_at=at("2025-03-01 09:00"))
    secret = ReferralSourceFactory(owner=other_salesperson, name="Secret Sauce")
    lead(
        other_salesperson,
        source="event",
        created="2025-03-01 09:00",
        stage="won",
        won="2025-03-10 09:00",
        value=77_000,
        referred_by=secret,
    )
    ActivityFactory(
        lead=secret.referred_leads.get(),
        user=other_salesperson,
        kind="call",
        occurred_at=at("2025-03-04 10:00"),
    )


# --- Pages ---------------------------------------------------------------------------------


def test_index_lists_every_report(sam_client):
    body = html(sam_client.get(reverse("reports")))

    assert "<title>Reports · LeadHunter</title>" in body
    for slug, report in REPORTS.items():
        assert f'href="{page(slug)}"' in body
        assert escape(report.description) in body


@pytest.mark.parametrize("slug", SLUGS)
def test_each_report_shows_figures_chart_and_table(sam_client, spring_data, slug):
    response = sam_client.get(page(slug), SPRING)

    body = html(response)
    assert response.status_code == 200
    assert f"<title>{REPORTS[slug].title} · LeadHunter</title>" in body
    assert '<svg class="chart"' in body
    assert "<table" in body
    assert "</table>" in body
    assert f'href="{csv_url(slug)}?start=2025-01-01&amp;end=2025-04-30&amp;table=' in body


@pytest.mark.parametrize("slug", PERIOD_SLUGS)
def test_an_empty_period_shows_an_empty_state(sam_client, spring_data, slug):
    body = html(sam_client.get(page(slug), {"start": "2020-01-01", "end": "2020-02-01"}))

    assert "Nothing to show yet" in body
    assert '<svg class="chart"' not in body


def test_the_sources_report_says_what_its_win_rate_counts(sam_client, spring_data):
    body = html(sam_client.get(page("sources"), SPRING))

    assert "win rate (won of the deals closed, won or lost; open deals do not count)" in body


def test_unknown_report_is_404_and_reports_are_read_only(sam_client):
    assert sam_client.get(page("pipeline-magic")).status_code == 404
    assert sam_client.get(csv_url("pipeline-magic")).status_code == 404
    assert sam_client.post(page("sources")).status_code == 405


def test_reports_need_a_login(client):
    response = client.get(page("sources"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_htmx_gets_the_report_body_and_a_plain_request_the_whole_page(sam_client, spring_data):
    partial = html(sam_client.get(page("sources"), SPRING, headers=HTMX))
    full = html(sam_client.get(page("sources"), SPRING))

    assert partial.lstrip().startswith('<div id="report-body"')
    assert "<html" not in partial
    assert 'id="report-filters"' not in partial
    assert full.lstrip().startswith("<!doctype html>")
    assert 'id="report-filters"' in full
    assert 'hx-target="#report-body"' in full
    assert 'hx-push-url="true"' in full


def test_an_end_before_the_start_shows_the_error_next_to_the_field(sam_client):
    dates = {"start": "2025-03-01", "end": "2025-02-01"}
    full = html(sam_client.get(page("funnel"), dates))
    partial = html(sam_client.get(page("funnel"), dates, headers=HTMX))

    error = "The end date is before the start date."
    field = full[full.index('name="end"') :]
    assert field.index(error) < field.index("</div>")  # inside the end field's box
    assert "Check the filters" in full
    # htmx swaps the report body only; the error reaches its field out of band.
    assert '<div id="report-filter-end-errors" class="field-errors" hx-swap-oob="true">' in partial
    assert error in partial


# --- Who sees what -------------------------------------------------------------------------


def test_a_salesperson_sees_only_their_own_numbers(sam_client, spring_data, other_salesperson):
    body = html(sam_client.get(page("referrals"), SPRING))
    sneaky = html(sam_client.get(page("referrals"), {**SPRING, "rep": other_salesperson.pk}))
    sources = rows_of(sam_client.get(csv_url("sources"), SPRING))

    assert "Ada Lovelace" in body
    assert "Secret Sauce" not in body
    assert "Secret Sauce" not in sneaky
    assert 'name="rep"' not in body
    event = next(row for row in sources if row[0] == "Event")
    assert event[1:4] == ["0", "0", "0"]


def test_a_manager_sees_the_team_and_can_pick_a_rep(
    client_of, manager, spring_data, salesperson, other_salesperson
):
    client = client_of(manager)
    team = html(client.get(page("referrals"), SPRING))
    alex = html(client.get(page("referrals"), {**SPRING, "rep": other_salesperson.pk}))
    sam_activity = rows_of(
        client.get(csv_url("activity"), {**SPRING, "rep": salesperson.pk, "table": "reps"})
    )

    assert "Ada Lovelace" in team
    assert "Secret Sauce" in team
    assert 'name="rep"' in team
    assert "Secret Sauce" in alex
    assert "Ada Lovelace" not in alex
    assert f'<option value="{other_salesperson.pk}" selected>' in alex
    assert sam_activity[1:] == [[str(salesperson), "1", "1720", "0.1"]]


def test_a_manager_picking_someone_off_the_team_gets_a_clear_error(client_of, manager):
    gone = UserFactory(username="gone", is_active=False)

    body = html(client_of(manager).get(page("activity"), {"rep": gone.pk}))

    assert "Pick someone on your team, or the whole team." in body


# --- Speed to lead ------------------------------------------------------------------------


def test_speed_to_lead_says_how_it_counts_and_lists_each_salesperson_for_a_manager(
    client_of, manager, spring_data, salesperson, other_salesperson
):
    theirs = other_salesperson.leads.get()
    ActivityFactory(
        lead=theirs, kind="asked_for_demo", direction="inbound", occurred_at=at("2025-03-04 09:00")
    )  # Alex's call came an hour later
    team = html(client_of(manager).get(page("speed-to-lead"), SPRING))
    own = html(client_of(salesperson).get(page("speed-to-lead"), SPRING))
    months = rows_of(
        client_of(manager).get(csv_url("speed-to-lead"), {**SPRING, "table": "months"})
    )
    people = rows_of(client_of(manager).get(csv_url("speed-to-lead"), SPRING))

    assert "How it is counted" in team
    assert "<li>A hand-raise is an activity logged as “Replied”, “Asked for info”," in team
    assert "the clock runs from its first unanswered hand-raise" in team
    assert "Per salesperson" in team
    assert f'<th scope="row">{escape(str(other_salesperson))}</th>' in team
    assert f'<th scope="row">{escape(str(salesperson))}</th>' in team
    assert f'<th scope="row">{escape(str(other_salesperson))}</th>' not in own
    assert months[0] == [
        "Month",
        "Salesperson",
        "Hand-raises",
        "Median time to first touch (minutes)",
        "Answered within 5 minutes",
        "Answered within 1 hour",
        "Answered within 1 day",
        "Answered later",
        "Still waiting",
    ]
    # Only the months with hand-raises, one row per salesperson.
    assert sorted(months[1:]) == sorted(
        [
            ["2025-03", str(salesperson), "1", "2.0", "1", "1", "1", "0", "0"],
            ["2025-03", str(other_salesperson), "1", "60.0", "0", "1", "1", "0", "0"],
        ]
    )
    assert people[-1] == ["Total", "2", "31.0", "1", "2", "2", "0", "0"]


def test_speed_to_lead_empty_state_names_the_hand_raises(sam_client):
    body = html(sam_client.get(page("speed-to-lead"), SPRING))

    assert "Nothing to show yet" in body
    assert "No lead raised a hand (“Replied”, “Asked for info”, “Asked for a demo”" in body


# --- CSV -----------------------------------------------------------------------------------


def test_csv_download_matches_the_table(sam_client, spring_data):
    response = sam_client.get(csv_url("own-your-leads"), SPRING)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="leadhunter-own-your-leads-2025-01-01-to-2025-04-30.csv"'
    )
    rows = rows_of(response)
    assert rows[0][:4] == [
        "Month",
        "New leads, self-sourced",
        "New leads, marketing",
        "New leads, self-sourced share",
    ]
    assert rows[3][:4] == ["2025-03", "1", "1", "50.0"]
    assert rows[-1][0] == "Total"
    assert len(rows) == 1 + 4 + 1


def test_csv_of_a_second_table_is_named_after_it(sam_client, spring_data):
    response = sam_client.get(csv_url("referrals"), {**SPRING, "table": "months"})

    assert (
        "leadhunter-referrals-months-2025-01-01-to-2025-04-30.csv"
        in (response["Content-Disposition"])
    )
    assert rows_of(response)[3] == ["2025-03", "1", "1"]
    assert sam_client.get(csv_url("referrals"), {"table": "nope"}).status_code == 404


def test_csv_with_bad_dates_is_a_bad_request(sam_client):
    response = sam_client.get(csv_url("funnel"), {"start": "2025-03-01", "end": "2025-01-01"})

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_csv_neutralises_formulas_in_names(sam_client, salesperson):
    evil = ReferralSourceFactory(owner=salesperson, name=EVIL)
    lead(salesperson, source="referral", created="2025-03-01 09:00", referred_by=evil)
    salesperson.first_name, salesperson.last_name = "=cmd|'/C calc'!A0", ""
    salesperson.save()
    ActivityFactory(
        lead=evil.referred_leads.get(), user=salesperson, occurred_at=at("2025-03-03 09:00")
    )

    leaderboard = rows_of(sam_client.get(csv_url("referrals"), SPRING))
    reps = rows_of(sam_client.get(csv_url("activity"), {**SPRING, "table": "reps"}))

    assert leaderboard[1][0] == "'" + EVIL
    assert reps[1][0] == "'=cmd|'/C calc'!A0"


def test_the_chart_escapes_a_referral_source_called_script(sam_client, salesperson):
    script = ReferralSourceFactory(owner=salesperson, name="<script>alert(1)</script>")
    lead(
        salesperson,
        source="referral",
        created="2025-03-01 09:00",
        stage="won",
        won="2025-03-02 09:00",
        value=1_000,
        referred_by=script,
    )

    body = html(sam_client.get(page("referrals"), SPRING))

    assert "<script>alert" not in body
    chart = body[body.index("Top referral sources") : body.index("</svg>", body.index("Top"))]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chart


# --- Query counts --------------------------------------------------------------------------


def _populate(owners, count: int, offset: int = 0) -> None:
    """`count` leads spread over the owners, each with history, a touch and a referral."""
    sources = {owner.pk: ReferralSourceFactory(owner=owner) for owner in owners}
    stages = ("new", "contacted", "engaged", "won", "lost")
    for n in range(count):
        owner = owners[n % len(owners)]
        day = 1 + (n + offset) % 27
        month = 1 + (n + offset) % 4
        stage = stages[n % len(stages)]
        created = f"2025-{month:02d}-{day:02d} 09:00"
        one = lead(
            owner,
            source=("referral", "marketing", "event")[n % 3],
            created=created,
            stage=stage,
            won=f"2025-{month:02d}-{day:02d} 18:00" if stage == "won" else None,
            value=1_000 * (n + 1),
            referred_by=sources[owner.pk],
        )
        history(one, ("new", created), ("contacted", f"2025-{month:02d}-{day:02d} 12:00"))
        ActivityFactory(
            lead=one, kind="asked_for_info", direction="inbound", occurred_at=at(created)
        )
        ActivityFactory(lead=one, user=owner, occurred_at=at(created))
        ReferralAsk.objects.create(source=sources[owner.pk], asked_at=at(created))


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("viewer", ["salesperson", "manager"])
def test_query_count_does_not_grow_with_the_data(
    request, client_of, salesperson, other_salesperson, django_assert_max_num_queries, slug, viewer
):
    client = client_of(request.getfixturevalue(viewer))
    _populate([salesperson, other_salesperson], 5)
    with CaptureQueriesContext(connection) as five:
        assert client.get(page(slug), SPRING).status_code == 200
    _populate([salesperson, other_salesperson, UserFactory(username="casey")], 45, offset=5)

    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(page(slug), SPRING)

    assert response.status_code == 200
    assert len(five.captured_queries) <= 10
