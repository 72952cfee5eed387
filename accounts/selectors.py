"""Reads of account-level records that are not a user's own fields."""

from __future__ import annotations

from accounts.models import TeamSettings

TEAM_SETTINGS_PK = 1


def team_settings() -> TeamSettings:
    """The team's settings; the defaults (unsaved) until a manager first changes one."""
    return TeamSettings.objects.filter(pk=TEAM_SETTINGS_PK).first() or TeamSettings(
        pk=TEAM_SETTINGS_PK
    )
