"""Dates as the app's own pages print them ("29 Nov 2026, 14:05"), for what Django formats by
default: the admin, and any {{ date }} without a format of its own. English's built-in
formats are American ("Nov. 29, 2026, 2:05 p.m."). Input formats are Django's (ISO first)."""

from __future__ import annotations

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
