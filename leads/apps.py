from __future__ import annotations

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from accounts.services import settings_saved_hooks
        from leads.services import reconnects_plan_after_settings

        if reconnects_plan_after_settings not in settings_saved_hooks:
            settings_saved_hooks.append(reconnects_plan_after_settings)
