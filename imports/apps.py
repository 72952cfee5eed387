from __future__ import annotations

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Import and export"
    default_auto_field = "django.db.models.BigAutoField"
