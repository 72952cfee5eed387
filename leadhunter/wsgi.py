"""WSGI entry point (gunicorn leadhunter.wsgi)."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadhunter.settings")

application = get_wsgi_application()

# What Django loaded lives as long as the process: out of the cyclic collector's sight, its
# full collections stop walking ~150k objects every few dozen requests (~1 ms a lead-list
# request, 8% of its CPU; docs/performance.md, section 19). Garbage first, then freeze.
gc.collect()
gc.freeze()
