"""Names vulture (`make lint`, settings in pyproject.toml [tool.vulture]) reports as unused but
that a framework passes by name: the parameters of hooks whose signature we must accept."""

from __future__ import annotations

# django-axes calls AXES_LOCKOUT_CALLABLE(request, original_response, credentials).
original_response  # noqa: B018, F821 - accounts/lockout.py locked_out
# Django admin: SimpleListFilter.lookups(request, model_admin).
model_admin  # noqa: B018, F821 - audit/admin.py, leads/admin.py list filters
# Django forms: Widget.render(…, renderer) and value_from_datadict / value_omitted_from_data
# (data, files, name).
renderer  # noqa: B018, F821 - leads/referrers.py ReferrerWidget
files  # noqa: B018, F821 - leads/referrers.py ReferrerWidget
# Celery worker bootsteps: StartStopStep.start(parent) and stop(parent).
consumer  # noqa: B018, F821 - ops/heartbeat.py Consuming
