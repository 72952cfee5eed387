from __future__ import annotations

from django.apps import AppConfig


class HandraiseConfig(AppConfig):
    name = "handraise"
    verbose_name = "Public pages and hand-raises"
