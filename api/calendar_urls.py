"""/calendar/: the secret iCalendar feed of a user's follow-ups."""

from __future__ import annotations

from django.urls import path

from api import calendar

urlpatterns = [
    path("<str:token>.ics", calendar.follow_up_feed, name="calendar-feed"),
]
