"""The emails' endpoints under /api/v1/ (included before api.urls, see leadhunter/urls.py)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from emails import api

router = SimpleRouter(use_regex_path=False)
router.register("emails", api.EmailViewSet, basename="api-email")

urlpatterns = [
    *router.urls,
    path(
        "leads/<int:pk>/emails/",
        api.LeadEmailViewSet.as_view({"get": "list"}),
        name="api-lead-emails",
    ),
]
