"""Celery tasks for accounts: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.tasks.send_password_reset", soft_time_limit=60, time_limit=90)
def send_password_reset(email: str) -> int:
    """Send the reset link to the accounts with this address (none, one or more)."""
    return services.password_reset_send(email=email)


@shared_task(name="accounts.tasks.send_team_invite", soft_time_limit=60, time_limit=90)
def send_team_invite(user_id: int, invited_by_id: int | None = None) -> bool:
    """Email a new team member the link to choose their password."""
    return services.team_invite_send(user_id=user_id, invited_by_id=invited_by_id)
