from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from leads import merging, services
from leads.models import (
    Activity,
    FollowUp,
    FollowUpResolution,
    Lead,
    LeadMerge,
    StageChange,
)
from leads.selectors import lead_history
from leads.services import merging as merge_writes
from referrals import services as referral_services
from referrals.models import ReferralAsk, ReferralSource
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    FollowUpFactory,
    LeadFactory,
    ReferralSourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rescores(monkeypatch):
    """The rescores the merge asks for (the request itself is tested in tests/icp)."""
    requested: list[int] = []
    monkeypatch.setattr(merge_writes, "request_rescore", requested.append)
    return requested


@pytest.fixture
def survivor(salesperson):
    return services.lead_create(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        email="dana@acme.example",
        title="Head of Sales",
        tags=["fintech"],
        notes="Met at SaaStr.",
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
        linkedin_url="https://www.linkedin.com/in/dana-smith",
        tags=["warm"],
        notes="Prefers email.",
    )


def columns(lead_id: int) -> dict:
    return Lead.objects.filter(pk=lead_id).values().get()


def rows_of(lead_id: int) -> dict[str, set[int]]:
    return {
        "activities": set(Activity.objects.filter(lead_id=lead_id).values_list("pk", flat=True)),
        "stage_changes": set(
            StageChange.objects.filter(lead_id=lead_id).values_list("pk", flat=True)
        ),
        "follow_ups": set(FollowUp.objects.filter(lead_id=lead_id).values_list("pk", flat=True)),
        "history": set(Lead.history.filter(id=lead_id).values_list("history_id", flat=True)),
    }


def pending(lead) -> list[FollowUp]:
    return list(FollowUp.objects.filter(lead=lead, done_at__isnull=True))


# --- Suggesting the other lead -----------------------------------------------------------


def suggested(lead, user, query=""):
    return [candidate.pk for candidate in merging.merge_candidates(lead, user, query)]


def test_colleagues_at_the_same_company_are_not_suggested(salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme")
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", company=acme)
    colleague = LeadFactory(owner=salesperson, first_name="Robin", last_name="Hale", company=acme)
    namesake = LeadFactory(owner=salesperson, first_name="Robin", last_name="Smith", company=acme)

    assert colleague.pk not in suggested(dana, salesperson)
    assert namesake.pk not in suggested(dana, salesperson)
    assert suggested(dana, salesperson) == []


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [
        ("Dana", "Smith"),  # the same name
        ("dana", "SMITH"),  # typed in another case
        ("Dana", "Smyth"),  # a typo in the last name
        ("Danna", "Smith"),  # a typo in the first name
        ("Smith", "Dana"),  # first and last name swapped
        ("Dan", "Smith"),  # a short form of the first name
    ],
)
def test_the_same_or_a_very_similar_name_is_suggested(salesperson, first_name, last_name):
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith")
    other = LeadFactory(owner=salesperson, first_name=first_name, last_name=last_name)

    assert suggested(dana, salesperson) == [other.pk]


@pytest.mark.parametrize(("first_name", "last_name"), [("José", "García"), ("Zoë", "O'Brien")])
def test_a_name_with_accents_or_an_apostrophe_finds_its_namesake(
    salesperson, first_name, last_name
):
    one = LeadFactory(owner=salesperson, first_name=first_name, last_name=last_name)
    other = LeadFactory(owner=salesperson, first_name=first_name.lower(), last_name=last_name)

    assert suggested(one, salesperson) == [other.pk]


def test_a_typo_with_a_dropped_and_a_swapped_letter_is_suggested(salesperson):
    garcia = LeadFactory(owner=salesperson, first_name="Jose", last_name="Garcia")
    grica = LeadFactory(owner=salesperson, first_name="Jose", last_name="Grica")

    assert suggested(garcia, salesperson) == [grica.pk]


@pytest.mark.parametrize(("first_name", "last_name"), [("Dina", "Smart"), ("Bea", "Smith")])
def test_a_merely_alike_name_is_not_suggested(salesperson, first_name, last_name):
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith")
    LeadFactory(owner=salesperson, first_name=first_name, last_name=last_name)

    assert suggested(dana, salesperson) == []


def test_the_same_email_linkedin_profile_or_phone_is_suggested_whatever_the_name(salesperson):
    # Rows written before the contact data was normalised: another case, another URL form.
    dana = LeadFactory(
        owner=salesperson,
        first_name="Dana",
        last_name="Smith",
        email="dana@acme.example",
        linkedin_url="https://www.linkedin.com/in/dana-smith",
        phone="+442079460000",
    )
    by_email = LeadFactory(
        owner=salesperson, first_name="D.", last_name="", email="Dana@Acme.example"
    )
    by_linkedin = LeadFactory(
        owner=salesperson,
        first_name="Dana",
        last_name="Whitfield",  # her name after marriage
        linkedin_url="http://linkedin.com/in/Dana-Smith/?trk=share",
    )
    by_phone = LeadFactory(
        owner=salesperson, first_name="Reception", last_name="", phone="020 7946 0000"
    )
    LeadFactory(owner=salesperson, first_name="Other", last_name="Person", phone="+442079461111")

    assert set(suggested(dana, salesperson)) == {by_email.pk, by_linkedin.pk, by_phone.pk}


def test_a_same_company_adds_weight_only_to_a_name_that_matches(salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme")
    elsewhere = CompanyFactory(owner=salesperson, name="Globex")
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", company=acme)
    # Listed by score otherwise: the namesake elsewhere would come first.
    namesake = LeadFactory(
        owner=salesperson, first_name="Dana", last_name="Smith", company=elsewhere, total_score=90
    )
    same_person = LeadFactory(
        owner=salesperson, first_name="Dana", last_name="Smith", company=acme, total_score=10
    )
    typo_at_acme = LeadFactory(
        owner=salesperson, first_name="Dana", last_name="Smyth", company=acme, total_score=50
    )

    # A typo of her name at her company is likelier her than her namesake elsewhere.
    assert suggested(dana, salesperson) == [same_person.pk, typo_at_acme.pk, namesake.pk]


def test_a_shared_email_outranks_a_shared_name(salesperson):
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", email="d@x.example")
    namesake = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", total_score=90)
    same_mailbox = LeadFactory(
        owner=salesperson, first_name="Dee", last_name="Smith", email="D@X.example", total_score=5
    )

    assert suggested(dana, salesperson) == [same_mailbox.pk, namesake.pk]


def test_many_namesakes_dont_crowd_out_a_shared_email(salesperson, monkeypatch):
    monkeypatch.setattr(merging, "CANDIDATES_READ", 3)
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", email="d@x.example")
    for first_name in ("Dave", "Dora", "Dirk", "Duncan"):
        LeadFactory(owner=salesperson, first_name=first_name, last_name="Smith", total_score=90)
    same_mailbox = LeadFactory(
        owner=salesperson, first_name="Dee", last_name="Jones", email="D@X.example", total_score=1
    )

    assert suggested(dana, salesperson) == [same_mailbox.pk]


def test_only_the_same_owners_leads_are_suggested_and_never_the_lead_itself(
    salesperson, other_salesperson
):
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", phone="+4420")
    LeadFactory(owner=other_salesperson, first_name="Dana", last_name="Smith", phone="+4420")

    assert suggested(dana, salesperson) == []


def test_a_one_word_name_matches_only_itself_and_an_email_only_lead_only_its_email(salesperson):
    cher = LeadFactory(owner=salesperson, first_name="Cher", last_name="", email="", phone="")
    same = LeadFactory(owner=salesperson, first_name="", last_name="cher", email="c@x.example")
    LeadFactory(owner=salesperson, first_name="Cher", last_name="Smith")
    mailbox = LeadFactory(owner=salesperson, first_name="", last_name="", email="info@x.example")
    LeadFactory(owner=salesperson, first_name="", last_name="", email="sales@x.example")

    assert suggested(cher, salesperson) == [same.pk]
    assert suggested(mailbox, salesperson) == []


def test_the_search_finds_any_of_the_owners_leads_colleagues_included(salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme")
    dana = LeadFactory(owner=salesperson, first_name="Dana", last_name="Smith", company=acme)
    colleague = LeadFactory(owner=salesperson, first_name="Robin", last_name="Hale", company=acme)

    assert suggested(dana, salesperson, query="robin") == [colleague.pk]
    assert suggested(dana, salesperson, query="dana") == []


def test_suggestions_cost_two_queries_whatever_the_leads(salesperson, django_assert_num_queries):
    dana = LeadFactory(
        owner=salesperson, first_name="Dana", last_name="Smith", phone="+442079460000"
    )
    LeadFactory.create_batch(5, owner=salesperson, first_name="Dana", last_name="Smith")

    # Who is asking (a manager sees the team's), then the leads.
    with django_assert_num_queries(2):
        assert len(merging.merge_candidates(dana, salesperson)) == 5


# --- Merging -------------------------------------------------------------------------------


def test_every_kind_of_row_moves_to_the_survivor_and_the_duplicate_is_gone(
    salesperson, survivor, duplicate, rescores
):
    services.activity_log(lead=duplicate, user=salesperson, kind="call", outcome="no_answer")
    services.activity_log(lead=duplicate, user=salesperson, kind="note", text="Budget in Q3")
    services.lead_update(lead=duplicate, user=salesperson, title="VP of Sales")
    theirs, ours = rows_of(duplicate.pk), rows_of(survivor.pk)
    assert len(theirs["activities"]) == 2
    assert len(theirs["stage_changes"]) == 2
    assert len(theirs["history"]) == 3  # created, moved to Contacted, retitled

    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    assert not Lead.objects.filter(pk=duplicate.pk).exists()
    assert not Lead.history.filter(id=duplicate.pk).exists()  # no "deleted" record left behind
    after = rows_of(survivor.pk)
    for kind in ("activities", "stage_changes", "follow_ups", "history"):
        assert after[kind] >= ours[kind] | theirs[kind], kind
        assert set(merge.moved[kind]) == theirs[kind], kind
    assert merge.duplicate_id == duplicate.pk
    assert merge.survivor == survivor
    assert merge.owner == salesperson
    assert merge.merged_by == salesperson
    assert merge.duplicate_values["email"] == "dana.smith@gmail.example"
    assert merge.survivor_values["title"] == "Head of Sales"
    assert rescores == [survivor.pk]


def test_empty_fields_are_filled_and_the_survivors_values_are_kept_by_default(
    salesperson, survivor, duplicate
):
    merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.email == "dana@acme.example"  # both had one: the survivor's stays
    assert survivor.title == "Head of Sales"
    assert survivor.tags == ["fintech"]
    assert survivor.phone == "+442079460000"  # only the duplicate had these: filled in
    assert survivor.linkedin_url == "https://www.linkedin.com/in/dana-smith"
    assert survivor.history.latest().history_change_reason == "Merged Dana Smith into this lead"


def test_picked_values_of_the_duplicate_replace_the_survivors(salesperson, survivor, duplicate):
    merge_writes.lead_merge(
        survivor=survivor,
        duplicate=duplicate,
        by=salesperson,
        field_choices={"email": "duplicate", "tags": "both", "notes": "both", "title": "survivor"},
    )

    survivor.refresh_from_db()
    # The duplicate's email is free once it is deleted: the unique constraint holds.
    assert survivor.email == "dana.smith@gmail.example"
    assert survivor.tags == ["fintech", "warm"]
    assert survivor.notes == "Met at SaaStr.\n\nPrefers email."
    assert survivor.title == "Head of Sales"


@pytest.mark.parametrize(
    "choices",
    [{"owner": "duplicate"}, {"email": "both"}, {"title": "theirs"}],
    ids=["not-a-merge-field", "both-only-for-tags-and-notes", "unknown-choice"],
)
def test_bad_field_choices_are_refused(salesperson, survivor, duplicate, choices):
    with pytest.raises(ValidationError):
        merge_writes.lead_merge(
            survivor=survivor, duplicate=duplicate, by=salesperson, field_choices=choices
        )

    assert Lead.objects.filter(pk=duplicate.pk).exists()


def test_a_do_not_contact_on_either_lead_is_kept(salesperson, survivor, duplicate):
    services.lead_update(lead=duplicate, user=salesperson, do_not_contact=True)

    merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.do_not_contact is True


def test_of_two_pending_follow_ups_the_earlier_stays_and_the_other_is_closed(
    salesperson, survivor, duplicate
):
    now = timezone.now()
    ours = services.follow_up_schedule(
        lead=survivor, user=salesperson, due_at=now + timedelta(days=5)
    )
    theirs = services.follow_up_schedule(
        lead=duplicate, user=salesperson, due_at=now + timedelta(days=2)
    )

    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    assert pending(survivor) == [theirs]
    ours.refresh_from_db()
    assert ours.resolution == FollowUpResolution.MERGED
    assert ours.done_at is not None
    survivor.refresh_from_db()
    assert survivor.next_follow_up_at == theirs.due_at
    assert merge.moved["follow_up_closed"] == [ours.pk]

    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    ours.refresh_from_db()
    assert pending(survivor) == [ours]
    assert ours.resolution == ""
    assert pending(Lead.objects.get(pk=duplicate.pk)) == [theirs]
    survivor.refresh_from_db()
    assert survivor.next_follow_up_at == ours.due_at
    assert Lead.objects.get(pk=duplicate.pk).next_follow_up_at == theirs.due_at


def test_the_contact_state_is_the_latest_of_both(salesperson, survivor, duplicate):
    now = timezone.now()
    services.activity_log(
        lead=survivor, user=salesperson, kind="replied", occurred_at=now - timedelta(days=3)
    )
    for days in (2, 1):
        services.activity_log(
            lead=duplicate,
            user=salesperson,
            kind="email",
            outcome="no_answer",
            occurred_at=now - timedelta(days=days),
        )

    merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.last_inbound_at == now - timedelta(days=3)
    assert survivor.last_contacted_at == now - timedelta(days=1)
    # Both of the duplicate's emails came after the survivor's answer and are unanswered.
    assert survivor.unanswered_touches == 2
    assert survivor.first_unanswered_at == now - timedelta(days=2)


# --- Referrals -----------------------------------------------------------------------------


def test_the_duplicate_as_a_referral_source_becomes_the_survivors(salesperson, survivor, duplicate):
    source = ReferralSourceFactory(owner=salesperson, lead=duplicate, name="Dana Smith")
    referred = LeadFactory(owner=salesperson, referred_by=source)

    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    source.refresh_from_db()
    assert source.lead == survivor
    assert list(survivor.as_referral_source.referred_leads.all()) == [referred]

    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    source.refresh_from_db()
    assert source.lead_id == duplicate.pk
    assert merge.moved["referral_source"] == [source.pk]


def test_when_both_are_sources_the_referrals_and_asks_move_to_the_survivors(
    salesperson, survivor, duplicate
):
    ours = ReferralSourceFactory(owner=salesperson, lead=survivor)
    theirs = ReferralSourceFactory(owner=salesperson, lead=duplicate)
    referred = LeadFactory(owner=salesperson, referred_by=theirs)
    ask = ReferralAsk.objects.create(source=theirs, asked_by=salesperson, asked_at=timezone.now())

    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    referred.refresh_from_db()
    ask.refresh_from_db()
    theirs.refresh_from_db()
    assert referred.referred_by == ours
    assert ask.source == ours
    assert theirs.lead is None

    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    referred.refresh_from_db()
    ask.refresh_from_db()
    theirs.refresh_from_db()
    assert referred.referred_by == theirs
    assert ask.source == theirs
    assert theirs.lead_id == duplicate.pk


def test_the_referral_that_produced_the_duplicate_is_filled_in(salesperson, survivor, duplicate):
    source = ReferralSourceFactory(owner=salesperson)
    ask = referral_services.referral_ask_record(source=source, user=salesperson, channel="email")
    referral_services.referral_link_lead(lead=duplicate, source=source, user=salesperson, ask=ask)

    merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.referred_by == source
    assert survivor.referral_ask == ask
    assert survivor.source == "referral"


def test_the_merged_lead_is_not_referred_by_itself(salesperson, survivor, duplicate):
    source = ReferralSourceFactory(owner=salesperson, lead=duplicate)
    services.lead_update(lead=survivor, user=salesperson, referred_by=source)

    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.referred_by is None
    assert ReferralSource.objects.get(pk=source.pk).lead == survivor

    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.referred_by == source


# --- History -------------------------------------------------------------------------------


def test_the_moved_history_is_shown_as_the_merged_leads_not_diffed_against_the_survivor(
    salesperson, survivor, duplicate
):
    services.lead_update(lead=duplicate, user=salesperson, title="Chief Revenue Officer")

    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    history = lead_history(survivor, merged_history=merging.merged_history_origins([merge]))
    changes = {(row.field, row.old, row.new) for row in history}
    assert ("Job title (merged lead Dana Smith)", "VP Sales", "Chief Revenue Officer") in changes
    assert ("Created (merged lead Dana Smith)", "", "") in changes
    assert ("Created", "", "") in changes
    # No row compares one person's record with the other's.
    assert not [row for row in history if row.field == "Email"]
    assert ("Phone", "", "+442079460000") in changes  # the merge itself, on the survivor


# --- Undo ----------------------------------------------------------------------------------


def test_undo_restores_both_leads_and_their_rows_exactly(salesperson, survivor, duplicate):
    services.activity_log(lead=duplicate, user=salesperson, kind="email", outcome="no_answer")
    services.activity_log(lead=survivor, user=salesperson, kind="call", outcome="connected")
    ReferralSourceFactory(owner=salesperson, lead=duplicate)
    survivor_before, duplicate_before = columns(survivor.pk), columns(duplicate.pk)
    survivor_rows, duplicate_rows = rows_of(survivor.pk), rows_of(duplicate.pk)
    merge = merge_writes.lead_merge(
        survivor=survivor,
        duplicate=duplicate,
        by=salesperson,
        field_choices={"email": "duplicate", "tags": "both", "notes": "both"},
    )

    undone = merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    assert undone.restored.pk == duplicate.pk
    assert undone.kept_edits == []
    assert columns(duplicate.pk) == duplicate_before
    survivor_after = columns(survivor.pk)
    assert survivor_after.pop("updated_at") >= survivor_before.pop("updated_at")
    assert survivor_after == survivor_before
    for kind in ("activities", "stage_changes", "follow_ups"):
        assert rows_of(duplicate.pk)[kind] == duplicate_rows[kind], kind
        assert rows_of(survivor.pk)[kind] == survivor_rows[kind], kind
    assert rows_of(duplicate.pk)["history"] == duplicate_rows["history"]
    merge.refresh_from_db()
    assert merge.undone_by == salesperson
    assert merge.undone_at is not None
    assert not merge.can_undo


def test_the_survivor_has_been_as_far_as_either_lead_and_an_undo_gives_each_its_own(
    salesperson, survivor, duplicate
):
    services.lead_change_stage(lead=duplicate, to_stage="qualified", user=salesperson)
    services.lead_change_stage(lead=duplicate, to_stage="lost", user=salesperson, reason="Price")
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    assert Lead.objects.values_list("stage", "furthest_stage").get(pk=survivor.pk) == (
        "new",
        "qualified",
    )
    merge_writes.lead_merge_undo(merge=merge, by=salesperson)
    assert dict(Lead.objects.values_list("pk", "furthest_stage")) == {
        survivor.pk: "new",
        duplicate.pk: "qualified",
    }


def test_undo_keeps_the_survivors_later_edits(salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    services.lead_update(lead=survivor, user=salesperson, phone="+44 20 7946 0999")

    undone = merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    survivor.refresh_from_db()
    assert survivor.phone == "+442079460999"
    assert survivor.linkedin_url == ""  # untouched since the merge: given back
    assert undone.kept_edits == ["Phone"]


def test_rows_added_to_the_survivor_after_the_merge_stay_with_it(salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    later = services.activity_log(lead=survivor, user=salesperson, kind="call")

    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    later.refresh_from_db()
    assert later.lead_id == survivor.pk
    assert len(pending(survivor)) == 1
    assert len(pending(Lead.objects.get(pk=duplicate.pk))) == 1


def test_a_merge_and_its_undo_are_audit_events_with_ids_only(salesperson, survivor, duplicate):
    duplicate_id = duplicate.pk
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    events = list(AuditEvent.objects.filter(action=AuditAction.MERGE).order_by("pk"))
    assert [(event.actor, event.count, event.details) for event in events] == [
        (
            salesperson,
            2,
            {
                "merge_id": merge.pk,
                "survivor_id": survivor.pk,
                "duplicate_id": duplicate_id,
                "undone": undone,
            },
        )
        for undone in (False, True)
    ]


def test_undo_twice_is_refused(salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    with pytest.raises(ValidationError, match="already undone"):
        merge_writes.lead_merge_undo(merge=merge, by=salesperson)


def test_undo_is_refused_when_another_lead_took_the_email(salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    newcomer = services.lead_create(owner=salesperson, email="dana.smith@gmail.example")

    with pytest.raises(ValidationError, match=r"Can't undo.*dana\.smith@gmail\.example") as error:
        merge_writes.lead_merge_undo(merge=merge, by=salesperson)

    assert f"#{newcomer.pk}" in error.value.messages[0]
    assert not Lead.objects.filter(pk=duplicate.pk).exists()
    merge.refresh_from_db()
    assert merge.can_undo  # nothing changed: once that lead is dealt with, it can be undone


def test_undo_is_refused_when_the_survivor_was_deleted(salesperson, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    FollowUp.objects.filter(lead=survivor).delete()
    survivor.delete()
    merge.refresh_from_db()

    with pytest.raises(ValidationError, match="deleted or merged into another lead"):
        merge_writes.lead_merge_undo(merge=merge, by=salesperson)


def test_a_chain_of_merges_is_undone_from_the_last(salesperson, survivor, duplicate):
    third = services.lead_create(owner=salesperson, first_name="D.", last_name="Smith")
    services.lead_update(lead=survivor, user=salesperson, first_name="Dane")
    services.lead_update(lead=duplicate, user=salesperson, title="Chief Revenue Officer")
    first = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    second = merge_writes.lead_merge(survivor=third, duplicate=survivor, by=salesperson)
    # The history of the lead merged first keeps its own name two merges on.
    origins = merging.merged_history_origins([second])
    changes = {(row.field, row.new) for row in lead_history(third, merged_history=origins)}
    assert ("Job title (merged lead Dana Smith)", "Chief Revenue Officer") in changes
    assert ("First name (merged lead Dane Smith)", "Dane") in changes
    assert set(origins.values()) == {"Dana Smith", "Dane Smith"}

    first.refresh_from_db()
    with pytest.raises(ValidationError):
        merge_writes.lead_merge_undo(merge=first, by=salesperson)
    merge_writes.lead_merge_undo(merge=second, by=salesperson)
    first.refresh_from_db()
    assert first.survivor_id == survivor.pk
    merge_writes.lead_merge_undo(merge=first, by=salesperson)

    assert Lead.objects.filter(pk__in=[survivor.pk, duplicate.pk, third.pk]).count() == 3


def test_undo_is_refused_once_the_survivor_has_another_owner(
    manager, salesperson, other_salesperson, survivor, duplicate
):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    services.leads_reassign(leads=[survivor], to_owner=other_salesperson, by=manager)

    with pytest.raises(ValidationError, match="has been given to"):
        merge_writes.lead_merge_undo(merge=merge, by=manager)


# --- Who may merge what --------------------------------------------------------------------


def test_a_lead_cant_be_merged_with_itself(salesperson, survivor):
    with pytest.raises(ValidationError, match="itself"):
        merge_writes.lead_merge(survivor=survivor, duplicate=survivor, by=salesperson)


def test_leads_of_two_salespeople_cant_be_merged(manager, salesperson, other_salesperson):
    ours = LeadFactory(owner=salesperson)
    theirs = LeadFactory(owner=other_salesperson)

    with pytest.raises(ValidationError, match="same salesperson"):
        merge_writes.lead_merge(survivor=ours, duplicate=theirs, by=manager)

    assert Lead.objects.filter(pk=theirs.pk).exists()


def test_a_salesperson_cant_merge_or_undo_someone_elses_leads(
    salesperson, other_salesperson, survivor, duplicate
):
    with pytest.raises(PermissionDenied):
        merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=other_salesperson)
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)

    with pytest.raises(PermissionDenied):
        merge_writes.lead_merge_undo(merge=merge, by=other_salesperson)


def test_a_manager_merges_and_undoes_a_salespersons_leads(manager, survivor, duplicate):
    merge = merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=manager)
    merge_writes.lead_merge_undo(merge=merge, by=manager)

    assert LeadMerge.objects.get().undone_by == manager


# --- Cost ----------------------------------------------------------------------------------


def merge_queries(rows: int) -> int:
    """A merge of two leads with the same state, the duplicate's history `rows` long."""
    salesperson = UserFactory()
    survivor = services.lead_create(owner=salesperson, first_name="Kept")
    duplicate = services.lead_create(owner=salesperson, first_name="Merged")
    ActivityFactory.create_batch(rows, lead=duplicate, kind="note")
    FollowUpFactory.create_batch(rows, lead=duplicate, done_at=timezone.now(), resolution="done")
    for number in range(rows):
        StageChange.objects.create(
            lead=duplicate, from_stage="new", to_stage="new", changed_at=timezone.now()
        )
        services.lead_update(lead=duplicate, user=salesperson, title=f"Title {number}")
    with CaptureQueriesContext(connection) as queries:
        merge_writes.lead_merge(survivor=survivor, duplicate=duplicate, by=salesperson)
    return len(queries)


def test_a_merge_costs_the_same_number_of_queries_whatever_the_rows_that_move():
    few, many = merge_queries(2), merge_queries(30)

    assert few == many
    assert few <= 40  # 33 on SQLite and PostgreSQL when written
