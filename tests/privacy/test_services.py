"""A person's rights: everything held about a lead, as JSON (8a), and erasure everywhere (8b).

The erasure test gives one person a trace in every place LeadHunter keeps data (the lead and
its records, the change history, a referral source made from them, an import that brought
them in and one waiting with them in its file, the admin's log, another lead's notes, a sent
reminder, a session's pending message, the cache), erases them, and then reads every column
of every table in the database (and every live session, decoded) looking for them.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from emails.models import Email, EmailSource
from emails.services import EmailFacts, email_log
from icp.models import RescoreRequest
from icp.rescoring import lead_rescore_key
from imports import services as import_services
from imports.models import ImportJob, ImportStatus
from leads import services as lead_services
from leads.models import Activity, Company, Lead
from leads.services.merging import lead_merge, lead_merge_undo
from privacy import services as privacy
from referrals import services as referral_services
from referrals.models import ReferralSource
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.services import SendOutcome, reminder_send
from tests.factories import LeadFactory, ReferralSourceFactory

pytestmark = pytest.mark.django_db

FIRST, LAST = "Zebulon", "Quixote-Vantablack"
NAME = f"{FIRST} {LAST}"
EMAIL = "zebulon.qv@erase-me.example"
PHONE, STORED_PHONE = "+44 20 7946 0958", "+442079460958"
PROFILE = "https://www.linkedin.com/in/zebulon-qv-erase-me"
PROFILE_ID = "zebulon-qv-erase-me"
IMPORT_FILE = (
    "First Name,Last Name,Email,Company\n"
    f"{FIRST},{LAST},{EMAIL},Quixote Holdings\n"
    "Ada,Other,ada.other@example.com,Other Co\n"
)


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """Uploaded files go to a folder of the test's own."""
    settings.DATA_DIR = tmp_path


@pytest.fixture
def person(salesperson, manager, client, settings):
    """Zebulon, with a trace in every place LeadHunter keeps data about a person."""
    # Brought in by an import; its report names them (as a duplicate row would).
    job = import_services.import_job_create(
        owner=salesperson, data=IMPORT_FILE.encode(), filename=f"{NAME}.csv"
    )
    import_services.import_job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(
        error_rows=[{"row": 4, "field": "Email", "reason": f"{EMAIL} is in the file twice"}]
    )
    lead = Lead.objects.get(owner=salesperson, email=EMAIL)
    # The same file uploaded again, waiting for its confirmation.
    import_services.import_job_create(
        owner=salesperson, data=IMPORT_FILE.encode(), filename="contacts.csv"
    )

    referrer = ReferralSourceFactory(owner=salesperson, name="Rita Referrer")
    lead_services.lead_update(
        lead=lead,
        user=salesperson,
        phone=PHONE,
        linkedin_url=PROFILE,
        notes=f"Met {NAME} at the fair.",
        referred_by=referrer,
    )
    lead_services.activity_log(lead=lead, user=salesperson, kind="call", text=f"Spoke to {NAME}")
    lead_services.follow_up_schedule(
        lead=lead,
        user=salesperson,
        due_at=timezone.now() + timedelta(days=2),
        note=f"Send {NAME} the deck",
    )
    # Won: a referral source is made of them, asked, and refers someone.
    lead_services.lead_change_stage(lead=lead, to_stage="won", user=salesperson)
    source = ReferralSource.objects.get(lead=lead)
    referral_services.referral_ask_record(
        source=source, user=salesperson, note=f"Asked {NAME} over lunch"
    )
    referred = LeadFactory(owner=salesperson, referred_by=source, notes=f"Intro from {EMAIL}")

    # The admin's log names them, and an inline activity they had.
    LogEntry.objects.log_actions(
        manager.pk, [lead], CHANGE, change_message='[{"changed": {"fields": ["Notes"]}}]'
    )
    activity = Activity.objects.get(lead=lead, kind="call")
    LogEntry.objects.log_actions(
        manager.pk,
        [lead],
        CHANGE,
        change_message=json.dumps([{"added": {"name": "activity", "object": str(activity)}}]),
    )
    assert LogEntry.objects.filter(object_repr=NAME).count() == 2

    # A reminder went out listing them (the row is all that stays; the email is composed).
    salesperson.daily_digest_email = True
    salesperson.save()
    now = timezone.now()
    digest = Reminder.objects.create(
        user=salesperson,
        kind=ReminderKind.DAILY_DIGEST,
        period="2026-11-30",
        due_at=now,
        next_attempt_at=now,
    )
    lead.follow_ups.filter(done_at__isnull=True).update(due_at=now - timedelta(minutes=5))
    assert reminder_send(reminder_id=digest.pk) == SendOutcome.SENT

    # Emails: one to them on their timeline, and one to the lead they referred naming them.
    for n, (on, body) in enumerate(((lead, f"Dear {NAME}"), (referred, f"{EMAIL} says hi"))):
        email_log(
            owner=salesperson,
            lead=on,
            facts=EmailFacts(
                message_id=f"m{n}@sam.example",
                direction="outbound",
                source=EmailSource.SENT,
                from_address="sam@example.com",
                to_addresses=[on.email],
                sent_at=timezone.now(),
                subject="Hello" if on == referred else f"Hello {FIRST}",
                body_text=body,
            ),
        )

    # Messages naming them wait in the salesperson's session and in their manager's.
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    for user, browser in ((manager, Client()), (salesperson, client)):
        browser.force_login(user)
        browser.post(reverse("today-log", args=[lead.pk]), {"kind": "note", "text": "Noted"})
    assert sum(NAME in json.dumps(s.get_decoded()) for s in Session.objects.all()) == 2

    cache.set(lead_rescore_key(lead.pk), 1)
    assert RescoreRequest.objects.filter(kind="lead", target_id=lead.pk).exists()
    lead.refresh_from_db()
    lead.test_extras = {"referred": referred, "source": source, "referrer": referrer, "job": job}
    return lead


# --- 8a: everything held, as JSON --------------------------------------------------------


def test_the_download_holds_everything_held_about_the_person(client_of, salesperson, person):
    extras = person.test_extras

    response = client_of(salesperson).get(reverse("lead-personal-data", args=[person.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert (data["lead"]["first_name"], data["lead"]["email"]) == (FIRST, EMAIL)
    assert (data["lead"]["phone"], data["lead"]["linkedin_url"]) == (
        STORED_PHONE,
        person.linkedin_url,
    )
    assert data["company"]["name"] == "Quixote Holdings"
    texts = [activity["text"] for activity in data["activities"]]
    assert texts == list(
        person.activities.order_by("occurred_at", "id").values_list("text", flat=True)
    )
    assert f"Spoke to {NAME}" in texts
    assert [change["to_stage"] for change in data["stage_changes"]] == ["new", "contacted", "won"]
    assert f"Send {NAME} the deck" in [follow_up["note"] for follow_up in data["follow_ups"]]
    [email] = data["emails"]
    assert (email["subject"], email["body_text"]) == (f"Hello {FIRST}", f"Dear {NAME}")
    assert "owner" not in email
    # An email on another lead that names them is listed as a mention.
    assert {
        "record": "emails.Email",
        "id": Email.objects.get(lead=extras["referred"]).pk,
        "field": "body_text",
        "text": f"{EMAIL} says hi",
    } in data["mentions"]
    assert data["referrals"]["referred_by"] == {
        "id": extras["referrer"].pk,
        "name": "Rita Referrer",
    }
    [as_source] = data["referrals"]["as_referral_source"]
    assert (as_source["name"], as_source["email"]) == (NAME, EMAIL)
    assert [ask["note"] for ask in as_source["asks"]] == [f"Asked {NAME} over lunch"]
    assert as_source["referred_lead_ids"] == [extras["referred"].pk]
    # Every history row, with who made it.
    assert len(data["history"]) == person.history.count() >= 3
    assert {row["history_user"] for row in data["history"]} == {"sam"}
    assert [row["object"] for row in data["admin_log"]] == [NAME, NAME]
    imports = {item["job_id"]: item for item in data["imports"]}
    assert imports[str(extras["job"].pk)]["error_rows"][0]["reason"].startswith(EMAIL)
    assert [item["file_still_stored"] for item in imports.values()].count(True) == 1
    assert {
        "record": "leads.Lead",
        "id": extras["referred"].pk,
        "field": "notes",
        "text": f"Intro from {EMAIL}",
    } in data["mentions"]


def test_a_download_is_an_audit_event(client_of, salesperson, person):
    client_of(salesperson).get(reverse("lead-personal-data", args=[person.pk]))

    event = AuditEvent.objects.get(action=AuditAction.PERSONAL_DATA_EXPORT)
    assert (event.actor, event.target, event.details["id"]) == (
        salesperson,
        "leads.Lead",
        person.pk,
    )


def test_a_salespersons_download_shows_no_colleagues_records(
    client_of, other_salesperson, manager, person
):
    LeadFactory(owner=other_salesperson, notes=f"Also knows {EMAIL}")

    data = privacy.lead_personal_data(lead=person)

    texts = [mention["text"] for mention in data["mentions"]]
    assert f"Intro from {EMAIL}" in texts
    assert not [text for text in texts if "Also knows" in text]


# --- 8b: erasure ---------------------------------------------------------------------------


def every_value_in_the_database() -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every value of every table, sessions decoded."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("utf-8", "replace")
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    values.append((table, column, text))
    for session in Session.objects.all():
        decoded = json.dumps(session.get_decoded(), default=str, ensure_ascii=False)
        values.append(("django_session (decoded)", session.pk, decoded))
    return values


def traces_of(*needles: str) -> list[tuple[str, str, str]]:
    return [
        (table, column, text)
        for table, column, text in every_value_in_the_database()
        if any(needle.casefold() in text.casefold() for needle in needles)
    ]


def test_the_search_covers_every_model_including_history_and_m2m_tables():
    tables = set(connection.introspection.table_names())
    models = apps.get_models(include_auto_created=True)

    assert {model._meta.db_table for model in models if model._meta.managed} <= tables
    # The one unmanaged table, the leads' search text, exists on PostgreSQL only; the search
    # reads it there (every table the database has).
    unmanaged = {model._meta.db_table for model in models if not model._meta.managed}
    assert unmanaged == {"leads_lead_search"}
    assert (unmanaged <= tables) == (connection.vendor == "postgresql")
    assert {"leads_historicallead", "django_admin_log", "django_session"} <= tables
    assert "django_celery_beat_periodictask" in tables


def test_the_search_finds_the_person_before_the_erasure(person):
    places = {table for table, _, _ in traces_of(EMAIL, NAME, LAST)}

    assert {
        "leads_lead",
        "leads_historicallead",
        "leads_activity",
        "leads_followup",
        "referrals_referralsource",
        "referrals_historicalreferralsource",
        "referrals_referralask",
        "imports_importjob",
        "django_admin_log",
        "django_session (decoded)",
        "emails_email",
    } <= places


def test_erasing_leaves_no_trace_of_the_person_anywhere(
    client, salesperson, person, django_capture_on_commit_callbacks
):
    extras = person.test_extras
    waiting = ImportJob.objects.get(filename="contacts.csv")
    assert import_services.upload_path(waiting.pk).exists()
    client.force_login(salesperson)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("lead-erase", args=[person.pk]), {"confirm": NAME})

    assert response.status_code == 302
    assert traces_of(EMAIL, NAME, LAST, STORED_PHONE, PROFILE_ID) == []
    assert not Lead.objects.filter(pk=person.pk).exists()
    # The import waiting with them in its file is stopped, its file deleted.
    waiting.refresh_from_db()
    assert waiting.status == ImportStatus.FAILED
    assert "erased" in waiting.failure
    assert not import_services.upload_path(waiting.pk).exists()
    assert cache.get(lead_rescore_key(person.pk)) is None
    assert not RescoreRequest.objects.filter(kind="lead", target_id=person.pk).exists()
    # The referral source made of them stays, anonymised and never asked again, so the lead
    # they referred keeps its credit; the other person in the file is untouched.
    source = ReferralSource.objects.get(pk=extras["source"].pk)
    assert (source.name, source.email, source.lead, source.opted_out) == (
        "Erased person",
        "",
        None,
        True,
    )
    extras["referred"].refresh_from_db()
    assert extras["referred"].referred_by == source
    assert Lead.objects.filter(email="ada.other@example.com").exists()
    assert not Company.objects.filter(name="Quixote Holdings").exists()
    assert Reminder.objects.get(kind=ReminderKind.DAILY_DIGEST).status == ReminderStatus.SENT
    # Their emails are deleted; the email to the lead they referred stays, without them.
    assert not Email.objects.filter(subject__contains=FIRST).exists()
    assert Email.objects.get(lead=extras["referred"]).body_text == "[erased] says hi"


def test_the_erasure_is_an_audit_event_without_personal_data(salesperson, person):
    lead_id, activities = person.pk, person.activities.count()

    event = privacy.lead_erase(lead=person, by=salesperson)

    assert str(event) == f"lead #{lead_id} erased by sam at {event.occurred_at:%Y-%m-%d %H:%M}"
    assert (event.action, event.actor, event.count) == (AuditAction.ERASE, salesperson, 1)
    assert event.details["id"] == lead_id
    assert event.details["activities"] == activities == 5
    assert event.details["emails"] == 1
    assert event.details["history_rows"] >= 3
    text = json.dumps(event.details)
    for needle in (FIRST, LAST, EMAIL, "7946"):
        assert needle not in text


def test_a_company_others_work_at_is_kept(salesperson, person):
    company = person.company
    LeadFactory(owner=salesperson, company=company)

    privacy.lead_erase(lead=person, by=salesperson)

    assert Company.objects.filter(pk=company.pk).exists()


def test_erasing_asks_for_the_persons_name(client_of, salesperson, person):
    client = client_of(salesperson)

    page = client.get(reverse("lead-erase", args=[person.pk]))
    wrong = client.post(reverse("lead-erase", args=[person.pk]), {"confirm": "Zebulon"})

    assert page.status_code == 200
    assert "Type the person" in page.content.decode()
    assert wrong.status_code == 200
    assert "exactly to erase" in wrong.content.decode()
    assert Lead.objects.filter(pk=person.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ERASE).exists()


def test_erasing_is_post_only(client_of, salesperson):
    lead = LeadFactory(owner=salesperson)
    client = client_of(salesperson)

    response = client.get(reverse("lead-erase", args=[lead.pk]), {"confirm": str(lead)})

    assert response.status_code == 200
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_lead_page_has_the_privacy_section(client_of, salesperson):
    lead = LeadFactory(owner=salesperson, do_not_contact=True)

    page = client_of(salesperson).get(reverse("lead-detail", args=[lead.pk])).content.decode()

    section = page[page.index('id="lead-privacy"') :]
    assert reverse("lead-personal-data", args=[lead.pk]) in section
    assert reverse("lead-erase", args=[lead.pk]) in section
    assert "Do not contact" in page[: page.index('class="detail-grid"')]


def test_the_today_queue_shows_do_not_contact(client_of, salesperson):
    lead = LeadFactory(owner=salesperson, do_not_contact=True, first_name="Quinn")
    lead_services.follow_up_schedule(lead=lead, user=salesperson, due_at=timezone.now())

    page = client_of(salesperson).get(reverse("today")).content.decode()

    row = page[page.index(f'href="{reverse("lead-detail", args=[lead.pk])}"') :]
    assert "Do not contact" in row[: row.index("</li>")]


def test_admin_log_entries_of_an_addition_are_renamed(salesperson, manager):
    lead = LeadFactory(owner=salesperson, first_name="Ola", last_name="Nordmann-Unique")
    LogEntry.objects.log_actions(manager.pk, [lead], ADDITION, change_message="[]")

    privacy.lead_erase(lead=lead, by=salesperson)

    assert LogEntry.objects.get().object_repr == f"Erased lead #{lead.pk}"


def test_erasing_a_person_once_merged_into_another_lead_and_split_again_leaves_no_trace(
    salesperson,
):
    survivor = LeadFactory(owner=salesperson, first_name="Carmen", last_name="Kowal", email="")
    lead = LeadFactory(owner=salesperson, first_name=FIRST, last_name=LAST, email=EMAIL)
    merge = lead_merge(survivor=survivor, duplicate=lead, by=salesperson)
    lead_merge_undo(merge=merge, by=salesperson)
    # The survivor's history holds the email it was given by the merge and the merge's notes.
    assert Lead.history.filter(id=survivor.pk, email=EMAIL).exists()

    privacy.lead_erase(lead=Lead.objects.get(pk=lead.pk), by=salesperson)

    assert traces_of(EMAIL, NAME, LAST) == []
    assert Lead.objects.filter(pk=survivor.pk).exists()


def test_erasing_a_person_whose_duplicate_was_merged_removes_the_merge_record(salesperson):
    lead = LeadFactory(owner=salesperson, first_name=FIRST, last_name=LAST, email=EMAIL)
    duplicate = LeadFactory(owner=salesperson, first_name=FIRST, last_name=LAST, email="")
    lead_merge(survivor=lead, duplicate=duplicate, by=salesperson)
    assert traces_of(NAME)

    privacy.lead_erase(lead=lead, by=salesperson)

    assert traces_of(EMAIL, NAME, LAST) == []


def test_the_download_holds_what_they_sent_through_the_public_page(client_of, salesperson):
    from handraise.services import hand_raise_land, public_page_for
    from leads.models import ActivityKind

    page = public_page_for(owner=salesperson)
    hand_raise = hand_raise_land(
        page=page,
        name="Dana Visitor",
        email="dana@visitor.example",
        company="Visitor Ltd",
        message="Can we talk this week?",
        kind=ActivityKind.ASKED_FOR_INFO,
        consent_text="I agree that Sam may contact me.",
        ip="203.0.113.9",
    )
    lead = hand_raise.activity.lead

    response = client_of(salesperson).get(reverse("lead-personal-data", args=[lead.pk]))

    [sent] = json.loads(response.content)["hand_raises"]
    assert (sent["message"], sent["consent_text"], sent["ip"]) == (
        "Can we talk this week?",
        "I agree that Sam may contact me.",
        "203.0.113.9",
    )
    # The salesperson's own email delivery is not data about the person.
    assert "notify_status" not in sent
    assert "page_id" not in sent
