from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from leads import services
from leads.models import Lead, LeadMerge
from leads.services import merging as merge_writes
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def survivor(salesperson):
    return services.lead_create(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        email="dana@acme.example",
        title="Head of Sales",
    )


@pytest.fixture
def duplicate(salesperson):
    return services.lead_create(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        email="dana.smith@gmail.example",
        title="VP Sales",
        phone="+44 20 7946 0000",
    )


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def merge_url(name: str, survivor, duplicate) -> str:
    return reverse(name, args=[survivor.pk, duplicate.pk])


# --- Picking the other lead ----------------------------------------------------------------


def test_the_lead_page_offers_to_merge(sam_client, survivor):
    page = html(sam_client.get(reverse("lead-detail", args=[survivor.pk])))

    assert f'href="{reverse("lead-merge-pick", args=[survivor.pk])}"' in page
    assert "Merge…" in page


def test_the_picker_suggests_likely_duplicates_of_the_same_owner(
    sam_client, salesperson, other_salesperson, survivor, duplicate
):
    unrelated = LeadFactory(owner=salesperson, first_name="Robin", last_name="Other")
    theirs = LeadFactory(owner=other_salesperson, first_name="Dana", last_name="Smith")

    response = sam_client.get(reverse("lead-merge-pick", args=[survivor.pk]))

    page = html(response)
    assert response.status_code == 200
    assert "Possible duplicates" in page
    assert merge_url("lead-merge-compare", survivor, duplicate) in page
    assert merge_url("lead-merge-compare", survivor, unrelated) not in page
    assert merge_url("lead-merge-compare", survivor, theirs) not in page
    assert merge_url("lead-merge-compare", survivor, survivor) not in page


def test_the_picker_searches_with_the_list_search_and_htmx_gets_the_results_only(
    sam_client, salesperson, other_salesperson, survivor
):
    robin = LeadFactory(owner=salesperson, first_name="Robin", last_name="Hale")
    LeadFactory(owner=other_salesperson, first_name="Robin", last_name="Secret")

    response = sam_client.get(
        reverse("lead-merge-pick", args=[survivor.pk]), {"q": "robin"}, headers=HTMX
    )

    page = html(response)
    assert page.lstrip().startswith('<section id="merge-candidates"')
    assert merge_url("lead-merge-compare", survivor, robin) in page
    assert "Secret" not in page
    assert "<html" not in page


# --- Comparing -----------------------------------------------------------------------------


def test_the_compare_page_shows_the_choices_and_what_moves(
    sam_client, salesperson, survivor, duplicate
):
    ActivityFactory.create_batch(3, lead=duplicate, kind="note")

    response = sam_client.get(merge_url("lead-merge-compare", survivor, duplicate))

    page = html(response)
    assert response.status_code == 200
    # Email and title differ: a radio each, the survivor's preselected.
    assert 'name="email" value="survivor" checked' in page
    assert 'name="email" value="duplicate">' in page
    assert 'name="title" value="survivor" checked' in page
    assert "+442079460000" in page
    assert "fills in" in page
    assert "<strong>3</strong> activities" in page
    assert f'action="{merge_url("lead-merge", survivor, duplicate)}"' in page
    assert merge_url("lead-merge-compare", duplicate, survivor) in page  # swap


def test_a_lead_cant_be_compared_with_itself(sam_client, survivor):
    response = sam_client.get(merge_url("lead-merge-compare", survivor, survivor))

    assert response.status_code == 302
    assert response.url == reverse("lead-merge-pick", args=[survivor.pk])
    assert "can't be merged with itself" in messages_of(response)[0]


def test_a_manager_cant_merge_leads_of_two_salespeople(
    client_of, manager, salesperson, other_salesperson
):
    ours, theirs = LeadFactory(owner=salesperson), LeadFactory(owner=other_salesperson)

    response = client_of(manager).post(merge_url("lead-merge", ours, theirs))

    assert response.status_code == 302
    assert "same salesperson" in messages_of(response)[0]
    assert Lead.objects.filter(pk=theirs.pk).exists()


# --- Merging -------------------------------------------------------------------------------


def test_merging_without_javascript_redirects_to_the_survivor_with_an_undo_button(
    sam_client, survivor, duplicate
):
    response = sam_client.post(
        merge_url("lead-merge", survivor, duplicate),
        {"email": "duplicate", "title": "survivor", "seniority": "survivor"},
    )

    assert response.status_code == 302
    assert response.url == reverse("lead-detail", args=[survivor.pk])
    assert not Lead.objects.filter(pk=duplicate.pk).exists()
    survivor.refresh_from_db()
    assert survivor.email == "dana.smith@gmail.example"
    assert survivor.title == "Head of Sales"
    merge = LeadMerge.objects.get()
    page = html(sam_client.get(response.url))
    undo = reverse("lead-merge-undo", args=[merge.pk])
    assert f"Merged Dana Smith (#{duplicate.pk}) into Dana Smith (#{survivor.pk})." in page
    assert page.count(f'action="{undo}"') == 2  # in the message and in the merges card
    assert "Undo merge</button>" in page


def test_merging_with_htmx_redirects_the_whole_page(sam_client, survivor, duplicate):
    response = sam_client.post(
        merge_url("lead-merge", survivor, duplicate),
        {"email": "survivor", "title": "survivor", "seniority": "survivor"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("lead-detail", args=[survivor.pk])
    assert not Lead.objects.filter(pk=duplicate.pk).exists()


def test_a_bad_choice_shows_the_compare_page_again_with_the_error(sam_client, survivor, duplicate):
    response = sam_client.post(
        merge_url("lead-merge", survivor, duplicate), {"email": "mine", "title": "survivor"}
    )

    page = html(response)
    assert response.status_code == 422
    assert "Select a valid choice" in page
    assert 'name="title" value="survivor" checked' in page
    assert Lead.objects.filter(pk=duplicate.pk).exists()


def test_a_bad_choice_with_htmx_gets_the_form_region(sam_client, survivor, duplicate):
    response = sam_client.post(merge_url("lead-merge", survivor, duplicate), {}, headers=HTMX)

    page = html(response)
    assert response.status_code == 422
    assert page.lstrip().startswith('<form id="merge-compare"')
    assert "Choose which value to keep." in page


def test_get_on_the_mutations_answers_405(sam_client, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=survivor.owner)

    assert sam_client.get(merge_url("lead-merge", survivor, survivor)).status_code == 405
    assert sam_client.get(reverse("lead-merge-undo", args=[merge.pk])).status_code == 405


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "lead-merge-compare"),
        ("post", "lead-merge"),
    ],
)
@pytest.mark.parametrize("whose", ["survivor", "duplicate"])
def test_another_salespersons_lead_answers_404(
    sam_client, salesperson, other_salesperson, method, name, whose
):
    ours, theirs = LeadFactory(owner=salesperson), LeadFactory(owner=other_salesperson)
    pair = (theirs, ours) if whose == "survivor" else (ours, theirs)

    response = getattr(sam_client, method)(merge_url(name, *pair))

    assert response.status_code == 404
    assert Lead.objects.filter(pk=theirs.pk).exists()


def test_another_salespersons_merge_answers_404(
    client_of, salesperson, other_salesperson, survivor, duplicate
):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    response = client_of(other_salesperson).post(reverse("lead-merge-undo", args=[merge.pk]))

    assert response.status_code == 404
    merge.refresh_from_db()
    assert merge.can_undo


# --- Undoing -------------------------------------------------------------------------------


def test_undo_without_javascript_brings_the_lead_back(sam_client, salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    response = sam_client.post(reverse("lead-merge-undo", args=[merge.pk]))

    assert response.status_code == 302
    assert response.url == reverse("lead-detail", args=[survivor.pk])
    assert Lead.objects.filter(pk=duplicate.pk).exists()
    page = html(sam_client.get(response.url))
    assert "Merge undone:" in page
    assert f'href="{reverse("lead-detail", args=[duplicate.pk])}"' in page
    assert f'action="{reverse("lead-merge-undo", args=[merge.pk])}"' not in page


def test_undo_with_htmx_redirects_and_a_refusal_is_plain_text(
    sam_client, salesperson, survivor, duplicate
):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    url = reverse("lead-merge-undo", args=[merge.pk])

    first = sam_client.post(url, headers=HTMX)
    second = sam_client.post(url, headers=HTMX)

    assert first.status_code == 200
    assert first["HX-Redirect"] == reverse("lead-detail", args=[survivor.pk])
    assert second.status_code == 422
    assert second["Content-Type"].startswith("text/plain")
    assert "already undone" in html(second)


def test_a_refused_undo_says_why_on_the_lead_page(sam_client, salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    services.lead_create(owner=salesperson, email="dana.smith@gmail.example")

    response = sam_client.post(reverse("lead-merge-undo", args=[merge.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("lead-detail", args=[survivor.pk])
    assert "Can&#x27;t undo" in html(response)
    assert not Lead.objects.filter(pk=duplicate.pk).exists()


def test_the_lead_page_shows_the_merged_leads_history(sam_client, salesperson, survivor, duplicate):
    services.lead_update(lead=duplicate, user=salesperson, title="Chief Revenue Officer")
    merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    page = html(sam_client.get(reverse("lead-detail", args=[survivor.pk])))
    history = html(sam_client.get(reverse("lead-history", args=[survivor.pk])))

    assert 'id="lead-merges"' in page
    assert "Job title (merged lead Dana Smith)" in history


def test_the_lead_pages_queries_do_not_grow_with_its_merges(
    sam_client, salesperson, survivor, duplicate, django_assert_num_queries
):
    first = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    merge_writes.lead_merge_undo(merge=first, by=salesperson)
    for name in ("Dane", "Dan"):
        other = LeadFactory(owner=salesperson, first_name=name, last_name="Smith")
        merge_writes.lead_merge(survivor=survivor, duplicate=other, by=salesperson)
    url = reverse("lead-detail", args=[survivor.pk])

    # The lead page's 9 (tests/leads/test_views.py), and who merged and who undid.
    with django_assert_num_queries(11):
        page = html(sam_client.get(url))

    assert page.count("· merged ") == 3
    assert f"by {salesperson}" in page
    assert "· undone " in page


# --- Admin ---------------------------------------------------------------------------------


def test_a_manager_sees_the_merges_in_the_admin_read_only(
    client_of, manager, salesperson, survivor, duplicate
):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    admin = client_of(manager)

    listing = admin.get(reverse("admin:leads_leadmerge_changelist"))
    detail = admin.get(reverse("admin:leads_leadmerge_change", args=[merge.pk]))

    assert listing.status_code == 200
    assert "Dana Smith" in html(listing)
    assert detail.status_code == 200
    assert 'name="_save"' not in html(detail)
    assert admin.get(reverse("admin:leads_leadmerge_add")).status_code == 403
