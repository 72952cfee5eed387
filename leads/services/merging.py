"""Merging two leads by hand, and undoing it.

`lead_merge` folds a duplicate into the lead that stays (the survivor): activities, stage
changes, follow-ups, referral links (through `leads.dependents.referral_links`), the rows of
apps above leads (`leads.dependents.merged_rows`: emails) and the duplicate's change history
move over, the survivor's empty fields are filled from the duplicate
(and any field the salesperson picked the duplicate's value for is overwritten), then the
duplicate row is deleted so its email and LinkedIn profile are free. A `LeadMerge` row keeps
what an undo needs: `lead_merge_undo` recreates the duplicate with its own id and moves exactly
the recorded rows back.

Both are set-based: a fixed number of statements whatever the number of activities. Imported
from this module, not from `leads.services`: the compare page's reads (`leads.merging`), which
this module uses, import the package's validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Min, Model, QuerySet
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import User
from audit.models import AuditAction
from audit.services import audit_event_record
from leads import selectors
from leads.dependents import merged_rows, referral_links, request_rescore
from leads.fields import own_field
from leads.merging import (
    COMBINABLE_FIELDS,
    KEEP_CHOICES,
    MERGE_FIELDS,
    field_name,
    field_values,
    merged_fields,
    merged_history_origins,
    merges_visible_to,
    pending_kept_and_closed,
    stored_value,
)
from leads.models import (
    ANSWERED_OUTCOMES,
    TOUCH_KINDS,
    Activity,
    Company,
    Direction,
    FollowUp,
    FollowUpResolution,
    Lead,
    LeadMerge,
    StageChange,
)
from leads.services.schedule import reschedule, sync_next_follow_up_at
from leads.services.stages import leads_furthest_stage_recount
from leads.services.validation import validate

# What the cadence reads about contact; the merged lead takes the latest of both.
CONTACT_STATE_FIELDS = (
    "last_contacted_at",
    "last_inbound_at",
    "unanswered_touches",
    "first_unanswered_at",
)


# Undo moves rows back by id in chunks, well under SQLite's limit on query parameters.
ID_CHUNK = 500


@transaction.atomic
def lead_merge(
    *,
    survivor: Lead,
    duplicate: Lead,
    by: User,
    field_choices: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> LeadMerge:
    """Fold `duplicate` into `survivor` and delete it; returns the record that can undo it.

    `field_choices` names, for fields where both leads have a different value, whose value to
    keep ("survivor", the default; "duplicate"; or "both" for tags and notes). A field only
    the duplicate has is filled in; one only the survivor has is kept. Of two pending
    follow-ups the earlier stays and the other is closed as "merged". The survivor's stage
    stays; the duplicate's stage changes join its timeline.
    """
    now = now or timezone.now()
    choices = dict(field_choices or {})
    if survivor.pk == duplicate.pk:
        raise ValidationError("A lead can't be merged with itself.")
    _check_choices(choices)
    # Both rows locked, in id order so that two merges of the same pair can't deadlock.
    locked = {
        lead.pk: lead
        for lead in selectors.leads_visible_to(by)
        .select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        if Lead.objects.filter(pk__in=[survivor.pk, duplicate.pk]).count() == 2:
            raise PermissionDenied("You can merge only leads you can see.")
        raise ValidationError("One of the two leads was deleted or merged meanwhile.")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.owner_id != duplicate.owner_id:
        raise ValidationError("Both leads must belong to the same salesperson to be merged.")

    survivor_before = field_values(survivor)
    duplicate_values = field_values(duplicate)
    changes = merged_fields(survivor, duplicate, choices)
    moved: dict[str, object] = {}

    # Follow-ups first: of two pending ones the earlier stays, the other is closed as merged
    # (the database allows one pending follow-up per lead).
    pending = {
        follow_up.lead_id: follow_up
        for follow_up in FollowUp.objects.filter(
            lead__in=[survivor.pk, duplicate.pk], done_at__isnull=True
        )
    }
    _, closed = pending_kept_and_closed(pending.get(survivor.pk), pending.get(duplicate.pk))
    if closed is not None:
        FollowUp.objects.filter(pk=closed.pk).update(
            done_at=now, resolution=FollowUpResolution.MERGED
        )
        moved["follow_up_closed"] = [closed.pk]
    for kind, model in (
        ("activities", Activity),
        ("stage_changes", StageChange),
        ("follow_ups", FollowUp),
    ):
        moved[kind] = _move(model.objects.filter(lead=duplicate), lead=survivor)
    moved["history"] = list(
        Lead.history.filter(id=duplicate.pk).values_list("history_id", flat=True)
    )
    Lead.history.filter(id=duplicate.pk).update(id=survivor.pk)
    # The sources that are these two people: the merged lead must not be referred by itself.
    own_sources = referral_links().source_ids_of_leads([survivor.pk, duplicate.pk])
    moved.update(referral_links().merge(survivor=survivor, duplicate=duplicate))
    # Rows of the apps above leads (emails): deleting the duplicate would delete them.
    for rows in merged_rows():
        moved.update(rows.merge(survivor=survivor, duplicate=duplicate))
    # Merges that kept the duplicate lose their survivor (as a deletion would do); an undo of
    # this merge gives it back to them.
    earlier_merges = list(LeadMerge.objects.filter(survivor=duplicate))
    moved["merges"] = [merge.pk for merge in earlier_merges]
    moved["history_origins"] = {
        str(history_id): name for history_id, name in merged_history_origins(earlier_merges).items()
    }
    LeadMerge.objects.filter(pk__in=moved["merges"]).update(survivor=None)

    duplicate_name, duplicate_id = str(duplicate)[:200], duplicate.pk
    duplicate.delete()  # which sets its pk to None
    # The deletion wrote a history record under the duplicate's id; the merge is its record.
    Lead.history.filter(id=duplicate_id).delete()

    if changes.get("referred_by_id", survivor.referred_by_id) in own_sources:
        changes.update(referred_by_id=None, referral_ask_id=None)
    changes.update(_contact_state(survivor, duplicate_values))
    changes = {name: value for name, value in changes.items() if getattr(survivor, name) != value}
    if changes:
        for name, value in changes.items():
            setattr(survivor, name, value)
        validate(survivor)
        survivor._change_reason = f"Merged {duplicate_name} into this lead"[:100]
        survivor._history_user = by
        survivor.save(update_fields=[*(field_name(name) for name in changes), "updated_at"])

    if not survivor.follow_ups.filter(done_at__isnull=True).exists():
        reschedule(survivor, user=by, now=now, replace_manual=False)
    else:
        sync_next_follow_up_at([survivor.pk])
    leads_furthest_stage_recount([survivor.pk])  # the duplicate's history is the survivor's now
    survivor.refresh_from_db(fields=["next_follow_up_at", "furthest_stage"])
    request_rescore(survivor.pk)
    survivor_after = field_values(survivor)
    merge = LeadMerge.objects.create(
        owner_id=survivor.owner_id,
        survivor=survivor,
        survivor_name=str(survivor)[:200],
        duplicate_id=duplicate_id,
        duplicate_name=duplicate_name,
        duplicate_values=duplicate_values,
        survivor_values=survivor_before,
        survivor_changes={name: survivor_after[name] for name in changes},
        moved=moved,
        merged_by=by,
        merged_at=now,
    )
    _audit(merge, by=by, now=now, undone=False)
    return merge


def _audit(merge: LeadMerge, *, by: User, now: datetime, undone: bool) -> None:
    # Ids only: the audit trail outlives an erasure of either person.
    audit_event_record(
        action=AuditAction.MERGE,
        target=Lead,
        count=2,
        actor=by,
        now=now,
        details={
            "merge_id": merge.pk,
            "survivor_id": merge.survivor_id,
            "duplicate_id": merge.duplicate_id,
            "undone": undone,
        },
    )


def _check_choices(choices: Mapping[str, str]) -> None:
    unknown = set(choices) - set(MERGE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields can't be chosen in a merge: {sorted(unknown)}.")
    for name, keep in choices.items():
        allowed = KEEP_CHOICES if name in COMBINABLE_FIELDS else KEEP_CHOICES[:2]
        if keep not in allowed:
            raise ValidationError({name: f"Choose which value to keep ({', '.join(allowed)})."})


def _contact_state(survivor: Lead, duplicate_values: Mapping[str, object]) -> dict:
    """The cadence's view of the merged lead: the latest contact and answer of either lead,
    and the outbound touches (now all on the survivor) left unanswered since that answer."""
    contacted = [survivor.last_contacted_at, stored_value(duplicate_values, "last_contacted_at")]
    answered = [survivor.last_inbound_at, stored_value(duplicate_values, "last_inbound_at")]
    last_contacted_at = max(filter(None, contacted), default=None)
    last_inbound_at = max(filter(None, answered), default=None)
    touches = survivor.activities.filter(kind__in=TOUCH_KINDS, direction=Direction.OUTBOUND)
    touches = touches.exclude(outcome__in=ANSWERED_OUTCOMES)
    if last_inbound_at is not None:
        touches = touches.filter(occurred_at__gt=last_inbound_at)
    streak = touches.aggregate(count=Count("id"), first=Min("occurred_at"))
    return {
        "last_contacted_at": last_contacted_at,
        "last_inbound_at": last_inbound_at,
        "unanswered_touches": streak["count"],
        "first_unanswered_at": streak["first"],
    }


def _move(rows: QuerySet, **to: object) -> list[int]:
    """Point `rows` elsewhere; returns their ids (read first, for the undo)."""
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    if ids:
        rows.update(**to)
    return ids


@dataclass(frozen=True)
class MergeUndone:
    restored: Lead  # the merged lead, back with its own id
    survivor: Lead
    kept_edits: list[str]  # fields of the survivor edited since the merge, left as they are


@transaction.atomic
def lead_merge_undo(*, merge: LeadMerge, by: User, now: datetime | None = None) -> MergeUndone:
    """Bring the merged lead back with its own id, move back exactly the rows that moved, and
    give the survivor back the values the merge changed (those not edited since).

    Refused with a reason when the merge was already undone, when the survivor has been
    deleted since, or when the merged lead's email or LinkedIn profile now belongs to another
    lead.
    """
    now = now or timezone.now()
    try:
        merge = merges_visible_to(by).select_for_update().get(pk=merge.pk)
    except LeadMerge.DoesNotExist:
        raise PermissionDenied("You can undo only merges of leads you can see.") from None
    if merge.undone_at is not None:
        when = timezone.localtime(merge.undone_at)
        raise ValidationError(f"This merge was already undone on {when:%-d %b %Y, %H:%M}.")
    survivor = (
        selectors.leads_visible_to(by).select_for_update().filter(pk=merge.survivor_id).first()
        if merge.survivor_id
        else None
    )
    if survivor is None:
        raise ValidationError(
            f"{merge.survivor_name}, the lead {merge.duplicate_name} was merged into, has been "
            "deleted or merged into another lead since, so this merge can't be undone."
        )
    if survivor.owner_id != merge.owner_id:
        raise ValidationError(
            f"{survivor} has been given to {survivor.owner} since the merge, so "
            f"{merge.duplicate_name} can't be brought back."
        )
    if Lead.objects.filter(pk=merge.duplicate_id).exists():
        raise ValidationError(f"A lead with id {merge.duplicate_id} exists again; can't undo.")

    kept_edits = _restore_survivor(survivor, merge, by=by)
    duplicate = _recreate_duplicate(merge)
    moved = merge.moved

    for kind, model in (
        ("activities", Activity),
        ("stage_changes", StageChange),
        ("follow_ups", FollowUp),
    ):
        _move_back(model.objects.all(), moved.get(kind, []), lead_id=duplicate.pk)
    _move_back(Lead.history.all(), moved.get("history", []), id=duplicate.pk, key="history_id")
    _reopen_closed_follow_up(moved.get("follow_up_closed", []))
    referral_links().unmerge(survivor=survivor, duplicate=duplicate, moved=moved)
    for rows in merged_rows():
        rows.unmerge(survivor=survivor, duplicate=duplicate, moved=moved)
    if moved.get("merges"):
        LeadMerge.objects.filter(pk__in=moved["merges"], survivor__isnull=True).update(
            survivor=duplicate
        )

    for lead in (survivor, duplicate):
        if not lead.follow_ups.filter(done_at__isnull=True).exists():
            reschedule(lead, user=by, now=now, replace_manual=False)
    sync_next_follow_up_at([survivor.pk, duplicate.pk])
    leads_furthest_stage_recount([survivor.pk, duplicate.pk])

    merge.undone_at = now
    merge.undone_by = by
    merge.save(update_fields=["undone_at", "undone_by"])
    _audit(merge, by=by, now=now, undone=True)
    request_rescore(survivor.pk)
    request_rescore(duplicate.pk)
    return MergeUndone(restored=duplicate, survivor=survivor, kept_edits=kept_edits)


def _restore_survivor(survivor: Lead, merge: LeadMerge, *, by: User) -> list[str]:
    """Give the survivor back what the merge changed, unless it was edited since (then the
    later edit stays); returns the labels of the fields kept that way."""
    restored, kept = {}, []
    for name, after in merge.survivor_changes.items():
        field = own_field(Lead, field_name(name))
        if getattr(survivor, name) == field.to_python(after):
            restored[name] = field.to_python(merge.survivor_values.get(name))
        elif field.name in MERGE_FIELDS:
            kept.append(str(capfirst(field.verbose_name)))
    restored = _existing_relations(restored)
    if restored:
        for name, value in restored.items():
            setattr(survivor, name, value)
        _raise_on_conflict(survivor, "the kept lead")
        survivor._change_reason = f"Undid the merge of {merge.duplicate_name}"[:100]
        survivor._history_user = by
        survivor.save(update_fields=[*(field_name(name) for name in restored), "updated_at"])
    return kept


def _recreate_duplicate(merge: LeadMerge) -> Lead:
    values = {
        field.attname: field.to_python(merge.duplicate_values[field.attname])
        for field in Lead._meta.concrete_fields
        if field.attname in merge.duplicate_values
    }
    values = _existing_relations(values)
    duplicate = Lead(**values)
    created_at, updated_at = duplicate.created_at, duplicate.updated_at
    _raise_on_conflict(duplicate, merge.duplicate_name)
    # Its history comes back with the moved records; the re-insert itself is not a change.
    duplicate.save_without_historical_record(force_insert=True)
    # auto_now_add / auto_now stamped the insert with now; the lead keeps its own dates.
    Lead.objects.filter(pk=duplicate.pk).update(created_at=created_at, updated_at=updated_at)
    duplicate.created_at, duplicate.updated_at = created_at, updated_at
    return duplicate


def _raise_on_conflict(lead: Lead, who: str) -> None:
    """Another lead now holds this lead's email or LinkedIn profile: name it and refuse."""
    for name in ("email", "linkedin_url"):
        value = getattr(lead, name)
        if not value:
            continue
        holder = (
            Lead.objects.filter(owner_id=lead.owner_id, **{name: value}).exclude(pk=lead.pk).first()
        )
        if holder is not None:
            what = "email address" if name == "email" else "LinkedIn profile"
            raise ValidationError(
                f"Can't undo: {holder} (#{holder.pk}) now has {who}'s {what} {value}. "
                "Change or merge that lead first."
            )


def _related_model(name: str) -> type[Model]:
    """The model a foreign key of Lead points at."""
    model = own_field(Lead, name).related_model
    if not isinstance(model, type):  # a lazy reference ("app.Model"), not resolved yet
        raise TypeError(f"Lead.{name} points at no model yet")
    return model


# Related rows a stored value may point at; one deleted since is left out rather than broken.
RELATIONS: dict[str, type[Model]] = {
    "company_id": Company,
    # Referral sources, asks and ICPs sit above leads: named through the fields, not imported.
    "referred_by_id": _related_model("referred_by"),
    "referral_ask_id": _related_model("referral_ask"),
    "best_icp_id": _related_model("best_icp"),
}


def _existing_relations(values: dict[str, object]) -> dict[str, object]:
    values = dict(values)
    for attname, model in RELATIONS.items():
        related_id = values.get(attname)
        if related_id is not None and not model._default_manager.filter(pk=related_id).exists():
            values[attname] = None
    return values


def _reopen_closed_follow_up(ids: list[int]) -> None:
    """The follow-up the merge closed is pending again, unless its lead has another by now."""
    for follow_up in FollowUp.objects.filter(pk__in=ids, resolution=FollowUpResolution.MERGED):
        if not FollowUp.objects.filter(lead_id=follow_up.lead_id, done_at__isnull=True).exists():
            FollowUp.objects.filter(pk=follow_up.pk).update(done_at=None, resolution="")


def _move_back(rows: QuerySet, ids: list[int], *, key: str = "pk", **to: object) -> None:
    for start in range(0, len(ids), ID_CHUNK):
        rows.filter(**{f"{key}__in": ids[start : start + ID_CHUNK]}).update(**to)
