from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.models import ReferralAsk, ReferralSource
from tests.factories import LeadFactory, ReferralSourceFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str | None = None) -> dict[str, str]:
    headers = dict(HTMX)
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


def is_full_page(response) -> bool:
    return b"<html" in response.content


# --- The referrals page --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_referrals_page_ranks_who_to_ask_and_lists_every_source(client_of, salesperson):
    ana = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz", strength=5)
    ReferralSourceFactory(
        owner=salesperson,
        name="Ben Brook",
        strength=2,
        last_asked_at=timezone.now() - timedelta(days=43),
        next_ask_at=timezone.now() - timedelta(days=1),
    )
    ReferralSourceFactory(
        owner=salesperson, name="Later Lu", next_ask_at=timezone.now() + timedelta(days=40)
    )
    LeadFactory.create_batch(2, owner=salesperson, referred_by=ana)

    response = client_of(salesperson).get(reverse("referral-list"))

    assert response.status_code == 200
    assert is_full_page(response)
    assert response.context["title"] == "Referrals"
    ranked = [item.source.name for item in response.context["asks_due"]]
    assert ranked == ["Ana Ortiz", "Ben Brook"]
    page = response.content.decode()
    assert f'id="who-to-ask-row-{ana.pk}"' in page
    assert 'aria-label="Relationship strength 5 of 5"' in page
    # The dots on in one span and off in another, each coloured.
    assert '<span class="strength-on">●●●●●</span><span class="strength-off"></span>' in page
    assert "2 referred leads" in page
    assert "Last asked 43 days ago" in page
    assert "Last asked never" in page
    assert "Asked ✓" in page
    assert [row.source.name for row in response.context["source_rows"]] == [
        "Ana Ortiz",
        "Ben Brook",
        "Later Lu",
    ]


@pytest.mark.django_db
def test_the_sources_table_shows_the_won_value_of_each_tree(client_of, salesperson):
    ana = ReferralSourceFactory(owner=salesperson, name="Ana")
    bea = LeadFactory(
        owner=salesperson, referred_by=ana, stage="won", expected_value=Decimal(12000)
    )
    bea_source = ReferralSourceFactory(owner=salesperson, name="Bea", lead=bea)
    LeadFactory(
        owner=salesperson, referred_by=bea_source, stage="won", expected_value=Decimal(3000)
    )

    response = client_of(salesperson).get(reverse("referral-list"))

    rows = {row.source.name: row for row in response.context["source_rows"]}
    assert rows["Ana"].won_value_of_tree == Decimal(15000)
    assert rows["Ana"].referrals_given == 1
    assert rows["Bea"].won_value_of_tree == Decimal(3000)
    assert "€15,000" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["who-to-ask", "sources-table"])
def test_an_htmx_request_for_a_region_gets_only_that_partial(client_of, salesperson, region):
    ReferralSourceFactory(owner=salesperson, name="Ana Ortiz")

    response = client_of(salesperson).get(reverse("referral-list"), **htmx(region))

    assert response.status_code == 200
    assert not is_full_page(response)
    assert (
        response.content.decode()
        .lstrip()
        .startswith(f'<{"section" if region == "who-to-ask" else "div"} id="{region}"')
    )
    assert "Ana Ortiz" in response.content.decode()


@pytest.mark.django_db
def test_an_htmx_request_without_a_known_target_gets_the_page(client_of, salesperson):
    response = client_of(salesperson).get(reverse("referral-list"), **htmx("somewhere-else"))

    assert is_full_page(response)


@pytest.mark.django_db
def test_empty_states_say_what_to_do_next(client_of, salesperson):
    response = client_of(salesperson).get(reverse("referral-list"))

    page = response.content.decode()
    assert "Mark a lead Won and they become a referral source" in page
    assert "Add a partner or friend who sends you business" in page


@pytest.mark.django_db
def test_a_salesperson_sees_only_their_own_sources(client_of, salesperson, other_salesperson):
    ReferralSourceFactory(owner=salesperson, name="Mine")
    ReferralSourceFactory(owner=other_salesperson, name="Theirs")

    response = client_of(salesperson).get(reverse("referral-list"))

    assert [row.source.name for row in response.context["source_rows"]] == ["Mine"]
    assert "Theirs" not in response.content.decode()


@pytest.mark.django_db
def test_a_manager_sees_the_team_with_owners(client_of, manager, salesperson, other_salesperson):
    ReferralSourceFactory(owner=salesperson, name="Sam's source")
    ReferralSourceFactory(owner=other_salesperson, name="Alex's source")

    response = client_of(manager).get(reverse("referral-list"))

    names = {row.source.name for row in response.context["source_rows"]}
    assert names == {"Sam's source", "Alex's source"}
    assert '<th scope="col">Owner</th>' in response.content.decode()
    # "Who to ask" is the manager's own list, not the team's.
    assert response.context["asks_due"] == []
    assert "No referral sources of your own" in response.content.decode()


@pytest.mark.django_db
def test_sources_are_paginated_fifty_to_a_page(client_of, salesperson):
    ReferralSourceFactory.create_batch(51, owner=salesperson)
    client = client_of(salesperson)

    first = client.get(reverse("referral-list"))
    second = client.get(reverse("referral-list"), {"page": 2}, **htmx("sources-table"))

    assert len(first.context["source_rows"]) == 50
    assert "Page 1 of 2" in first.content.decode()
    # The region is a partial: no template of its own is rendered, so read its HTML.
    assert second.content.decode().count('<td class="source-cell">') == 1
    assert not is_full_page(second)


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["salesperson", "manager"])
def test_the_referrals_page_needs_the_same_queries_for_3_or_30_sources(
    client_of, salesperson, manager, django_assert_num_queries, viewer
):
    """Stats of every source's tree come from two queries, not from one query per source."""
    user = {"salesperson": salesperson, "manager": manager}[viewer]
    client = client_of(user)

    def add_sources(count: int) -> None:
        for _ in range(count):
            owner = user if viewer == "salesperson" else UserFactory()
            source = ReferralSourceFactory(owner=owner, next_ask_at=timezone.now())
            LeadFactory(owner=owner, referred_by=source, stage="won", expected_value=100)

    add_sources(3)
    with_3 = _query_count(client, reverse("referral-list"))
    add_sources(27)
    assert ReferralSource.objects.count() == 30

    with django_assert_num_queries(with_3):
        response = client.get(reverse("referral-list"))
    assert len(response.context["source_rows"]) == 30


# --- Adding a source -------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_source_with_htmx_returns_a_fresh_form_and_announces_it(client_of, salesperson):
    response = client_of(salesperson).post(
        reverse("referral-create"),
        {
            "name": "Priya Natarajan",
            "email": "Priya@Example.com",
            "kind": "partner",
            "strength": "4",
            "ask_cadence_days": "60",
            "notes": "Runs an agency",
        },
        **HTMX,
    )

    assert response.status_code == 200
    assert not is_full_page(response)
    assert response.content.decode().lstrip().startswith('<form id="source-create-form"')
    assert response["HX-Trigger"] == '{"referralSourceAdded": {}}'
    source = ReferralSource.objects.get(name="Priya Natarajan")
    assert (source.owner, source.email, source.strength, source.ask_cadence_days) == (
        salesperson,
        "priya@example.com",
        4,
        60,
    )
    assert "Added" in response.content.decode()


@pytest.mark.django_db
def test_adding_a_source_without_javascript_redirects_with_a_message(client_of, salesperson):
    response = client_of(salesperson).post(
        reverse("referral-create"),
        {"name": "Ola", "kind": "friend", "strength": "3", "ask_cadence_days": "90"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("referral-list"), 302)]
    assert "Added Ola as a referral source." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("with_htmx", [True, False])
def test_form_errors_are_shown_next_to_their_fields(client_of, salesperson, with_htmx):
    response = client_of(salesperson).post(
        reverse("referral-create"),
        {"name": "", "kind": "partner", "strength": "9", "ask_cadence_days": "3"},
        **(HTMX if with_htmx else {}),
    )

    assert response.status_code == 422
    assert is_full_page(response) is not with_htmx
    page = response.content.decode()
    assert '<p class="field-error" id="id_strength_error">Select a valid choice.' in page
    assert '<p class="field-error" id="id_name_error">This field is required.' in page
    assert 'id="id_ask_cadence_days_error">Ensure this value is greater than or equal to 7' in page
    assert not ReferralSource.objects.exists()


@pytest.mark.django_db
def test_adding_a_source_needs_post(client_of, salesperson):
    assert client_of(salesperson).get(reverse("referral-create")).status_code == 405


# --- Asking ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_asked_with_htmx_swaps_the_row_to_asked_today_with_outcomes(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz")

    response = client_of(salesperson).post(
        reverse("referral-ask", args=[source.pk]),
        {"channel": "email", "return_to": "list"},
        **HTMX,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert not is_full_page(response)
    assert page.lstrip().startswith(f'<li id="who-to-ask-row-{source.pk}"')
    assert "Asked today" in page
    ask = ReferralAsk.objects.get(source=source)
    assert (ask.asked_by, ask.channel, ask.outcome) == (salesperson, "email", "pending")
    assert reverse("referral-ask-outcome", args=[ask.pk]) in page
    assert response["HX-Trigger"] == '{"referralAsked": {}}'


@pytest.mark.django_db
def test_asked_without_javascript_redirects_back_with_a_message(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz")

    response = client_of(salesperson).post(
        reverse("referral-ask", args=[source.pk]), {"channel": "call"}, follow=True
    )

    assert response.redirect_chain == [(reverse("referral-list"), 302)]
    assert "Logged your referral ask to Ana Ortiz." in response.content.decode()
    assert ReferralAsk.objects.get(source=source).channel == "call"


@pytest.mark.django_db
def test_asking_from_the_detail_page_swaps_the_asks_history(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson)

    response = client_of(salesperson).post(
        reverse("referral-ask", args=[source.pk]),
        {"channel": "meeting", "return_to": "detail"},
        **HTMX,
    )

    assert response.content.decode().lstrip().startswith('<section id="asks-history"')
    assert "Meeting" in response.content.decode()
    assert "Waiting for an answer" in response.content.decode()


@pytest.mark.django_db
def test_asking_someone_who_opted_out_says_so_in_the_row(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Quiet Quinn", opted_out=True)

    response = client_of(salesperson).post(
        reverse("referral-ask", args=[source.pk]), {"channel": "email"}, **HTMX
    )

    assert response.status_code == 422  # htmx-config swaps 422: the row shows why
    assert response.content.decode().lstrip().startswith(f'<li id="who-to-ask-row-{source.pk}"')
    assert "Quiet Quinn opted out of referral asks." in response.content.decode()
    assert "HX-Trigger" not in response
    assert not ReferralAsk.objects.exists()


@pytest.mark.django_db
def test_recording_that_they_gave_two_referrals(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz")
    ask = ReferralAsk.objects.create(source=source, asked_by=salesperson, asked_at=timezone.now())

    response = client_of(salesperson).post(
        reverse("referral-ask-outcome", args=[ask.pk]),
        {"outcome": "gave", "referrals_given": "2", "return_to": "list"},
        **HTMX,
    )

    ask.refresh_from_db()
    assert (ask.outcome, ask.referrals_given) == ("gave", 2)
    page = response.content.decode()
    assert page.lstrip().startswith(f'<li id="who-to-ask-row-{source.pk}"')
    assert "Gave 2 referrals" in page


@pytest.mark.django_db
def test_gave_without_a_number_is_an_error_in_the_row(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson)
    ask = ReferralAsk.objects.create(source=source, asked_by=salesperson, asked_at=timezone.now())

    response = client_of(salesperson).post(
        reverse("referral-ask-outcome", args=[ask.pk]),
        {"outcome": "gave", "referrals_given": "0"},
        **HTMX,
    )

    assert response.status_code == 422
    assert "How many referrals did they give? At least 1." in response.content.decode()
    ask.refresh_from_db()
    assert ask.outcome == "pending"


@pytest.mark.django_db
def test_declined_from_the_detail_page_without_javascript(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson)
    ask = ReferralAsk.objects.create(source=source, asked_by=salesperson, asked_at=timezone.now())

    response = client_of(salesperson).post(
        reverse("referral-ask-outcome", args=[ask.pk]),
        {"outcome": "declined", "return_to": "detail"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[source.pk])
    ask.refresh_from_db()
    assert ask.outcome == "declined"


# --- Someone else's source -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url_name", "data"),
    [
        ("get", "referral-detail", {}),
        ("post", "referral-update", {"strength": "5", "ask_cadence_days": "90"}),
        ("post", "referral-ask", {"channel": "email"}),
    ],
)
def test_another_salespersons_source_is_not_found(
    client_of, salesperson, other_salesperson, method, url_name, data
):
    theirs = ReferralSourceFactory(owner=other_salesperson)

    response = getattr(client_of(salesperson), method)(reverse(url_name, args=[theirs.pk]), data)

    assert response.status_code == 404
    assert not ReferralAsk.objects.exists()


@pytest.mark.django_db
def test_another_salespersons_ask_is_not_found(client_of, salesperson, other_salesperson):
    theirs = ReferralSourceFactory(owner=other_salesperson)
    ask = ReferralAsk.objects.create(source=theirs, asked_at=timezone.now())

    response = client_of(salesperson).post(
        reverse("referral-ask-outcome", args=[ask.pk]), {"outcome": "declined"}
    )

    assert response.status_code == 404
    ask.refresh_from_db()
    assert ask.outcome == "pending"


@pytest.mark.django_db
def test_a_manager_opens_a_team_members_source(client_of, manager, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Sam's customer")

    response = client_of(manager).get(reverse("referral-detail", args=[source.pk]))

    assert response.status_code == 200
    assert "Owner: " in response.content.decode()


# --- Source detail ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_page_shows_the_tree_the_asks_and_the_form(client_of, salesperson):
    ana = ReferralSourceFactory(owner=salesperson, name="Ana")
    bea = LeadFactory(
        owner=salesperson,
        first_name="Bea",
        last_name="Blum",
        referred_by=ana,
        stage="won",
        expected_value=Decimal(1000),
    )
    bea_source = ReferralSourceFactory(owner=salesperson, name="Bea Blum", lead=bea)
    cy = LeadFactory(
        owner=salesperson,
        first_name="Cy",
        last_name="Cole",
        referred_by=bea_source,
        stage="qualified",
        expected_value=Decimal(500),
    )
    ReferralAsk.objects.create(
        source=ana, asked_by=salesperson, asked_at=timezone.now(), outcome="gave", referrals_given=1
    )

    response = client_of(salesperson).get(reverse("referral-detail", args=[ana.pk]))

    assert response.status_code == 200
    assert response.context["title"] == "Ana"
    page = response.content.decode()
    assert f'href="/leads/{bea.pk}/"' in page
    assert f'href="/leads/{cy.pk}/"' in page
    assert page.index("Bea Blum") < page.index("Cy Cole")
    assert page.count('<ul class="tree">') == 2  # Cy hangs under Bea
    assert 'class="tree-node tree-node-won"' in page
    totals = response.context["tree_totals"]
    assert (totals.leads, totals.won, totals.won_value) == (2, 1, Decimal(1000))
    assert "Gave 1 referral" in page
    assert 'name="ask_cadence_days"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["source-summary", "asks-history"])
def test_detail_regions_come_back_as_partials(client_of, salesperson, region):
    source = ReferralSourceFactory(owner=salesperson)

    response = client_of(salesperson).get(
        reverse("referral-detail", args=[source.pk]), **htmx(region)
    )

    assert not is_full_page(response)
    assert f'id="{region}"' in response.content.decode().split(">", 1)[0]


@pytest.mark.django_db
def test_updating_a_source_with_htmx(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, strength=2)

    response = client_of(salesperson).post(
        reverse("referral-update", args=[source.pk]),
        {"strength": "5", "ask_cadence_days": "30", "opted_out": "on", "notes": "Golf on Fridays"},
        **HTMX,
    )

    assert not is_full_page(response)
    assert response.content.decode().lstrip().startswith('<form id="source-form"')
    assert "Saved." in response.content.decode()
    assert response["HX-Trigger"] == '{"referralSourceUpdated": {}}'
    source.refresh_from_db()
    assert (source.strength, source.ask_cadence_days, source.opted_out, source.notes) == (
        5,
        30,
        True,
        "Golf on Fridays",
    )


@pytest.mark.django_db
def test_updating_a_source_without_javascript(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Ana")

    response = client_of(salesperson).post(
        reverse("referral-update", args=[source.pk]),
        {"strength": "4", "ask_cadence_days": "120"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("referral-detail", args=[source.pk]), 302)]
    assert "Saved Ana." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("with_htmx", [True, False])
def test_an_invalid_update_shows_errors_and_changes_nothing(client_of, salesperson, with_htmx):
    source = ReferralSourceFactory(owner=salesperson, strength=2)

    response = client_of(salesperson).post(
        reverse("referral-update", args=[source.pk]),
        {"strength": "9", "ask_cadence_days": "90"},
        **(HTMX if with_htmx else {}),
    )

    assert response.status_code == 422
    assert is_full_page(response) is not with_htmx
    assert 'id="id_strength_error">Select a valid choice.' in response.content.decode()
    source.refresh_from_db()
    assert source.strength == 2


@pytest.mark.django_db
def test_a_sources_page_needs_the_same_queries_for_2_or_20_asks_and_referred_leads(
    client_of, salesperson, django_assert_num_queries
):
    source = ReferralSourceFactory(owner=salesperson, next_ask_at=timezone.now())
    client = client_of(salesperson)
    url = reverse("referral-detail", args=[source.pk])

    referred = []

    def add(count: int) -> None:
        for index in range(count):
            ReferralAsk.objects.create(
                source=source, asked_by=salesperson, asked_at=timezone.now() - timedelta(days=index)
            )
            referred.append(
                LeadFactory(owner=salesperson, referred_by=source, stage="won", expected_value=100)
            )

    add(2)
    with_2 = _query_count(client, url)
    add(18)

    with django_assert_num_queries(with_2):
        response = client.get(url)
    page = response.content.decode()
    assert all(reverse("lead-detail", args=[lead.pk]) in page for lead in referred)


# --- The "who to ask" card on Today ----------------------------------------------------------


@pytest.mark.django_db
def test_todays_card_lists_the_best_five_due_with_a_channel_to_pick(client_of, salesperson):
    for strength in (1, 2, 3, 4, 5, 5):
        ReferralSourceFactory(owner=salesperson, name=f"Source {strength}", strength=strength)
    ReferralSourceFactory(
        owner=salesperson, name="Not Yet", next_ask_at=timezone.now() + timedelta(days=40)
    )

    response = client_of(salesperson).get(reverse("referral-today"), **HTMX)

    page = response.content.decode()
    assert page.lstrip().startswith('<section id="today-asks"')
    assert page.count('class="today-ask"') == 5
    assert "Source 1" not in page  # the weakest of six is left for the Referrals page
    assert "Not Yet" not in page
    assert "More to ask this week on Referrals" in page
    assert '<option value="in_person">In person</option>' in page


@pytest.mark.django_db
def test_todays_card_says_when_nobody_is_due(client_of, salesperson, other_salesperson):
    ReferralSourceFactory(owner=other_salesperson, name="Their Source")

    page = client_of(salesperson).get(reverse("referral-today"), **HTMX).content.decode()

    assert "Nobody is due a referral ask this week." in page
    assert "Their Source" not in page


@pytest.mark.django_db
def test_todays_card_without_htmx_is_the_referrals_page(client_of, salesperson):
    response = client_of(salesperson).get(reverse("referral-today"))

    assert response.status_code == 302
    assert response["Location"] == reverse("referral-list") + "#who-to-ask"


@pytest.mark.django_db
def test_asking_from_today_records_the_channel_and_moves_the_touch_bar(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz")

    response = client_of(salesperson).post(
        reverse("referral-today-ask", args=[source.pk]), {"channel": "linkedin"}, **HTMX
    )

    page = response.content.decode()
    assert page.lstrip().startswith(f'<li id="today-ask-{source.pk}"')
    assert "Asked (LinkedIn)" in page
    assert (ReferralAsk.objects.get(source=source).channel, ReferralAsk.objects.count()) == (
        "linkedin",
        1,
    )
    assert json.loads(response["HX-Trigger"]) == {"referralAsked": {}, "todayChanged": {}}


@pytest.mark.django_db
def test_asking_from_today_without_javascript_returns_to_today(client_of, salesperson):
    source = ReferralSourceFactory(owner=salesperson, name="Ana Ortiz")

    response = client_of(salesperson).post(
        reverse("referral-today-ask", args=[source.pk]), {"channel": "call"}, follow=True
    )

    assert response.redirect_chain == [(reverse("today"), 302)]
    assert "Logged your referral ask to Ana Ortiz." in response.content.decode()
    assert ReferralAsk.objects.get(source=source).channel == "call"


@pytest.mark.django_db
def test_asking_from_today_shows_errors_in_the_row(client_of, salesperson, other_salesperson):
    quiet = ReferralSourceFactory(owner=salesperson, name="Quiet Quinn", opted_out=True)
    theirs = ReferralSourceFactory(owner=other_salesperson)
    client = client_of(salesperson)

    opted_out = client.post(
        reverse("referral-today-ask", args=[quiet.pk]), {"channel": "call"}, **HTMX
    )
    no_channel = client.post(
        reverse("referral-today-ask", args=[quiet.pk]), {"channel": "fax"}, **HTMX
    )
    not_mine = client.post(
        reverse("referral-today-ask", args=[theirs.pk]), {"channel": "call"}, **HTMX
    )

    assert "Quiet Quinn opted out of referral asks." in opted_out.content.decode()
    assert "HX-Trigger" not in opted_out
    assert "Select a valid choice" in no_channel.content.decode()
    assert not_mine.status_code == 404
    assert not ReferralAsk.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "label"), [("customer", "Their customer record"), ("friend", "Their lead page")]
)
def test_a_source_page_links_to_its_lead_by_what_the_lead_is(client_of, salesperson, kind, label):
    """A lead made a referrer (a friend, say) is not a customer: the link said it was."""
    lead = LeadFactory(owner=salesperson)
    source = ReferralSourceFactory(owner=salesperson, kind=kind, lead=lead)

    page = client_of(salesperson).get(reverse("referral-detail", args=[source.pk])).content.decode()

    assert f'<a href="{reverse("lead-detail", args=[lead.pk])}">{label}</a>' in page
