"""A person's data protection rights: everything held about one lead, as JSON, and erasure.

What is held about a person (a lead), and where:
- the lead row and its company; its activities, stage changes and follow-ups;
- its change history (django-simple-history rows, one per save, with every field's value);
- the referral source made from it when it was a won customer (name, email, notes) and the
  asks made to that source; the referral source that referred it (who, not what);
- the admin's log (django.contrib.admin LogEntry) names it in `object_repr` and, for inline
  rows, in `change_message`;
- an import: the uploaded file waits in DATA_DIR/imports/<job id> until the import ends (then
  it is deleted), and a finished job keeps its per-row error report;
- free text elsewhere that mentions it (another lead's notes, an activity's text, …);
- a session's stored messages ("Dana Smith: call logged");
- a merge of their duplicate into them keeps the duplicate's values, for an undo.
Reminder emails are composed when they are sent and keep no content (the row holds a subject
made of counts), and a used email link records only its key, user and action; a pending
rescore (a row and a cache flag) holds the lead's id only. Those are searched and cleaned all
the same, so a future change that starts storing a name there is caught by the erasure test,
which searches every table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from importlib import import_module
from typing import cast, overload

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.cached_db import SessionStore as CachedSessionStore
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.models import AuditAction, AuditEvent
from audit.services import audit_event_record
from emails.erasure import lead_emails_erase
from emails.models import Email
from handraise.models import HandRaise
from icp.rescoring import rescore_requests_forget
from imports.models import ImportJob
from imports.services import import_jobs_erase_person, import_jobs_mentioning, upload_path
from leadhunter.scrubbing import mentions as mentions_any
from leadhunter.scrubbing import scrub
from leads.models import Activity, Company, FollowUp, Lead, StageChange
from referrals.models import ReferralAsk, ReferralSource
from referrals.services import referral_sources_anonymise
from reminders.models import Reminder

# The salesperson's own email delivery of a hand-raise: not data about the person.
HAND_RAISE_DELIVERY_FIELDS = frozenset(
    {
        "page",
        "notify_status",
        "notify_attempts",
        "notify_next_attempt_at",
        "notify_claimed_at",
        "notify_sent_at",
        "notify_last_error",
    }
)


# --- What is held --------------------------------------------------------------------------


def lead_personal_data(*, lead: Lead) -> dict[str, object]:
    """Everything held about the person `lead` is, as JSON-ready values (ids, not objects).

    Mentions of them in other records are looked for among the same owner's records only, so
    a salesperson's export never shows a colleague's notes.
    """
    lead = Lead.objects.select_related("company", "owner", "referred_by").get(pk=lead.pk)
    needles = _needles(lead)
    own_sources = _own_referral_sources(lead)
    history = Lead.history.model.objects.filter(id=lead.pk).select_related("history_user")
    return _jsonable(
        {
            "exported_at": timezone.now(),
            "lead": _row(lead, exclude={"owner"}) | {"owner": lead.owner.get_username()},
            "company": _row(lead.company, exclude={"owner"}) if lead.company else None,
            "activities": [
                _row(activity) for activity in lead.activities.order_by("occurred_at", "id")
            ],
            "stage_changes": [
                _row(change) for change in lead.stage_changes.order_by("changed_at", "id")
            ],
            "follow_ups": [_row(follow_up) for follow_up in lead.follow_ups.order_by("due_at")],
            # Emails to and from them: sent from LeadHunter, captured, or read from a mailbox.
            "emails": [
                _row(email, exclude={"owner"}) for email in lead.emails.order_by("sent_at", "id")
            ],
            # What they sent through the public page or the embedded form, with the consent
            # text they saw and the address they sent it from.
            "hand_raises": [
                _row(hand_raise, exclude=HAND_RAISE_DELIVERY_FIELDS)
                for hand_raise in HandRaise.objects.filter(activity__lead=lead).order_by(
                    "created_at", "id"
                )
            ],
            "referrals": {
                "referred_by": (
                    {"id": lead.referred_by.pk, "name": lead.referred_by.name}
                    if lead.referred_by
                    else None
                ),
                "as_referral_source": [
                    _row(source, exclude={"owner"})
                    | {
                        "asks": [_row(ask) for ask in source.asks.order_by("asked_at")],
                        "referred_lead_ids": sorted(
                            source.referred_leads.values_list("pk", flat=True)
                        ),
                    }
                    for source in own_sources
                ],
            },
            "history": [
                _row(record, exclude={"history_user"})
                | {
                    "history_user": record.history_user.get_username()
                    if record.history_user
                    else None
                }
                for record in history.order_by("history_date", "history_id")
            ],
            "admin_log": [
                {
                    "action_time": entry.action_time,
                    "user": _log_entry_user(entry).get_username(),
                    "object": entry.object_repr,
                    "change_message": entry.get_change_message(),
                }
                for entry in _admin_log_entries(lead, needles).select_related("user")
            ],
            "imports": [
                {
                    "job_id": job.pk,
                    "filename": job.filename,
                    "status": job.status,
                    "created_at": job.created_at,
                    "file_still_stored": upload_path(job.pk).exists(),
                    "error_rows": [row for row in job.error_rows if mentions_any(row, needles)],
                }
                for job, _ in _import_jobs_mentioning(lead, needles)
            ],
            "merges": [
                _row(merge, exclude={"owner"}) for merge in (_merge_records(lead, needles) or ())
            ],
            "reminders": [
                _row(reminder, exclude={"user"})
                for reminder in _rows_mentioning(
                    Reminder.objects.filter(user=lead.owner), ("subject", "last_error"), needles
                )
            ],
            "mentions": list(_mentions_elsewhere(lead, needles, owner_only=True)),
            "not_stored": (
                "Reminder emails are composed when sent and not kept; used email links record "
                "only a key, the user and the action."
            ),
        }
    )


@transaction.atomic
def lead_personal_data_export(*, lead: Lead, by: User) -> dict[str, object]:
    """The person's data for a download, with an audit event saying who took it."""
    data = lead_personal_data(lead=lead)
    audit_event_record(
        action=AuditAction.PERSONAL_DATA_EXPORT,
        target=Lead,
        count=1,
        actor=by,
        details={"id": lead.pk, "owner_id": lead.owner_id},
    )
    return data


# --- Erasure -------------------------------------------------------------------------------


@transaction.atomic
def lead_erase(*, lead: Lead, by: User) -> AuditEvent:
    """Erase the person `lead` is, everywhere, leaving one audit event without personal data.

    - the lead, its activities, stage changes, follow-ups and emails are deleted, with its change
      history (the deletion's own history row included) and its company when no other lead
      works there;
    - the referral source made from it is kept, anonymised and opted out of asks, so the leads
      it referred keep their credit and the reports their totals; its history is deleted and
      the notes of the asks made to it are blanked; its link to the lead is gone with the lead;
    - an import that has not finished and whose stored file names the person is stopped and
      the file deleted (or it would bring them back); finished imports' error reports, and
      admin log entries, have the person's name and contact details replaced by "[erased]";
    - their email, phone and LinkedIn profile are replaced in free text anywhere (other
      leads' notes, activity texts, history rows, reminders); their name is replaced in the
      records about them, not in other people's records, where it may be someone else's;
    - the records of merges into the lead (which keep the merged duplicate's values, for an
      undo) are deleted: those merges can no longer be undone;
    - sessions' stored values that mention them are dropped, and the lead's pending rescore
      (request row and cache flag) deleted.
    """
    lead = Lead.objects.select_for_update(of=("self",)).select_related("company").get(pk=lead.pk)
    lead_id, owner_id = lead.pk, lead.owner_id
    needles = _needles(lead)
    precise = _precise_needles(lead)
    counts: dict[str, int] = {
        "activities": lead.activities.count(),
        "follow_ups": lead.follow_ups.count(),
        "stage_changes": lead.stage_changes.count(),
    }
    counts["emails"] = lead_emails_erase(lead=lead)

    # Admin log entries are found by the ids of the person's records: before anything goes.
    counts["admin_log_entries"] = _scrub_admin_log(lead, needles)
    counts["referral_sources_anonymised"] = _anonymise_referral_sources(lead)
    counts["merges"] = _erase_merges(lead, needles)
    stopped, scrubbed = _erase_from_imports(lead, needles)
    counts["imports_stopped"], counts["imports_scrubbed"] = stopped, scrubbed
    counts["sessions"] = _scrub_sessions(needles)

    company = lead.company
    lead._history_user = by
    lead.delete()
    history = Lead.history.model.objects.filter(id=lead_id)
    counts["history_rows"] = history.count()
    history.delete()
    counts["company_deleted"] = 0
    if company is not None and not company.leads.exists():
        company.delete()
        counts["company_deleted"] = 1
    counts["mentions_scrubbed"] = _scrub_mentions(precise)
    counts["merge_notes_scrubbed"] = _scrub_merge_notes(owner_id, needles)
    rescore_requests_forget(lead_id=lead_id)

    return audit_event_record(
        action=AuditAction.ERASE,
        target=Lead,
        count=1,
        actor=by,
        details={"id": lead_id, "owner_id": owner_id, **counts},
    )


# --- Internals -----------------------------------------------------------------------------


def lead_identifiers(lead: Lead) -> list[str]:
    """What identifies the person in text (see `mentions`)."""
    return _needles(lead)


def mentions(value: object, identifiers: Iterable[str]) -> bool:
    """Whether `value` (text, or JSON-like data) names the person `identifiers` identify."""
    return mentions_any(value, identifiers)


def _needles(lead: Lead) -> list[str]:
    """What identifies the person in text: their contact details and their full name.

    A name alone ("Dana") is too common to look for; a first and last name together is not.
    """
    found = _precise_needles(lead)
    if lead.first_name and lead.last_name:
        found.append(f"{lead.first_name} {lead.last_name}")
    return found


def _precise_needles(lead: Lead) -> list[str]:
    """Contact details: unique to the person, so safe to replace wherever they appear."""
    return [value for value in (lead.email, lead.phone, lead.linkedin_url) if value]


def _contains_any(fields: Iterable[str], needles: Iterable[str]) -> Q:
    condition = Q(pk__in=[])
    for field in fields:
        for needle in needles:
            condition |= Q(**{f"{field}__icontains": needle})
    return condition


def _rows_mentioning(queryset: models.QuerySet, fields: Iterable[str], needles: list[str]):
    if not needles:
        return queryset.none()
    return queryset.filter(_contains_any(fields, needles))


def _own_referral_sources(lead: Lead) -> models.QuerySet[ReferralSource]:
    """The referral sources that are this person: made from the lead, or theirs by email."""
    condition = Q(lead=lead)
    if lead.email:
        condition |= Q(owner_id=lead.owner_id, email__iexact=lead.email)
    return ReferralSource.objects.filter(condition).order_by("pk")


def _anonymise_referral_sources(lead: Lead) -> int:
    sources = list(_own_referral_sources(lead).values_list("pk", flat=True))
    return referral_sources_anonymise(source_ids=sources)


# The person's own records, by model: admin log entries about them are renamed by id.
def _own_records(lead: Lead) -> dict[type[models.Model], list[int]]:
    return {
        Lead: [lead.pk],
        Activity: list(lead.activities.values_list("pk", flat=True)),
        FollowUp: list(lead.follow_ups.values_list("pk", flat=True)),
        StageChange: list(lead.stage_changes.values_list("pk", flat=True)),
        ReferralSource: list(_own_referral_sources(lead).values_list("pk", flat=True)),
    }


def _admin_log_entries(lead: Lead, needles: list[str]) -> models.QuerySet[LogEntry]:
    about = Q(pk__in=[])
    for model, ids in _own_records(lead).items():
        if ids:
            content_type = ContentType.objects.get_for_model(model)
            about |= Q(content_type=content_type, object_id__in=[str(pk) for pk in ids])
    if needles:
        about |= _contains_any(("object_repr", "change_message"), needles)
    return LogEntry.objects.filter(about).order_by("action_time", "pk")


def _scrub_admin_log(lead: Lead, needles: list[str]) -> int:
    own = {
        (ContentType.objects.get_for_model(model).pk, str(pk))
        for model, ids in _own_records(lead).items()
        for pk in ids
    }
    entries = list(_admin_log_entries(lead, needles))
    for entry in entries:
        if (entry.content_type_id, entry.object_id) in own:
            model = _log_entry_content_type(entry).model_class()
            label = model._meta.verbose_name if model else "record"
            entry.object_repr = f"Erased {label} #{entry.object_id}"
        else:
            entry.object_repr = scrub(entry.object_repr, needles)
        entry.change_message = scrub(entry.change_message, needles)
    LogEntry.objects.bulk_update(entries, ["object_repr", "change_message"])
    return len(entries)


def _log_entry_user(entry: LogEntry) -> User:
    """Who an admin log entry is by (django-stubs leaves LogEntry's foreign keys untyped)."""
    return cast(User, entry.user)


def _log_entry_content_type(entry: LogEntry) -> ContentType:
    """What kind of record an admin log entry is about (untyped in django-stubs, as above)."""
    return cast(ContentType, entry.content_type)


def _merge_records(lead: Lead, needles: list[str]) -> models.QuerySet | None:
    """Records of merges into this lead, or of this person (they keep the merged lead's values
    for an undo). None while the merge feature is not installed."""
    try:
        lead_merge = apps.get_model("leads", "LeadMerge")
    except LookupError:
        return None
    condition = Q(survivor_id=lead.pk)
    if needles:
        fields = ("survivor_name", "duplicate_name", "duplicate_values", "survivor_values")
        condition |= _contains_any(fields, needles)
    return lead_merge.objects.filter(condition)


def _erase_merges(lead: Lead, needles: list[str]) -> int:
    """The person's merges can't be undone once they are erased: their records go."""
    records = _merge_records(lead, needles)
    return records.delete()[0] if records is not None else 0


def _import_jobs_mentioning(lead: Lead, needles: list[str]) -> Iterator[tuple[ImportJob, bool]]:
    """The owner's import jobs that name the person, each with whether its stored file does."""
    return import_jobs_mentioning(lead.owner_id, needles, _precise_needles(lead), _names(lead))


def _names(lead: Lead) -> list[str]:
    """First and last name, both or none: one alone is too common to look for in a file."""
    names = [name for name in (lead.first_name, lead.last_name) if name]
    return names if len(names) == 2 else []


def _erase_from_imports(lead: Lead, needles: list[str]) -> tuple[int, int]:
    """Stop unfinished imports whose file names the person; scrub the others' reports."""
    return import_jobs_erase_person(
        owner_id=lead.owner_id,
        needles=needles,
        precise_needles=_precise_needles(lead),
        names=_names(lead),
    )


def _sessions_in_the_database() -> bool:
    """Whether sessions live only in Django's session table: Django's database store, or
    leadhunter.sessions, which reads the same rows. Not `cached_db`, whose cache would keep
    (and save back) what the table no longer holds."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return issubclass(store, DatabaseSessionStore) and not issubclass(store, CachedSessionStore)


def _scrub_sessions(needles: list[str]) -> int:
    """Drop stored values (pending messages, say) that name the person from live sessions."""
    if not needles or not _sessions_in_the_database():
        return 0
    changed = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        kept = {key: value for key, value in data.items() if not mentions_any(value, needles)}
        if len(kept) != len(data):
            Session.objects.filter(pk=session.pk).update(session_data=Session.objects.encode(kept))
            changed += 1
    return changed


# Free text about other people that may mention this one, by model.
_FREE_TEXT: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Lead, ("notes", "source_detail", "lost_reason")),
    (Activity, ("text",)),
    (FollowUp, ("note",)),
    (StageChange, ("reason",)),
    (ReferralSource, ("notes",)),
    (ReferralAsk, ("note",)),
    (Company, ("name", "website")),
    (Reminder, ("subject", "last_error")),
    (Email, ("subject", "body_text", "from_address")),
    (ImportJob, ("filename", "failure")),
)


def _free_text_models() -> Iterator[tuple[type[models.Model], tuple[str, ...]]]:
    yield from _FREE_TEXT
    # A merge can copy the person's contact details into another lead's history rows (an
    # empty email filled from theirs, then given back by an undo).
    yield (
        Lead.history.model,
        (
            *("email", "phone", "linkedin_url"),
            *("notes", "source_detail", "lost_reason", "history_change_reason"),
        ),
    )
    yield ReferralSource.history.model, ("notes",)


def _owned_by(model: type[models.Model], owner_id: int) -> Q:
    paths = {
        Activity: "lead__owner_id",
        FollowUp: "lead__owner_id",
        StageChange: "lead__owner_id",
        ReferralAsk: "source__owner_id",
        Reminder: "user_id",
    }
    return Q(**{paths.get(model, "owner_id"): owner_id})


def _mentions_elsewhere(lead: Lead, needles: list[str], *, owner_only: bool) -> Iterator[dict]:
    if not needles:
        return
    for model, fields in _free_text_models():
        rows = _rows_mentioning(model._default_manager.all(), fields, needles)
        if owner_only:
            rows = rows.filter(_owned_by(model, lead.owner_id))
        if model is Lead or model is Lead.history.model:
            rows = rows.exclude(id=lead.pk)
        for row in rows.values("pk", *fields):
            for field in fields:
                if mentions_any(row[field], needles):
                    yield {
                        "record": model._meta.label,
                        "id": row["pk"],
                        "field": field,
                        "text": row[field],
                    }


def _scrub_mentions(needles: list[str]) -> int:
    """Replace the person's contact details in free text anywhere; returns the rows changed."""
    changed = 0
    if not needles:
        return changed
    for model, fields in _free_text_models():
        rows = _rows_mentioning(model._default_manager.all(), fields, needles)
        for row in rows.values("pk", *fields):
            updates = {field: scrub(row[field], needles) for field in fields}
            model._default_manager.filter(pk=row["pk"]).update(**updates)
            changed += 1
    return changed


def _scrub_merge_notes(owner_id: int, needles: list[str]) -> int:
    """Name the person "[erased]" in the notes a merge and its undo left in the history of the
    lead they were merged into: there the name is certainly theirs."""
    notes = Lead.history.model.objects.filter(owner_id=owner_id).filter(
        Q(history_change_reason__startswith="Merged ")
        | Q(history_change_reason__startswith="Undid the merge of ")
    )
    changed = 0
    for row in _rows_mentioning(notes, ("history_change_reason",), needles).values(
        "pk", "history_change_reason"
    ):
        Lead.history.model.objects.filter(pk=row["pk"]).update(
            history_change_reason=scrub(row["history_change_reason"], needles)
        )
        changed += 1
    return changed


def _row(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, object]:
    """A model instance's own columns, foreign keys as ids."""
    skip = set(exclude)
    return {
        field.attname if field.is_relation else field.name: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.name not in skip
    }


@overload
def _jsonable(value: dict[str, object]) -> dict[str, object]: ...


@overload
def _jsonable(value: object) -> object: ...


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # Decimal, UUID, date
