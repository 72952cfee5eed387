from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from leads import services
from leads.models import Activity, Company, FollowUp, Lead, StageChange
from leads.selectors import touches_today
from leads.services import reassign, validation
from referrals.models import ReferralSource
from tests.factories import CompanyFactory, FollowUpFactory, LeadFactory, ReferralSourceFactory

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=False):
        yield MONDAY


def pending(lead: Lead) -> FollowUp:
    return lead.follow_ups.get(done_at__isnull=True)


@pytest.mark.django_db
class TestLeadCreate:
    def test_normalises_contact_data_and_plans_the_first_touch(self, salesperson, monday):
        lead = services.lead_create(
            owner=salesperson,
            first_name=" Dana ",
            last_name="Smith",
            email=" Dana@Example.COM",
            linkedin_url="linkedin.com/in/Dana-Smith/",
            phone="020 7946 0958",
            tags="Fintech, fintech ,SaaS",
        )

        assert lead.first_name == "Dana"
        assert lead.email == "dana@example.com"
        assert lead.linkedin_url == "https://www.linkedin.com/in/dana-smith"
        assert lead.tags == ["fintech", "saas"]
        assert list(lead.stage_changes.values_list("from_stage", "to_stage")) == [("", "new")]
        follow_up = pending(lead)
        assert (follow_up.kind, follow_up.due_at) == ("first_touch", london("2026-11-24 09:00"))
        assert lead.next_follow_up_at == follow_up.due_at

    def test_the_same_email_twice_for_one_owner_is_refused(self, salesperson, other_salesperson):
        services.lead_create(owner=salesperson, first_name="Dana", email="dana@example.com")

        with pytest.raises(ValidationError, match="already have a lead with this email"):
            services.lead_create(owner=salesperson, first_name="Dana", email="DANA@example.com")
        other = services.lead_create(
            owner=other_salesperson, first_name="Dana", email="dana@example.com"
        )

        assert Lead.objects.filter(email="dana@example.com").count() == 2
        assert other.owner == other_salesperson

    def test_a_lead_needs_a_name_or_an_email(self, salesperson):
        with pytest.raises(ValidationError):
            services.lead_create(owner=salesperson, title="CEO")

        assert not Lead.objects.exists()

    def test_another_owners_company_is_refused(self, salesperson, other_salesperson):
        company = CompanyFactory(owner=other_salesperson)

        with pytest.raises(ValidationError, match="your own companies"):
            services.lead_create(owner=salesperson, first_name="Dana", company=company)

    def test_scores_and_owner_cannot_be_set_through_it(self, salesperson):
        with pytest.raises(TypeError, match="total_score"):
            services.lead_create(owner=salesperson, first_name="Dana", total_score=100)


@pytest.mark.django_db
class TestLeadUpdate:
    def test_unknown_fields_are_refused(self, salesperson, other_salesperson):
        lead = LeadFactory(owner=salesperson)

        with pytest.raises(TypeError, match="owner"):
            services.lead_update(lead=lead, user=salesperson, owner=other_salesperson)

    def test_edits_are_normalised_and_saved(self, salesperson):
        lead = LeadFactory(owner=salesperson)

        services.lead_update(lead=lead, user=salesperson, email=" NEW@Example.com ", title="CFO")

        lead.refresh_from_db()
        assert (lead.email, lead.title) == ("new@example.com", "CFO")


@pytest.mark.django_db
class TestLeadChangeStage:
    def test_a_lead_keeps_the_furthest_stage_on_the_path_it_has_been_in(self, salesperson):
        lead = services.lead_create(owner=salesperson, first_name="Dana", stage="nurture")
        furthest = [lead.furthest_stage]
        for stage in ("engaged", "contacted", "lost", "nurture", "proposal", "won"):
            reason = "No budget" if stage == "lost" else ""
            services.lead_change_stage(lead=lead, to_stage=stage, user=salesperson, reason=reason)
            furthest.append(Lead.objects.get(pk=lead.pk).furthest_stage)

        assert furthest == ["", "engaged", "engaged", "engaged", "engaged", "proposal", "won"]

    def test_records_history_and_refuses_the_same_stage(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        services.lead_change_stage(lead=lead, to_stage="qualified", user=salesperson)
        with pytest.raises(ValidationError, match="already in Qualified"):
            services.lead_change_stage(lead=lead, to_stage="qualified", user=salesperson)

        assert list(lead.stage_changes.order_by("id").values_list("from_stage", "to_stage")) == [
            ("", "new"),
            ("new", "qualified"),
        ]

    def test_lost_needs_a_reason_and_writes_nothing_without_one(self, salesperson):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        with pytest.raises(ValidationError, match="Say why"):
            services.lead_change_stage(lead=lead, to_stage="lost", user=salesperson)

        lead.refresh_from_db()
        assert lead.stage == "new"
        assert StageChange.objects.filter(lead=lead).count() == 1

    def test_lost_plans_a_re_engagement_after_90_days(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        services.lead_change_stage(
            lead=lead, to_stage="lost", user=salesperson, reason="Budget cut"
        )

        lead.refresh_from_db()
        assert lead.lost_reason == "Budget cut"
        follow_up = pending(lead)
        assert (follow_up.kind, follow_up.due_at) == ("re_engage", london("2027-02-22 09:00"))
        assert lead.follow_ups.get(kind="first_touch").resolution == "superseded"

    def test_won_makes_the_customer_a_referral_source_and_plans_the_ask(self, salesperson, monday):
        lead = services.lead_create(
            owner=salesperson, first_name="Dana", last_name="Smith", email="dana@x.com"
        )

        services.lead_change_stage(lead=lead, to_stage="won", user=salesperson)

        lead.refresh_from_db()
        assert lead.won_at == MONDAY
        source = ReferralSource.objects.get(lead=lead)
        assert (source.name, source.kind, source.next_ask_at) == (
            "Dana Smith",
            "customer",
            MONDAY + timedelta(days=30),
        )
        follow_up = pending(lead)
        assert (follow_up.kind, follow_up.due_at) == ("referral_ask", london("2026-12-23 09:00"))

    def test_moving_within_the_pipeline_keeps_a_follow_up_a_person_set(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        mine = services.follow_up_schedule(
            lead=lead, user=salesperson, due_at=MONDAY + timedelta(days=4), note="Send deck"
        )

        services.lead_change_stage(lead=lead, to_stage="qualified", user=salesperson)

        assert pending(lead) == mine


@pytest.mark.django_db
class TestActivityLog:
    def test_an_activity_more_than_a_day_ahead_is_refused(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        with pytest.raises(ValidationError, match="more than a day ahead"):
            services.activity_log(
                lead=lead, user=salesperson, kind="call", occurred_at=MONDAY + timedelta(days=2)
            )

        assert not Activity.objects.exists()

    def test_first_outbound_touch_moves_new_to_contacted_and_starts_the_no_reply_cadence(
        self, salesperson, monday
    ):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        services.activity_log(lead=lead, user=salesperson, kind="call", outcome="no_answer")

        lead.refresh_from_db()
        assert lead.stage == "contacted"
        assert lead.last_contacted_at == MONDAY
        assert lead.unanswered_touches == 1
        follow_up = pending(lead)
        assert (follow_up.kind, follow_up.rule, follow_up.due_at) == (
            "follow_up",
            "no_reply_1",
            london("2026-11-25 09:00"),
        )
        assert lead.follow_ups.get(kind="first_touch").resolution == "superseded"

    def test_no_reply_after_the_cadence_parks_the_lead_in_nurture(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        for day in (0, 2, 5, 10):
            with time_machine.travel(MONDAY + timedelta(days=day), tick=False):
                services.activity_log(lead=lead, user=salesperson, kind="email")

        lead.refresh_from_db()
        assert lead.stage == "nurture"
        assert lead.stage_changes.first().reason == "No reply after 4 touches"
        assert pending(lead).kind == "re_engage"

    def test_a_hand_raise_engages_the_lead_and_asks_for_a_response_tomorrow(
        self, salesperson, monday
    ):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        # The email went out an hour before the reply: a hand-raise is the lead's move after ours.
        services.activity_log(
            lead=lead, user=salesperson, kind="email", occurred_at=MONDAY - timedelta(hours=1)
        )

        services.activity_log(lead=lead, user=salesperson, kind="asked_for_demo")

        lead.refresh_from_db()
        assert lead.stage == "engaged"
        assert (lead.unanswered_touches, lead.last_inbound_at) == (0, MONDAY)
        follow_up = pending(lead)
        assert (follow_up.kind, follow_up.due_at) == ("respond", london("2026-11-24 09:00"))

    def test_a_connected_outbound_call_plans_a_follow_up_not_a_response(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        services.activity_log(lead=lead, user=salesperson, kind="call", outcome="connected")

        follow_up = pending(lead)
        assert (follow_up.kind, follow_up.rule, follow_up.due_at) == (
            "follow_up",
            "after_conversation",
            london("2026-11-26 09:00"),
        )

    def test_a_note_changes_no_follow_up(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        before = pending(lead)

        services.activity_log(
            lead=lead, user=salesperson, kind="note", text="Met at the conference"
        )

        assert pending(lead) == before


@pytest.mark.django_db
class TestFollowUps:
    def test_completing_sets_the_next_step_and_twice_is_harmless(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        first = pending(lead)

        nxt = services.follow_up_complete(follow_up=first, user=salesperson)
        again = services.follow_up_complete(follow_up=first, user=salesperson)

        first.refresh_from_db()
        assert (first.done_at, first.resolution) == (MONDAY, "done")
        assert nxt == again == pending(lead)
        assert nxt.due_at == london("2026-11-24 09:00")
        assert lead.follow_ups.count() == 2

    def test_snooze_moves_the_due_time(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        snoozed = services.follow_up_snooze(follow_up=pending(lead), user=salesperson, days=3)

        assert snoozed.due_at == london("2026-11-27 09:00")
        assert snoozed.snooze_count == 1
        lead.refresh_from_db()
        assert lead.next_follow_up_at == snoozed.due_at

    def test_a_done_follow_up_cannot_be_snoozed(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        follow_up = pending(lead)
        services.follow_up_complete(follow_up=follow_up, user=salesperson)

        with pytest.raises(ValidationError, match="already done"):
            services.follow_up_snooze(follow_up=follow_up, user=salesperson)

    def test_the_database_refuses_a_second_pending_follow_up(self, salesperson):
        lead = LeadFactory(owner=salesperson)
        FollowUpFactory(lead=lead)

        with pytest.raises(IntegrityError), transaction.atomic():
            FollowUpFactory(lead=lead)


@pytest.mark.django_db
class TestScheduleMissingFollowUps:
    def test_gives_each_lead_one_and_a_second_run_changes_nothing(self, salesperson, monday):
        open_lead = LeadFactory(owner=salesperson, stage="contacted")
        engaged = LeadFactory(
            owner=salesperson, stage="engaged", last_inbound_at=MONDAY - timedelta(days=1)
        )
        won = LeadFactory(owner=salesperson, stage="won", won_at=MONDAY - timedelta(days=40))
        already = LeadFactory(owner=salesperson)
        FollowUpFactory(lead=already)

        first_run = services.follow_ups_schedule_missing()
        second_run = services.follow_ups_schedule_missing()

        assert (first_run, second_run) == (3, 0)
        assert pending(open_lead).kind == "first_touch"
        assert pending(engaged).kind == "respond"
        assert pending(won).kind == "referral_ask"
        assert FollowUp.objects.filter(done_at__isnull=True).count() == 4
        open_lead.refresh_from_db()
        assert open_lead.next_follow_up_at == pending(open_lead).due_at

    def test_a_won_customer_with_every_step_done_gets_none(self, salesperson, monday):
        won = LeadFactory(owner=salesperson, stage="won", won_at=MONDAY - timedelta(days=100))
        FollowUpFactory(lead=won, kind="referral_ask", done_at=MONDAY - timedelta(days=60))
        FollowUpFactory(lead=won, kind="check_in", done_at=MONDAY - timedelta(days=5))

        assert services.follow_ups_schedule_missing() == 0

    def test_query_count_does_not_grow_with_leads(
        self, salesperson, monday, django_assert_max_num_queries
    ):
        LeadFactory.create_batch(40, owner=salesperson)

        with django_assert_max_num_queries(8):
            assert services.follow_ups_schedule_missing(batch_size=100) == 40


@pytest.mark.django_db
class TestLeadsReassign:
    def test_moves_leads_with_their_follow_ups_and_records_who(
        self, salesperson, other_salesperson, manager, rescores
    ):
        lead = LeadFactory(owner=salesperson, company=None)
        follow_up = FollowUpFactory(lead=lead)

        result = services.leads_reassign(leads=[lead], to_owner=other_salesperson, by=manager)

        lead.refresh_from_db()
        assert (result.reassigned, result.skipped, lead.owner) == (1, [], other_salesperson)
        assert pending(lead) == follow_up
        move = lead.history.latest()
        assert (move.history_user, move.owner, move.history_change_reason) == (
            manager,
            other_salesperson,
            f"Reassigned from {salesperson} to {other_salesperson}",
        )
        assert rescores == [("lead", lead.pk)]  # scores follow the new owner's ICPs

    def test_unlinks_the_old_owners_company_and_source_and_notes_them(
        self, salesperson, other_salesperson, manager, rescores
    ):
        source = ReferralSource.objects.create(owner=salesperson, name="Pat")
        lead = LeadFactory(
            owner=salesperson, company__name="Acme", referred_by=source, notes="Met at a fair."
        )

        result = services.leads_reassign(leads=[lead], to_owner=other_salesperson, by=manager)

        lead.refresh_from_db()
        assert (lead.company, lead.referred_by) == (None, None)
        assert result.unlinked == [f"{lead}: company “Acme”, referral source “Pat”"]
        assert lead.notes.startswith("Met at a fair.\n\n")
        assert lead.notes.endswith(
            f"reassigned from {salesperson} to {other_salesperson}; "
            "unlinked company “Acme”, referral source “Pat” (theirs)."
        )

    def test_keeps_a_company_that_is_the_new_owners(
        self, salesperson, other_salesperson, manager, rescores
    ):
        theirs = CompanyFactory(owner=other_salesperson)
        lead = LeadFactory(owner=salesperson, company=theirs)

        result = services.leads_reassign(leads=[lead], to_owner=other_salesperson, by=manager)

        lead.refresh_from_db()
        assert (lead.company, result.unlinked) == (theirs, [])

    def test_an_inactive_user_is_refused(self, salesperson, other_salesperson, manager):
        lead = LeadFactory(owner=salesperson)
        other_salesperson.is_active = False
        other_salesperson.save()

        with pytest.raises(ValidationError, match="not an active user"):
            services.leads_reassign(leads=[lead], to_owner=other_salesperson, by=manager)

        lead.refresh_from_db()
        assert lead.owner == salesperson

    def test_only_a_sales_manager_reassigns(self, salesperson, other_salesperson):
        lead = LeadFactory(owner=salesperson)

        with pytest.raises(PermissionDenied):
            services.leads_reassign(leads=[lead], to_owner=other_salesperson, by=salesperson)

    def test_skips_leads_the_new_owner_already_has(
        self, salesperson, other_salesperson, manager, rescores
    ):
        LeadFactory(owner=other_salesperson, email="dana@example.com")
        clash = LeadFactory(owner=salesperson, first_name="Clash", email="dana@example.com")
        already = LeadFactory(owner=other_salesperson, first_name="Already")
        profile = "https://www.linkedin.com/in/pat"
        twin = LeadFactory(owner=salesperson, first_name="Twin", linkedin_url=profile)
        second_twin = LeadFactory(owner=manager, first_name="Second", linkedin_url=profile)
        free = LeadFactory(owner=salesperson)
        chosen = [clash, already, twin, second_twin, free]

        result = services.leads_reassign(
            leads=Lead.objects.filter(pk__in=[lead.pk for lead in chosen]),
            to_owner=other_salesperson,
            by=manager,
        )

        assert result.reassigned == 2
        assert [text.split(":")[0] for text in result.skipped] == [
            str(clash),
            str(already),
            str(second_twin),
        ]
        assert "already has a lead with this email" in result.skipped[0]
        assert "already has a lead with this LinkedIn profile" in result.skipped[2]
        assert set(Lead.objects.filter(owner=other_salesperson).values_list("pk", flat=True)) >= {
            twin.pk,
            free.pk,
        }

    def test_many_leads_are_rescored_in_one_run(
        self, salesperson, other_salesperson, manager, rescores, monkeypatch
    ):
        monkeypatch.setattr(reassign, "REASSIGN_RESCORE_EACH_UP_TO", 2)
        leads = LeadFactory.create_batch(3, owner=salesperson)

        services.leads_reassign(leads=leads, to_owner=other_salesperson, by=manager)

        assert rescores == [("owner", other_salesperson.pk)]


@pytest.mark.django_db
class TestLeadsBulkCreate:
    FIELDS = {
        "first_name": " Zoë ",
        "last_name": "Müller",
        "email": " Zoe@Example.COM",
        "linkedin_url": "linkedin.com/in/Zoe-Mueller/",
        "phone": "020 7946 0958",
        "title": "CTO",
        "source": "event",
    }
    COMPARED = (
        "first_name",
        "last_name",
        "email",
        "linkedin_url",
        "phone",
        "title",
        "source",
        "stage",
        "furthest_stage",
        "next_follow_up_at",
    )

    def test_a_lead_is_created_as_lead_create_creates_it(
        self, salesperson, other_salesperson, monday, rescores
    ):
        one = services.lead_create(owner=salesperson, **self.FIELDS)
        company = services.company_new(owner=other_salesperson, name=" Acme ", domain="acme.ie")
        (bulk,) = services.leads_bulk_create(
            leads=[services.lead_new(owner=other_salesperson, company=company, **self.FIELDS)]
        )

        bulk.refresh_from_db()
        assert [getattr(bulk, name) for name in self.COMPARED] == [
            getattr(one, name) for name in self.COMPARED
        ]
        assert (bulk.company.name, bulk.company.domain) == ("Acme", "acme.ie")
        assert list(bulk.stage_changes.values_list("from_stage", "to_stage", "changed_by")) == [
            ("", "new", other_salesperson.pk)
        ]
        assert (pending(bulk).kind, pending(bulk).due_at) == (
            pending(one).kind,
            pending(one).due_at,
        )
        assert pending(bulk).rule == "first_touch"
        (created,) = bulk.history.all()
        assert (created.history_type, created.history_user, created.email) == (
            "+",
            other_salesperson,
            "zoe@example.com",
        )
        assert rescores == [("lead", one.pk), ("lead", bulk.pk)]

    def test_many_leads_take_a_few_statements_whatever_their_number(
        self, salesperson, monday, rescores, django_assert_max_num_queries
    ):
        acme = services.company_new(owner=salesperson, name="Acme")
        leads = [
            services.lead_new(owner=salesperson, email=f"p{n}@example.com", company=acme)
            for n in range(20)
        ]

        # Savepoint, company, ids or leads, history, stage history, follow-ups, release (SQLite
        # splits the 20 wide lead rows over a few INSERTs).
        with django_assert_max_num_queries(9):
            created = services.leads_bulk_create(leads=leads, created_by=salesperson)

        assert Lead.objects.filter(owner=salesperson, company__name="Acme").count() == 20
        assert StageChange.objects.filter(lead__in=created).count() == 20
        assert FollowUp.objects.filter(lead__in=created, done_at__isnull=True).count() == 20
        assert Lead.history.filter(history_type="+").count() == 20

    def test_a_unique_key_taken_meanwhile_refuses_the_whole_batch(self, salesperson, rescores):
        leads = [
            services.lead_new(
                owner=salesperson,
                email=email,
                company=services.company_new(owner=salesperson, name=email),
            )
            for email in ("ada@example.com", "grace@example.com")
        ]
        services.lead_create(owner=salesperson, email="grace@example.com")

        with pytest.raises(IntegrityError), transaction.atomic():
            services.leads_bulk_create(leads=leads)

        assert list(Lead.objects.values_list("email", flat=True)) == ["grace@example.com"]
        assert not Company.objects.exists()

    def test_lead_new_checks_without_a_query(
        self, salesperson, other_salesperson, django_assert_num_queries
    ):
        theirs = CompanyFactory(owner=other_salesperson)
        pat = ReferralSourceFactory(owner=salesperson)

        with django_assert_num_queries(0):
            services.lead_new(owner=salesperson, first_name="A", referred_by=pat)
            with pytest.raises(ValidationError) as too_long:
                services.lead_new(owner=salesperson, first_name="A", title="T" * 201)
            with pytest.raises(ValidationError) as nameless:
                services.lead_new(owner=salesperson, phone="+44 20 7946 0958")
            with pytest.raises(ValidationError) as not_theirs:
                services.lead_new(owner=salesperson, first_name="A", company=theirs)
            with pytest.raises(ValidationError) as bad_profile:
                services.lead_new(owner=salesperson, first_name="A", linkedin_url="not a url")
            with pytest.raises(ValidationError) as bad_email:
                services.lead_new(owner=salesperson, email="ada@example")
            with pytest.raises(ValidationError) as bad_source:
                services.lead_new(owner=salesperson, first_name="A", source="radio")

        assert "at most 200 characters" in too_long.value.message_dict["title"][0]
        assert nameless.value.message_dict["__all__"] == [
            "Give the lead a name or an email address."
        ]
        assert "company" in not_theirs.value.message_dict
        assert "linkedin_url" in bad_profile.value.message_dict
        assert bad_email.value.message_dict["email"] == ["Enter a valid email address."]
        assert "not a valid choice" in bad_source.value.message_dict["source"][0]

    def test_lead_new_builds_the_lead_that_the_keyword_constructor_builds(
        self, salesperson, monkeypatch
    ):
        acme = CompanyFactory(owner=salesperson, country="IE")
        pat = ReferralSourceFactory(owner=salesperson)
        fields = {
            "first_name": " Zoe ",
            "last_name": "Müller",
            "title": "Head of Sales",
            "email": "Zoe@Example.com",
            "phone": "01 234 5678",
            "linkedin_url": "linkedin.com/in/zoe",
            "company": acme,
            "source": "other",
            "referred_by": pat,
            "expected_value": "1200.50",
            "currency": "USD",
            "expected_close_date": date(2027, 1, 31),
            "do_not_contact": True,
            "tags": ["vip", " VIP", "board"],
            "notes": "Met at the fair",
        }
        now = datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("UTC"))

        built = services.lead_new(owner=salesperson, stage="won", now=now, **fields)
        # Defaults made by a call are each lead's own.
        other = services.lead_new(owner=salesperson, first_name="Al")
        assert other.score_explanation == {}
        other.score_explanation["fit"] = 1
        assert services.lead_new(owner=salesperson, first_name="Bo").score_explanation == {}
        assert validation._new_lead({"owner_id": salesperson.pk}).owner == salesperson
        with pytest.raises(TypeError, match="unexpected keyword arguments: 'nonsense'"):
            validation._new_lead({"nonsense": 1})
        monkeypatch.setattr(validation, "_new_lead", lambda values: Lead(**values))
        expected = services.lead_new(owner=salesperson, stage="won", now=now, **fields)

        columns = [field.attname for field in Lead._meta.concrete_fields]
        assert {name: getattr(built, name) for name in columns} == {
            name: getattr(expected, name) for name in columns
        }
        assert (built.owner, built.company, built.referred_by) == (salesperson, acme, pat)
        assert (built.source, built.won_at, built.phone) == ("referral", now, "+35312345678")
        assert built._state.adding
        assert built.pk is None

    def test_only_leads_from_lead_new_are_taken(self, salesperson):
        with pytest.raises(TypeError, match="lead_new"):
            services.leads_bulk_create(leads=[Lead(owner=salesperson, first_name="Unchecked")])


@pytest.mark.django_db
class TestLeadsBulkFillEmptyFields:
    def test_fills_empty_fields_only_and_records_each_change(
        self, salesperson, other_salesperson, rescores
    ):
        ada = LeadFactory(owner=salesperson, title="Countess", phone="", company=None)
        grace = LeadFactory(owner=salesperson, title="", phone="+15550100", company=None)
        theirs = LeadFactory(owner=other_salesperson, phone="")
        acme = services.company_new(owner=salesperson, name="Acme")

        filled = services.leads_bulk_fill_empty_fields(
            owner=salesperson,
            user=salesperson,
            values_by_lead={
                ada.pk: {"title": "Engineer", "phone": "+44 20 7946 0958", "company": acme},
                grace.pk: {"title": "Admiral", "phone": "+44 20 7946 0000"},
                theirs.pk: {"phone": "+44 20 7946 0001"},
                -1: {"phone": "+44 20 7946 0002"},  # deleted meanwhile
            },
        )

        assert filled == {ada.pk: ["company", "phone"], grace.pk: ["title"]}
        ada.refresh_from_db()
        grace.refresh_from_db()
        theirs.refresh_from_db()
        assert (ada.title, ada.phone, ada.company.name) == ("Countess", "+442079460958", "Acme")
        assert (grace.title, grace.phone) == ("Admiral", "+15550100")
        assert theirs.phone == ""
        latest = ada.history.first()
        assert (latest.history_type, latest.history_user, latest.phone) == (
            "~",
            salesperson,
            "+442079460958",
        )
        # Company and title feed the score; a phone alone doesn't.
        assert sorted(rescores) == [("lead", ada.pk), ("lead", grace.pk)]

    def test_a_value_that_does_not_validate_writes_nothing(self, salesperson, rescores):
        ada = LeadFactory(owner=salesperson, title="", phone="")
        grace = LeadFactory(owner=salesperson, title="", phone="")

        with pytest.raises(ValidationError), transaction.atomic():
            services.leads_bulk_fill_empty_fields(
                owner=salesperson,
                user=salesperson,
                values_by_lead={ada.pk: {"title": "Engineer"}, grace.pk: {"title": "T" * 201}},
            )

        ada.refresh_from_db()
        assert ada.title == ""

    def test_a_domain_is_recorded_only_where_there_was_none(self, salesperson):
        named = CompanyFactory(owner=salesperson, name="Initech", domain="")
        set_meanwhile = CompanyFactory(owner=salesperson, name="Globex", domain="")
        Company.objects.filter(pk=set_meanwhile.pk).update(domain="globex.example")
        named.domain, set_meanwhile.domain = "Initech.example", "globex.other"

        updated = services.companies_bulk_set_domain(companies=[named, set_meanwhile])

        assert updated == 1
        named.refresh_from_db()
        set_meanwhile.refresh_from_db()
        assert (named.domain, set_meanwhile.domain) == ("initech.example", "globex.example")


@pytest.mark.django_db
class TestNextStepBeforeSaving:
    @pytest.mark.parametrize(
        ("stage", "kind", "outcome"),
        [
            ("new", "call", "no_answer"),
            ("new", "call", "connected"),
            ("contacted", "email", ""),
            ("contacted", "call", "connected"),
            ("contacted", "asked_for_demo", ""),
            ("engaged", "meeting", "meeting_booked"),
            ("proposal", "replied", ""),
        ],
    )
    def test_the_preview_is_what_logging_plans(self, salesperson, monday, stage, kind, outcome):
        lead = services.lead_create(owner=salesperson, first_name="Dana", stage=stage)

        shown = services.activity_log_preview(lead=lead, kind=kind, outcome=outcome)
        services.activity_log(lead=lead, user=salesperson, kind=kind, outcome=outcome)

        saved = pending(lead)
        assert (shown.kind, shown.due_at, shown.kept) == (saved.kind, saved.due_at, False)

    def test_the_preview_writes_nothing(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        before = pending(lead)

        services.activity_log_preview(lead=lead, kind="call", outcome="connected")

        lead.refresh_from_db()
        assert (lead.stage, lead.last_contacted_at, pending(lead)) == ("new", None, before)
        assert not lead.activities.exists()

    def test_a_persons_plan_kept_by_a_first_touch_is_shown_as_kept(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        planned = services.follow_up_schedule(
            lead=lead, user=salesperson, due_at=london("2026-12-01 14:00"), note="Call her boss"
        )

        shown = services.activity_log_preview(lead=lead, kind="email")
        services.activity_log(lead=lead, user=salesperson, kind="email")

        assert (shown.kind, shown.due_at, shown.note, shown.kept) == (
            "custom",
            planned.due_at,
            "Call her boss",
            True,
        )
        assert pending(lead) == planned

    def test_the_plan_kept_as_shown_stays_the_cadences(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        shown = services.activity_log_preview(lead=lead, kind="call", outcome="connected")

        services.activity_log(
            lead=lead, user=salesperson, kind="call", outcome="connected", next_step=shown
        )

        saved = pending(lead)
        assert (saved.kind, saved.due_at, saved.rule, saved.created_by) == (
            "follow_up",
            london("2026-11-26 09:00"),
            "after_conversation",
            None,
        )

    def test_a_changed_plan_is_saved_as_the_salespersons(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        changed = services.NextStep(
            kind="follow_up", due_at=london("2026-12-02 09:00"), note="Send the deck"
        )

        services.activity_log(
            lead=lead, user=salesperson, kind="call", outcome="connected", next_step=changed
        )

        saved = pending(lead)
        assert (saved.kind, saved.due_at, saved.note, saved.created_by) == (
            "follow_up",
            london("2026-12-02 09:00"),
            "Send the deck",
            salesperson,
        )
        lead.refresh_from_db()
        assert lead.next_follow_up_at == saved.due_at
        assert lead.follow_ups.filter(done_at__isnull=True).count() == 1


@pytest.mark.django_db
class TestDoneWithATouchAndSnoozeUntil:
    def test_done_with_an_outcome_logs_the_touch_once(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        first_touch = pending(lead)

        nxt = services.follow_up_complete(
            follow_up=first_touch, user=salesperson, touch_kind="call", outcome="voicemail"
        )
        again = services.follow_up_complete(
            follow_up=first_touch, user=salesperson, touch_kind="call", outcome="voicemail"
        )

        first_touch.refresh_from_db()
        assert first_touch.resolution == "done"
        assert list(lead.activities.values_list("kind", "outcome", "user")) == [
            ("call", "voicemail", salesperson.pk)
        ]
        assert touches_today(salesperson) == 1
        lead.refresh_from_db()
        assert (lead.stage, lead.unanswered_touches) == ("contacted", 1)
        assert nxt == again == pending(lead)
        assert (nxt.kind, nxt.rule) == ("follow_up", "no_reply_1")

    def test_done_with_an_outcome_also_closes_a_persons_follow_up(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")
        planned = services.follow_up_schedule(
            lead=lead, user=salesperson, due_at=london("2026-11-23 15:00")
        )

        nxt = services.follow_up_complete(
            follow_up=planned, user=salesperson, touch_kind="call", outcome="connected"
        )

        planned.refresh_from_db()
        assert (planned.resolution, nxt.kind, nxt.rule) == (
            "done",
            "follow_up",
            "after_conversation",
        )

    def test_snooze_until_a_day(self, salesperson, monday):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        snoozed = services.follow_up_snooze(
            follow_up=pending(lead), user=salesperson, until=date(2026, 12, 5)
        )

        # A Saturday picked on purpose stays a Saturday.
        assert snoozed.due_at == london("2026-12-05 09:00")
        assert snoozed.snooze_count == 1

    @pytest.mark.parametrize("day", ["2026-11-23", "2026-11-20", "2027-12-01"])
    def test_snooze_until_today_the_past_or_beyond_a_year_is_refused(
        self, salesperson, monday, day
    ):
        lead = services.lead_create(owner=salesperson, first_name="Dana")

        with pytest.raises(ValidationError, match="after today"):
            services.follow_up_snooze(
                follow_up=pending(lead), user=salesperson, until=date.fromisoformat(day)
            )


@pytest.mark.django_db
def test_a_lead_created_with_a_company_name_finds_that_company_or_creates_it(salesperson):
    acme = CompanyFactory(owner=salesperson, name="Acme GmbH")

    at_acme = services.lead_create(owner=salesperson, first_name="Ada", company_name="acme gmbh")
    at_new = services.lead_create(owner=salesperson, first_name="Bo", company_name="Brand New Ltd")
    without = services.lead_create(owner=salesperson, first_name="Cy", company_name="")

    assert at_acme.company_id == acme.pk
    assert at_new.company.name == "Brand New Ltd"
    assert at_new.company.owner_id == salesperson.pk
    assert without.company_id is None


@pytest.mark.django_db
def test_deleting_a_lead_keeps_the_referral_source_made_from_it(salesperson):
    lead = services.lead_create(owner=salesperson, first_name="Dana", last_name="Smith")
    services.lead_change_stage(lead=lead, to_stage="won", user=salesperson)
    source = ReferralSource.objects.get(lead=lead)

    services.lead_delete(lead=lead, user=salesperson)

    assert not Lead.objects.filter(pk=lead.pk).exists()
    source.refresh_from_db()
    assert (source.name, source.lead_id) == ("Dana Smith", None)
