from __future__ import annotations

from django.apps import AppConfig


class HandraiseConfig(AppConfig):
    name = "handraise"
    verbose_name = "Public pages and hand-raises"

    def ready(self) -> None:
        from api.calendar import calendar_events_register
        from handraise.calendar import booked_meetings_for_feed

        calendar_events_register(booked_meetings_for_feed)
