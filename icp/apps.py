from __future__ import annotations

from django.apps import AppConfig


class IcpConfig(AppConfig):
    name = "icp"
    verbose_name = "ICP"
