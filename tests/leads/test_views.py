from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import selectors
from leads.models import Activity, FollowUp, Lead
from tests.factories import ActivityFactory, FollowUpFactory, LeadFactory, UserFactory

HTMX = {"HX-Request": "true"}


def html(response) -> str:
    return response.content.decode()


class ElementIds(HTMLParser):
    """How many times each element id appears in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag, attrs) -> None:
        if element_id := dict(attrs).get("id"):
            self.ids[element_id] += 1


# --- Today ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_today_ranks_due_work_by_score_and_shows_progress(sam_client, salesperson):
    low = LeadFactory(owner=salesperson, first_name="Low", last_name="Score", total_score=20)
    high = LeadFactory(owner=salesperson, first_name="High", last_name="Score", total_score=90)
    FollowUpFactory(lead=low, due_at=timezone.now() - timedelta(hours=1))
    FollowUpFactory(lead=high, due_at=timezone.now() - timedelta(hours=1))
    ActivityFactory(lead=low, user=salesperson, kind="call")

    page = html(sam_client.get(reverse("today")))

    assert page.index("High Score") < page.index("Low Score")
    assert "1 of 20" in page
    assert "<title>Today · LeadHunter</title>" in page


@pytest.mark.django_db
def test_today_never_shows_another_salespersons_work(sam_client, other_salesperson):
    FollowUpFactory(
        lead=LeadFactory(owner=other_salesperson, first_name="Secret"), due_at=timezone.now()
    )

    page = html(sam_client.get(reverse("today")))

    assert "Secret" not in page
    assert "No leads yet" in page  # Sam has none of their own


@pytest.mark.django_db
def test_today_htmx_request_gets_the_queue_partial(sam_client):
    response = sam_client.get(reverse("today"), headers=HTMX)

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<section id="today-queue"')


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [3, 300])
def test_today_query_count_is_constant(sam_client, salesperson, django_assert_num_queries, rows):
    now = timezone.now()
    due = now - timedelta(hours=1)
    leads = Lead.objects.bulk_create(
        Lead(
            owner=salesperson,
            first_name=f"Lead {n}",
            stage_changed_at=now,
            total_score=n % 90,
            next_follow_up_at=due,
        )
        for n in range(rows)
    )
    FollowUp.objects.bulk_create(
        FollowUp(lead=lead, kind="follow_up", due_at=due) for lead in leads
    )

    # Session, user, the ranking with how many are due, the ranked leads with their joins,
    # the best uncontacted, the touches.
    with django_assert_num_queries(6):
        response = sam_client.get(reverse("today"))

    assert html(response).count("data-queue-row") == min(rows, 40)


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [3, 60])
def test_today_shows_how_long_hand_raisers_waited_in_the_same_queries(
    sam_client, salesperson, django_assert_num_queries, clock, rows
):
    now = clock(timezone.now().replace(microsecond=0))
    raised = now - timedelta(minutes=12)
    leads = Lead.objects.bulk_create(
        Lead(
            owner=salesperson,
            first_name=f"Raiser {n}",
            stage="engaged",
            stage_changed_at=raised,
            total_score=n % 90,
            last_inbound_at=raised - timedelta(days=n % 3),
        )
        for n in range(rows)
    )
    Activity.objects.bulk_create(
        Activity(lead=lead, kind="replied", direction="inbound", occurred_at=lead.last_inbound_at)
        for lead in leads
    )

    # Session, user, the ranking with how many are due, the ranked leads with their joins and
    # waits, the best uncontacted, the touches: as many as without hand-raisers.
    with django_assert_num_queries(6):
        page = html(sam_client.get(reverse("today")))

    assert page.count('class="queue-waiting"') == min(rows, 40)
    assert "waiting 12 min" in page
    assert "waiting 1 day" in page
    assert "waiting 2 days" in page


@pytest.mark.django_db
def test_today_shows_how_many_more_are_due_and_all_of_them_on_request(sam_client, salesperson):
    for lead in LeadFactory.create_batch(45, owner=salesperson):
        FollowUpFactory(lead=lead, due_at=timezone.now() - timedelta(hours=1))

    page = html(sam_client.get(reverse("today")))
    everything = html(sam_client.get(reverse("today"), {"all": "1"}))

    assert page.count("data-queue-row") == 40
    assert "5 more due" in page
    assert 'href="/?all=1"' in page
    assert everything.count("data-queue-row") == 45
    assert "All 45 due, best first." in everything
    assert "more due" not in everything


@pytest.mark.django_db
def test_today_asks_who_referred_a_referral_lead_without_a_referrer(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Una", last_name="Named", source="referral")

    page = html(sam_client.get(reverse("today")))

    assert "Una Named" in page
    assert f'href="/leads/{lead.pk}/#who-referred"' in page
    assert "Who referred this?" in page


@pytest.mark.django_db
def test_today_loads_the_who_to_ask_card_from_the_referrals_app(sam_client):
    page = html(sam_client.get(reverse("today")))

    assert 'id="today-asks"' in page
    assert f'hx-get="{reverse("referral-today")}"' in page
    # Without JavaScript the card is a link to the Referrals page.
    assert f'href="{reverse("referral-list")}#who-to-ask"' in page


@pytest.mark.django_db
def test_completing_from_today_swaps_the_row_and_announces_the_change(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    follow_up = FollowUpFactory(lead=lead, due_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-complete", args=[follow_up.pk]),
        {"row_id": "queue-follow_up-1"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert 'id="queue-follow_up-1"' in html(response)
    assert "Done. Next:" in html(response)
    assert "todayChanged" in response["HX-Trigger"]
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


@pytest.mark.django_db
def test_completing_without_javascript_redirects_back_with_a_message(sam_client, salesperson):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())

    response = sam_client.post(reverse("follow-up-complete", args=[follow_up.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("today")
    assert "Done. Next:" in html(response)


@pytest.mark.django_db
def test_logging_a_touch_from_today(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.post(
        reverse("today-log", args=[lead.pk]),
        {"kind": "call", "outcome": "no_answer", "row_id": "r"},
        headers=HTMX,
    )

    assert "Call logged" in html(response)
    assert Activity.objects.get(lead=lead).outcome == "no_answer"


@pytest.mark.django_db
def test_today_rows_load_their_log_form_when_it_is_opened(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Lena", last_name="Later")
    step = FollowUpFactory(lead=lead, due_at=timezone.now() - timedelta(hours=1))
    row_id = f"queue-follow_up-{step.pk}"

    page = html(sam_client.get(reverse("today")))
    # The page carries a slot that loads the form, not 40 forms.
    assert 'class="log-form-slot panel-slot muted"' in page
    assert 'class="log-form"' not in page
    assert f"{reverse('today-log-form', args=[lead.pk])}?row_id={row_id}" in page

    response = sam_client.get(
        reverse("today-log-form", args=[lead.pk]), {"row_id": row_id}, headers=HTMX
    )
    form = html(response)
    assert response.status_code == 200
    assert form.lstrip().startswith("<form")
    assert 'class="log-form"' in form
    assert f'hx-target="#{row_id}"' in form
    assert f'name="row_id" value="{row_id}"' in form
    assert "Your cadence plans:" in form  # the next step is filled in, not loaded again


@pytest.mark.django_db
def test_today_rows_load_their_done_and_snooze_panels_when_opened(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, first_name="Pia", last_name="Panel")
    step = FollowUpFactory(lead=lead, kind="follow_up", due_at=timezone.now() - timedelta(hours=1))
    row_id = f"queue-follow_up-{step.pk}"
    done_url = reverse("today-follow-up-done-form", args=[step.pk])
    snooze_url = reverse("today-follow-up-snooze-form", args=[step.pk])

    page = html(sam_client.get(reverse("today")))
    # The row carries two slots that load the panels, not their three forms.
    assert f'hx-get="{done_url}?row_id={row_id}"' in page
    assert f'hx-get="{snooze_url}?row_id={row_id}"' in page
    assert "choice-panel" not in page
    assert reverse("follow-up-snooze", args=[step.pk]) not in page
    # Without JavaScript each slot is a link to the lead page, where the follow-up card is.
    assert f'<a href="/leads/{lead.pk}/#lead-follow-up">Mark it done on the lead page</a>' in page

    done = sam_client.get(done_url, {"row_id": row_id}, headers=HTMX)
    snooze = sam_client.get(snooze_url, {"row_id": row_id}, headers=HTMX)

    assert done.status_code == snooze.status_code == 200
    done_panel, snooze_panel = html(done).strip(), html(snooze).strip()
    assert done_panel.startswith(f'<form id="{row_id}-done"')
    assert f'action="{reverse("follow-up-complete", args=[step.pk])}"' in done_panel
    assert f'hx-target="#{row_id}"' in done_panel
    assert f'name="row_id" value="{row_id}"' in done_panel
    assert 'data-choice-key="c"' in done_panel
    assert "csrfmiddlewaretoken" in done_panel  # a real form, as on the page before
    assert snooze_panel.startswith(f'<div id="{row_id}-snooze" class="choice-panel"')
    assert snooze_panel.count(f'action="{reverse("follow-up-snooze", args=[step.pk])}"') == 2
    assert 'data-choice-key="w"' in snooze_panel
    assert f'id="until-{row_id}"' in snooze_panel


@pytest.mark.django_db
def test_a_hand_raisers_done_panel_logs_the_answering_touch(sam_client, salesperson):
    lead = LeadFactory(
        owner=salesperson, stage="engaged", last_inbound_at=timezone.now() - timedelta(hours=1)
    )
    row_id = f"queue-hand_raiser-{lead.pk}"
    url = reverse("today-done-form", args=[lead.pk])

    page = html(sam_client.get(reverse("today")))
    assert f'hx-get="{url}?row_id={row_id}"' in page
    panel = html(sam_client.get(url, {"row_id": row_id}, headers=HTMX)).strip()

    assert panel.startswith(f'<form id="{row_id}-done"')
    assert f'action="{reverse("today-done", args=[lead.pk])}"' in panel
    assert 'data-choice-key="n"' in panel


@pytest.mark.django_db
def test_a_today_panel_needs_its_row_and_the_salespersons_own_follow_up(
    sam_client, salesperson, other_salesperson
):
    own = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())
    theirs = FollowUpFactory(lead=LeadFactory(owner=other_salesperson), due_at=timezone.now())
    row = {"row_id": "queue-follow_up-1"}
    for name in ("today-follow-up-done-form", "today-follow-up-snooze-form"):
        url = reverse(name, args=[own.pk])
        assert sam_client.get(url, headers=HTMX).status_code == 400
        assert sam_client.get(url, {"row_id": '"><b>'}, headers=HTMX).status_code == 400
        other = reverse(name, args=[theirs.pk])
        assert sam_client.get(other, row, headers=HTMX).status_code == 404
        # Without htmx: the lead page's follow-up card does the same.
        response = sam_client.get(url, row)
        assert response.status_code == 302
        assert response["Location"] == f"/leads/{own.lead_id}/#lead-follow-up"
    their_lead = reverse("today-done-form", args=[theirs.lead_id])
    assert sam_client.get(their_lead, row, headers=HTMX).status_code == 404


@pytest.mark.django_db
def test_a_today_panel_of_a_follow_up_done_meanwhile_says_so(sam_client, salesperson):
    step = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())
    step.done_at = timezone.now()
    step.save()

    response = sam_client.get(
        reverse("today-follow-up-snooze-form", args=[step.pk]),
        {"row_id": f"queue-follow_up-{step.pk}"},
        headers=HTMX,
    )

    # Plain text: the slot shows it in words next to the Snooze button (static/js/app.js).
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    assert html(response) == "this follow-up is already done."


@pytest.mark.django_db
@pytest.mark.parametrize("other_follow_ups", [0, 12])
def test_today_panels_query_count_is_constant(
    sam_client, salesperson, django_assert_num_queries, other_follow_ups
):
    lead = LeadFactory(owner=salesperson)
    step = FollowUpFactory(lead=lead, due_at=timezone.now())
    for _ in range(other_follow_ups):
        FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())
    row = {"row_id": f"queue-follow_up-{step.pk}"}
    sam_client.get(reverse("today"))  # the session is warm, as when a panel opens

    # Session, user, whether the user is a manager (visibility), the follow-up or the lead; the
    # Log form also plans the next step from the lead's cadence.
    for url in (
        reverse("today-follow-up-done-form", args=[step.pk]),
        reverse("today-follow-up-snooze-form", args=[step.pk]),
        reverse("today-done-form", args=[lead.pk]),
        reverse("today-log-form", args=[lead.pk]),
    ):
        expected = 5 if "log-form" in url else 3
        with django_assert_num_queries(expected):
            assert sam_client.get(url, row, headers=HTMX).status_code == 200


@pytest.mark.django_db
def test_a_today_log_form_needs_its_row_and_the_salespersons_own_lead(
    sam_client, salesperson, other_salesperson
):
    own = LeadFactory(owner=salesperson)
    theirs = LeadFactory(owner=other_salesperson)
    url = reverse("today-log-form", args=[own.pk])

    assert sam_client.get(url, headers=HTMX).status_code == 400
    assert sam_client.get(url, {"row_id": '"><script>'}, headers=HTMX).status_code == 400
    other = reverse("today-log-form", args=[theirs.pk])
    assert sam_client.get(other, {"row_id": "queue-x-1"}, headers=HTMX).status_code == 404
    # Without htmx (a link followed by hand): the lead page, where the log form is.
    response = sam_client.get(url, {"row_id": "queue-x-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("lead-detail", args=[own.pk])


@pytest.mark.django_db
def test_snoozing_with_bad_days_is_refused(sam_client, salesperson):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]), {"days": "400"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "1 to 90 days" in html(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("follow-up-complete", {}),
        ("follow-up-snooze", {"days": 3}),
    ],
)
def test_another_salespersons_follow_up_answers_404(sam_client, other_salesperson, url_name, data):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=other_salesperson), due_at=timezone.now())

    assert sam_client.post(reverse(url_name, args=[follow_up.pk]), data).status_code == 404
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


# --- Lead list -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_lead_list_searches_filters_and_keeps_to_own_rows(
    sam_client, salesperson, other_salesperson
):
    LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", stage="qualified")
    LeadFactory(owner=salesperson, first_name="Eli", last_name="Jones", stage="new")
    LeadFactory(owner=other_salesperson, first_name="Dana", last_name="Other")

    page = html(sam_client.get(reverse("lead-list"), {"q": "dana", "stage": "qualified"}))

    assert "Dana Smith" in page
    assert "Eli Jones" not in page
    assert "Dana Other" not in page


@pytest.mark.django_db
def test_lead_list_htmx_gets_the_table_partial(sam_client, salesperson):
    LeadFactory(owner=salesperson, first_name="Dana")

    response = sam_client.get(reverse("lead-list"), {"q": "Dana"}, headers=HTMX)

    assert html(response).lstrip().startswith('<div id="lead-table"')


@pytest.mark.django_db
def test_managers_see_the_team_and_filter_by_owner(
    client_of, manager, salesperson, other_salesperson
):
    LeadFactory(owner=salesperson, first_name="Mine")
    LeadFactory(owner=other_salesperson, first_name="Theirs")
    client = client_of(manager)

    everyone = html(client.get(reverse("lead-list")))
    only_sam = html(client.get(reverse("lead-list"), {"owner": salesperson.pk}))

    assert "Mine" in everyone
    assert "Theirs" in everyone
    assert "Mine" in only_sam
    assert "Theirs" not in only_sam


@pytest.mark.django_db
def test_keyset_pagination_walks_every_lead_once(sam_client, salesperson):
    created = LeadFactory.create_batch(120, owner=salesperson)
    seen: list[int] = []
    url = reverse("lead-list") + "?sort=score"
    for _ in range(5):
        response = sam_client.get(url)
        page = response.context["page"]
        seen += [lead.pk for lead in page.leads]
        if not page.next_cursor:
            break
        url = reverse("lead-list") + f"?sort=score&after={page.next_cursor}"

    assert sorted(seen) == sorted(lead.pk for lead in created)


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["value", "follow_up", "name", "created"])
def test_every_sort_paginates_without_gaps(sam_client, salesperson, sort):
    leads = LeadFactory.create_batch(60, owner=salesperson)
    for index, lead in enumerate(leads):
        if index % 3:
            Lead.objects.filter(pk=lead.pk).update(
                expected_value=index * 100,
                next_follow_up_at=timezone.now() + timedelta(days=index % 7),
            )
    first = sam_client.get(reverse("lead-list"), {"sort": sort}).context["page"]
    second = sam_client.get(
        reverse("lead-list"), {"sort": sort, "after": first.next_cursor}
    ).context["page"]

    assert len(first.leads) == 50
    assert {lead.pk for lead in first.leads} | {lead.pk for lead in second.leads} == {
        lead.pk for lead in leads
    }


def cursor_of(value: object, last_id: int) -> str:
    """A cursor as the list's "next" link writes it (base64 of JSON), with any value."""
    return base64.urlsafe_b64encode(json.dumps([value, last_id]).encode()).decode().rstrip("=")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "after"),
    [
        ("score", "not-a-cursor!!"),
        # Well-formed cursors carrying a value the sort column cannot hold.
        ("score", cursor_of("abc", 5)),
        ("score", cursor_of([1], 5)),
        ("score", cursor_of(None, 5)),
        ("follow_up", cursor_of("not a date", 5)),
        ("value", cursor_of("lots", 5)),
    ],
)
def test_a_garbled_cursor_shows_the_first_page(sam_client, salesperson, sort, after):
    LeadFactory(owner=salesperson, first_name="Dana")

    response = sam_client.get(reverse("lead-list"), {"sort": sort, "after": after})

    assert response.status_code == 200
    assert "Dana" in html(response)


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [2, 40])
def test_lead_list_query_count_is_constant(
    sam_client, salesperson, django_assert_num_queries, rows
):
    LeadFactory.create_batch(rows, owner=salesperson)

    with django_assert_num_queries(3):
        sam_client.get(reverse("lead-list"))


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["score", "name", "created", "follow_up", "value"])
def test_the_managers_lead_list_loads_each_row_in_the_one_query_whatever_the_sort(
    client_of, manager, salesperson, django_assert_num_queries, sort
):
    """The list reads only the columns a row shows; one it forgot would cost a query per row."""
    LeadFactory.create_batch(3, owner=salesperson, next_follow_up_at=timezone.now())
    LeadFactory.create_batch(3, owner=manager)
    manager_client = client_of(manager)

    with django_assert_num_queries(4):  # + the owner filter's choices
        response = manager_client.get(reverse("lead-list"), {"sort": sort})

    assert html(response).count('name="lead_ids"') == 6
    assert str(salesperson) in html(response)


@pytest.mark.django_db
def test_quick_add_creates_a_lead_with_its_company(sam_client, salesperson):
    response = sam_client.post(
        reverse("lead-create"),
        {
            "first_name": "Dana",
            "last_name": "Smith",
            "email": "dana@acme.test",
            "company_name": "Acme",
            "source": "referral",
        },
        headers=HTMX,
    )

    lead = Lead.objects.get(owner=salesperson)
    assert (lead.full_name, lead.company.name, lead.source) == ("Dana Smith", "Acme", "referral")
    assert "leadsChanged" in response["HX-Trigger"]
    assert lead.follow_ups.filter(done_at__isnull=True).exists()


@pytest.mark.django_db
def test_quick_add_shows_errors_next_to_fields(sam_client):
    response = sam_client.post(
        reverse("lead-create"), {"email": "not-an-email", "source": "referral"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Enter a valid email address." in html(response)
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_bulk_stage_change_touches_only_visible_leads(sam_client, salesperson, other_salesperson):
    mine = LeadFactory.create_batch(2, owner=salesperson)
    theirs = LeadFactory(owner=other_salesperson)

    sam_client.post(
        reverse("lead-bulk"),
        {
            "action": "stage",
            "to_stage": "qualified",
            "lead_ids": [mine[0].pk, mine[1].pk, theirs.pk],
        },
    )

    assert set(Lead.objects.filter(stage="qualified")) == set(mine)
    theirs.refresh_from_db()
    assert theirs.stage == "new"


@pytest.mark.django_db
def test_bulk_follow_up_needs_a_date(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.post(
        reverse("lead-bulk"), {"action": "follow_up", "lead_ids": [lead.pk]}, follow=True
    )

    assert "Pick the follow-up" in html(response)
    assert not FollowUp.objects.exists()


# --- Lead detail ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_lead_detail_shows_score_explanation_and_timeline(sam_client, salesperson):
    lead = LeadFactory(
        owner=salesperson,
        first_name="Dana",
        total_score=72,
        score_explanation={
            "icp": "EU SaaS",
            "matched": ["Industry is Software"],
            "unknown": ["Country"],
        },
    )
    ActivityFactory(
        lead=lead, kind="asked_for_demo", direction="inbound", text="Wants a demo next week"
    )

    page = html(sam_client.get(reverse("lead-detail", args=[lead.pk])))

    assert "EU SaaS" in page
    assert "Industry is Software" in page
    assert "worth researching" in page
    assert "Wants a demo next week" in page


@pytest.mark.django_db
def test_the_lead_page_opens_on_the_latest_entries_and_shows_older_ones_on_request(
    sam_client, salesperson
):
    """Issue 20: a long history drew 100 entries on every opening of the lead page."""
    lead = LeadFactory(owner=salesperson)
    now = timezone.now()
    for number in range(40):
        ActivityFactory(
            lead=lead,
            kind="note",
            text=f"Entry {number:02}",
            occurred_at=now - timedelta(hours=number),
        )
    url = reverse("lead-detail", args=[lead.pk])

    opened = html(sam_client.get(url))
    older = sam_client.get(
        url, {"region": "lead-timeline", "timeline": "all"}, HTTP_HX_REQUEST="true"
    )

    shown = re.findall(r"Entry (\d\d)", opened)
    assert len(shown) == selectors.TIMELINE_FIRST
    assert shown == sorted(shown)  # newest first: entry 00 is the latest
    assert "Show older entries" in opened
    assert f'hx-get="/leads/{lead.pk}/?region=lead-timeline&amp;timeline=all"' in opened
    assert 'id="lead-timeline"' in html(older)[:200]  # the region alone
    assert len(re.findall(r"Entry (\d\d)", html(older))) == 40
    assert "Show older entries" not in html(older)
    # Refreshed after a change (leadChanged), the region keeps showing the older entries.
    assert "region=lead-timeline&amp;timeline=all" in html(older)[:300]


@pytest.mark.django_db
def test_a_short_history_has_no_older_entries_link(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    ActivityFactory.create_batch(3, lead=lead)

    assert "Show older entries" not in html(sam_client.get(reverse("lead-detail", args=[lead.pk])))


@pytest.mark.django_db
@pytest.mark.parametrize("activities", [1, 60])
def test_lead_detail_query_count_does_not_depend_on_activities(
    sam_client, salesperson, django_assert_num_queries, activities
):
    lead = LeadFactory(owner=salesperson)
    ActivityFactory.create_batch(activities, lead=lead)

    # 9: session, user with the manager flag, lead, its merges, timeline (2, and 1 for its email
    # threads), follow-up, and the follow-ups the log form's next step is planned from (the
    # change history is its own request: lead-history).
    with django_assert_num_queries(9):
        sam_client.get(reverse("lead-detail", args=[lead.pk]))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url_name", "args", "data"),
    [
        ("get", "lead-detail", [], {}),
        ("get", "lead-edit", ["contact"], {}),
        ("post", "lead-edit", ["contact"], {"first_name": "Hacked"}),
        ("post", "lead-stage", [], {"to_stage": "qualified"}),
        ("post", "lead-activity-create", [], {"kind": "call"}),
        ("post", "lead-follow-up", [], {"due_date": "2030-01-01", "kind": "custom"}),
        ("get", "lead-follow-up", [], {}),
        ("get", "lead-history", [], {}),
        ("post", "today-log", [], {"kind": "call"}),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_another_salespersons_lead_answers_404(
    sam_client, other_salesperson, method, url_name, args, data, headers
):
    lead = LeadFactory(owner=other_salesperson, first_name="Theirs")

    url = reverse(url_name, args=[lead.pk, *args])
    response = getattr(sam_client, method)(url, data, headers=headers)

    assert response.status_code == 404
    lead.refresh_from_db()
    assert (lead.first_name, lead.stage, lead.activities.count()) == ("Theirs", "new", 0)


@pytest.mark.django_db
def test_inline_edit_saves_through_the_service_and_ignores_owner(
    sam_client, salesperson, other_salesperson
):
    lead = LeadFactory(owner=salesperson, first_name="Dana")

    response = sam_client.post(
        reverse("lead-edit", args=[lead.pk, "contact"]),
        {
            "first_name": "Dana",
            "last_name": "Smith",
            "email": " DANA@Acme.test ",
            "owner": other_salesperson.pk,
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    assert html(response).lstrip().startswith('<section id="lead-contact"')
    # The header's name comes along, out of band (it showed the old one until a reload).
    heading = html(response).split('<div id="lead-heading" hx-swap-oob="true">', 1)[1]
    assert "<h1>Dana Smith " in heading
    lead.refresh_from_db()
    assert (lead.last_name, lead.email, lead.owner) == ("Smith", "dana@acme.test", salesperson)


@pytest.mark.django_db
def test_inline_edit_shows_the_fields_error(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.post(
        reverse("lead-edit", args=[lead.pk, "contact"]), {"email": "nope"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Enter a valid email address." in html(response)


@pytest.mark.django_db
def test_logging_an_activity_on_the_lead_page(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.post(
        reverse("lead-activity-create", args=[lead.pk]),
        {"kind": "meeting", "outcome": "connected", "text": "Intro"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "leadChanged" in response["HX-Trigger"]
    assert lead.activities.get().text == "Intro"


@pytest.mark.django_db
def test_an_activity_far_in_the_future_is_refused_on_the_form(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    future = (timezone.now() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")

    response = sam_client.post(
        reverse("lead-activity-create", args=[lead.pk]),
        {"kind": "call", "occurred_at": future},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "more than a day ahead" in html(response)
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_lost_without_a_reason_is_refused(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.post(
        reverse("lead-stage", args=[lead.pk]), {"to_stage": "lost"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Say why" in html(response)
    lead.refresh_from_db()
    assert lead.stage == "new"


@pytest.mark.django_db
def test_mutations_refuse_get(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    assert sam_client.get(reverse("lead-stage", args=[lead.pk])).status_code == 405
    assert sam_client.get(reverse("lead-activity-create", args=[lead.pk])).status_code == 405


# --- Pipeline ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pipeline_has_a_column_per_stage_with_totals(sam_client, salesperson):
    LeadFactory(owner=salesperson, stage="proposal", expected_value=5000, first_name="Big")
    LeadFactory(owner=salesperson, stage="proposal", expected_value=2500)

    response = sam_client.get(reverse("pipeline"))

    columns = {column.stage: column for column in response.context["columns"]}
    assert list(columns) == [
        "new",
        "contacted",
        "engaged",
        "qualified",
        "proposal",
        "won",
        "lost",
        "nurture",
    ]
    assert (columns["proposal"].count, columns["proposal"].value) == (2, 7500)
    # The cards come a column at a time, as the board opens; empty columns ask for nothing.
    board = html(response)
    assert 'hx-get="/pipeline/proposal/cards/"' in board
    assert 'hx-get="/pipeline/new/cards/"' not in board
    cards = html(sam_client.get(reverse("pipeline-cards", args=["proposal"]), headers=HTMX))
    assert "Big" in cards
    assert cards.count('class="board-card"') == 2


@pytest.mark.django_db
def test_a_column_pages_its_cards_best_first_and_says_when_there_are_more(sam_client, salesperson):
    leads = LeadFactory.create_batch(
        selectors.PIPELINE_CARDS_PER_PAGE + 3, owner=salesperson, stage="qualified"
    )
    for index, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(total_score=index % 5)
    url = reverse("pipeline-cards", args=["qualified"])

    first = html(sam_client.get(url, headers=HTMX))
    more = re.search(r'hx-get="(/pipeline/qualified/cards/\?after=[^"]+)"', first)
    assert more, "the first page offers the next"
    second = html(sam_client.get(more.group(1), headers=HTMX))

    shown = [int(pk) for pk in re.findall(r'data-lead="(\d+)"', first + second)]
    assert sorted(shown) == sorted(lead.pk for lead in leads)
    scores = dict(Lead.objects.values_list("pk", "total_score"))
    assert [scores[pk] for pk in shown] == sorted(scores.values(), reverse=True)
    assert "Show more" in first
    assert "Show more" not in second


@pytest.mark.django_db
def test_a_columns_cards_outside_htmx_go_back_to_the_board(sam_client):
    response = sam_client.get(reverse("pipeline-cards", args=["new"]))

    assert response.status_code == 302
    assert response.url == reverse("pipeline")
    assert sam_client.get(reverse("pipeline-cards", args=["nope"]), headers=HTMX).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [3, 40])
def test_pipeline_query_count_is_constant(sam_client, salesperson, django_assert_num_queries, rows):
    for index in range(rows):
        LeadFactory(owner=salesperson, stage=["new", "qualified", "won"][index % 3])

    with django_assert_num_queries(3):
        sam_client.get(reverse("pipeline"))
    with django_assert_num_queries(3):
        sam_client.get(reverse("pipeline-cards", args=["qualified"]), headers=HTMX)


@pytest.mark.django_db
def test_moving_a_card_changes_the_stage_through_the_service(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.post(
        reverse("lead-stage", args=[lead.pk]), {"to_stage": "proposal"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "leadChanged" in response["HX-Trigger"]
    assert f"{lead} moved to Proposal." in html(response)
    lead.refresh_from_db()
    assert lead.stage == "proposal"
    assert lead.stage_changes.filter(to_stage="proposal").exists()


@pytest.mark.django_db
def test_managers_pipeline_can_narrow_to_a_rep(client_of, manager, salesperson):
    LeadFactory(owner=salesperson, first_name="Samslead")
    LeadFactory(owner=UserFactory(), first_name="Otherslead")

    client = client_of(manager)
    board = html(client.get(reverse("pipeline"), {"owner": salesperson.pk}))
    url = reverse("pipeline-cards", args=["new"])
    cards = html(client.get(url, {"owner": salesperson.pk}, headers=HTMX))
    everyone = html(client.get(url, headers=HTMX))

    assert f'hx-get="/pipeline/new/cards/?owner={salesperson.pk}"' in board
    assert "Samslead" in cards
    assert "Otherslead" not in cards
    assert "Otherslead" in everyone


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["lead-timeline", "lead-follow-up", "lead-score"])
def test_lead_page_regions_reload_themselves(sam_client, salesperson, region):
    lead = LeadFactory(owner=salesperson)

    response = sam_client.get(
        reverse("lead-detail", args=[lead.pk]), {"region": region}, headers=HTMX
    )

    assert html(response).lstrip().startswith("<section")
    assert f'id="{region}"' in html(response).split(">", 1)[0]


# --- Keyboard triage and the next step (issue 13) -------------------------------------------


@pytest.mark.django_db
def test_done_with_an_outcome_logs_the_touch_and_announces_it(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    follow_up = FollowUpFactory(lead=lead, kind="first_touch", due_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-complete", args=[follow_up.pk]),
        {"row_id": "queue-follow_up-9", "outcome": "no_answer"},
        headers=HTMX,
    )

    assert response.status_code == 200
    page = html(response)
    assert page.lstrip().startswith('<li id="queue-follow_up-9" class="queue-row is-done"')
    assert "Call (no answer) logged. Next: Follow up on" in page
    assert "todayChanged" in response["HX-Trigger"]
    assert list(lead.activities.values_list("kind", "outcome")) == [("call", "no_answer")]


@pytest.mark.django_db
def test_done_with_an_unknown_outcome_shows_the_row_again_with_the_error(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    follow_up = FollowUpFactory(lead=lead, kind="follow_up", due_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-complete", args=[follow_up.pk]),
        {"row_id": f"queue-follow_up-{follow_up.pk}", "outcome": "teleported"},
        headers=HTMX,
    )

    assert response.status_code == 422
    page = html(response)
    # The queue-row partial, actions intact, the Done choice open with the error in it.
    assert page.lstrip().startswith(f'<li id="queue-follow_up-{follow_up.pk}" class="queue-row')
    assert "data-queue-row" in page
    assert '<details class="row-choice" open>' in page
    assert "Select a valid choice." in page
    follow_up.refresh_from_db()
    assert follow_up.done_at is None
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_a_custom_follow_up_is_done_in_one_key_and_logs_nothing(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    follow_up = FollowUpFactory(lead=lead, kind="custom", due_at=timezone.now())

    today_page = html(sam_client.get(reverse("today")))
    response = sam_client.post(
        reverse("follow-up-complete", args=[follow_up.pk]), {"row_id": "r"}, headers=HTMX
    )

    assert 'data-key="d" title="Done (d)">Done</button>' in today_page
    assert "Done. Next:" in html(response)
    assert not lead.activities.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("days", "expected_days"), [("1", 1), ("3", 3), ("7", 7)])
def test_snooze_presets(sam_client, salesperson, days, expected_days):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]), {"days": days}, headers=HTMX
    )

    assert "Snoozed to" in html(response)
    follow_up.refresh_from_db()
    assert follow_up.due_at.date() - timezone.now().date() >= timedelta(days=expected_days)
    assert follow_up.due_at.date() - timezone.now().date() <= timedelta(days=expected_days + 2)


@pytest.mark.django_db
def test_snooze_to_a_day_picked(sam_client, salesperson):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())
    day = timezone.localdate(timezone.now(), salesperson.zone) + timedelta(days=10)

    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]),
        {"until": day.isoformat()},
        headers=HTMX,
    )

    assert f"Snoozed to {day:%a} {day.day} {day:%b}" in html(response)
    follow_up.refresh_from_db()
    assert timezone.localtime(follow_up.due_at, salesperson.zone).date() == day


@pytest.mark.django_db
def test_snooze_to_a_past_day_shows_the_error_next_to_the_date(sam_client, salesperson):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())
    row_id = f"queue-follow_up-{follow_up.pk}"

    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]),
        {"until": "2020-01-01", "row_id": row_id},
        headers=HTMX,
    )

    assert response.status_code == 422
    page = html(response)
    assert f'aria-describedby="until-{row_id}-error"' in page
    assert f'<p class="field-error" id="until-{row_id}-error">Pick a day after today' in page


@pytest.mark.django_db
def test_snooze_without_javascript_goes_back_to_today(sam_client, salesperson):
    follow_up = FollowUpFactory(lead=LeadFactory(owner=salesperson), due_at=timezone.now())

    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]), {"days": "7"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("today")
    assert "Snoozed to" in html(response)
    follow_up.refresh_from_db()
    assert follow_up.snooze_count == 1


@pytest.mark.django_db
def test_rows_say_which_keys_they_take(sam_client, salesperson):
    with_follow_up = LeadFactory(owner=salesperson, total_score=90)
    FollowUpFactory(lead=with_follow_up, kind="follow_up", due_at=timezone.now())
    LeadFactory(
        owner=salesperson,
        stage="engaged",
        last_inbound_at=timezone.now() - timedelta(hours=1),
        total_score=10,
    )

    page = html(sam_client.get(reverse("today")))

    assert page.count('data-row-keys="d s l"') == 1
    assert page.count('data-row-keys="d l"') == 1
    assert "A hand-raiser or a lead going cold with nothing due" in page
    # Both rows ask how the touch went, in a Done panel each loads when it opens.
    assert page.count('data-key="d" title="Done (d), then say how it went"') == 2
    assert page.count("/done-form/?row_id=") == 2


@pytest.mark.django_db
def test_done_on_a_hand_raiser_logs_the_answering_touch(sam_client, salesperson):
    lead = LeadFactory(
        owner=salesperson, stage="engaged", last_inbound_at=timezone.now() - timedelta(hours=1)
    )

    response = sam_client.post(
        reverse("today-done", args=[lead.pk]),
        {"row_id": f"queue-hand_raiser-{lead.pk}", "outcome": "connected"},
        headers=HTMX,
    )

    assert "Call (connected) logged" in html(response)
    assert "todayChanged" in response["HX-Trigger"]
    assert list(lead.activities.values_list("kind", "outcome")) == [("call", "connected")]


@pytest.mark.django_db
def test_done_on_another_salespersons_lead_answers_404(sam_client, other_salesperson):
    lead = LeadFactory(owner=other_salesperson)

    response = sam_client.post(reverse("today-done", args=[lead.pk]), {"outcome": "connected"})

    assert response.status_code == 404
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_the_next_step_partial_follows_the_outcome(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")
    url = reverse("lead-next-step", args=[lead.pk])

    connected = html(
        sam_client.get(
            url, {"kind": "call", "outcome": "connected", "row_id": "queue-x-1"}, headers=HTMX
        )
    )
    inbound = html(sam_client.get(url, {"kind": "asked_for_demo"}, headers=HTMX))

    assert connected.lstrip().startswith('<fieldset id="next-step-queue-x-1"')
    assert "Your cadence plans: <strong>Follow up</strong>" in connected
    assert 'id="queue-x-1-next-due_date"' in connected
    assert inbound.lstrip().startswith('<fieldset id="next-step-lead"')
    assert "<strong>Respond to hand-raise</strong>" in inbound
    assert sam_client.get(url).status_code == 302


@pytest.mark.django_db
def test_logging_saves_the_next_step_as_changed(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")
    day = timezone.localdate(timezone.now(), salesperson.zone) + timedelta(days=12)

    response = sam_client.post(
        reverse("lead-activity-create", args=[lead.pk]),
        {
            "kind": "call",
            "outcome": "connected",
            "next-planned": "True",
            "next-due_date": day.isoformat(),
            "next-due_time": "09:00",
            "next-kind": "follow_up",
            "next-note": "Pricing",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    saved = FollowUp.objects.get(lead=lead, done_at__isnull=True)
    local = timezone.localtime(saved.due_at, salesperson.zone)
    assert (saved.kind, local.date(), local.hour, saved.note) == ("follow_up", day, 9, "Pricing")


@pytest.mark.django_db
def test_a_shown_plan_with_its_date_emptied_is_refused_next_to_the_date(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")

    response = sam_client.post(
        reverse("lead-activity-create", args=[lead.pk]),
        {"kind": "call", "next-planned": "True", "next-due_date": "", "next-kind": "follow_up"},
        headers=HTMX,
    )

    assert response.status_code == 422
    page = html(response)
    assert page.lstrip().startswith('<section id="lead-log"')
    assert '<p class="field-error" id="lead-next-due_date_error">Pick the next' in page
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_logging_from_today_saves_the_next_step_shown(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")
    day = timezone.localdate(timezone.now(), salesperson.zone) + timedelta(days=5)

    response = sam_client.post(
        reverse("today-log", args=[lead.pk]),
        {
            "row_id": "r",
            "kind": "email",
            "next-planned": "True",
            "next-due_date": day.isoformat(),
            "next-kind": "follow_up",
        },
        headers=HTMX,
    )

    assert f"Email logged. Next: Follow up on {day:%a} {day.day} {day:%b}" in html(response)


@pytest.mark.django_db
def test_a_refused_log_on_a_follow_up_row_shows_that_row_again(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson, stage="contacted")
    follow_up = FollowUpFactory(lead=lead, kind="follow_up", due_at=timezone.now())
    row_id = f"queue-follow_up-{follow_up.pk}"

    response = sam_client.post(
        reverse("today-log", args=[lead.pk]),
        {"row_id": row_id, "kind": "telepathy", "next-due_date": ""},
        headers=HTMX,
    )

    assert response.status_code == 422
    page = html(response)
    assert page.lstrip().startswith(f'<li id="{row_id}" class="queue-row')
    assert '<details class="log-touch" open>' in page
    assert "Select a valid choice. telepathy is not one of the available choices." in page
    # Its other actions are all there, loading their panels when opened.
    assert f'hx-get="/today/follow-ups/{follow_up.pk}/snooze-form/?row_id={row_id}"' in page
    assert f'hx-get="/today/follow-ups/{follow_up.pk}/done-form/?row_id={row_id}"' in page


@pytest.mark.django_db
def test_the_lead_pages_next_step_snoozes_a_day_a_week_or_to_a_day(sam_client, salesperson):
    lead = LeadFactory(owner=salesperson)
    follow_up = FollowUpFactory(lead=lead, due_at=timezone.now())
    detail = reverse("lead-detail", args=[lead.pk])

    page = html(sam_client.get(detail))
    response = sam_client.post(
        reverse("follow-up-snooze", args=[follow_up.pk]), {"days": "7", "next": detail}
    )

    for label in ("Tomorrow", "3 days", "1 week"):
        assert f'class="button button-small">{label}</button>' in page
    assert 'name="until" id="lead-snooze-until"' in page
    assert response.status_code == 302
    assert response["Location"] == detail
    follow_up.refresh_from_db()
    assert follow_up.snooze_count == 1


@pytest.mark.django_db
def test_an_empty_today_tells_a_new_account_how_to_start(sam_client, salesperson):
    """Seen in a new-user trial: a brand-new account read "reach out to one of your best
    uncontacted leads" with no lead at all."""
    page = html(sam_client.get(reverse("today")))

    assert "No leads yet" in page
    assert "import your LinkedIn connections" in page
    assert "Everyone new has been contacted" not in page

    LeadFactory(owner=salesperson, stage="won")
    page = html(sam_client.get(reverse("today")))
    assert "No leads yet" not in page
    assert "Nothing due right now" in page


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["lead-list", "today"])
def test_a_page_has_each_element_id_once(sam_client, salesperson, url_name):
    """Two fields with one id (the list's Source filter and quick add's Source) left a label
    pointing at the wrong field."""
    LeadFactory.create_batch(3, owner=salesperson)
    parser = ElementIds()
    parser.feed(html(sam_client.get(reverse(url_name))))

    assert parser.ids
    assert [element_id for element_id, count in parser.ids.items() if count > 1] == []
