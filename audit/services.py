"""Writes of audit events: one summary row per bulk operation, import, rescore or erasure."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import User
from audit.models import AuditAction, AuditEvent


def audit_event_record(
    *,
    action: str,
    target: type[models.Model] | str,
    count: int,
    details: dict[str, object] | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Record that `actor` did `action` to `count` rows of `target`.

    `details` holds ids and field values only (old → new of the field that changed), never a
    name, an email or free text: it outlives an erasure of the people it is about. Without an
    `actor`, the user of the request being served is taken (the one django-simple-history's
    middleware already holds for the per-row history); outside a request it stays empty, which
    reads as "the system".
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    label = target if isinstance(target, str) else target._meta.label
    return AuditEvent.objects.create(
        actor=actor or request_user(),
        occurred_at=now or timezone.now(),
        action=action,
        target=label,
        count=count,
        details=details or {},
    )


def request_user() -> User | None:
    """The user of the request being served, if any: the actor of what it does.

    Read it before deferring a record to `transaction.on_commit`, which may run after the
    request is over.
    """
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None
