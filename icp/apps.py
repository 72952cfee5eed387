from __future__ import annotations

from django.apps import AppConfig


class IcpConfig(AppConfig):
    name = "icp"
    verbose_name = "ICP"

    def ready(self) -> None:
        # Lead writes ask for rescores, but leads must not import icp (it sits above leads):
        # the rescoring module is handed to leads here (leads/dependents.py).
        from icp import rescoring
        from leads.dependents import rescoring_register

        rescoring_register(rescoring)
