from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.permissions import grant_manager_permissions

        # After every app's migrations ran, so every permission row exists.
        post_migrate.connect(grant_manager_permissions, dispatch_uid="grant_manager_permissions")
