"""/api/v1/: the REST API, its OpenAPI schema and its docs."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.urls import path, re_path
from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import views

# path() routes with <int:pk>, like the rest of the app's URLs.
router = SimpleRouter(use_regex_path=False)
router.register("leads", views.LeadViewSet, basename="api-lead")
router.register("activities", views.ActivityViewSet, basename="api-activity")
router.register("follow-ups", views.FollowUpViewSet, basename="api-follow-up")
router.register("referral-sources", views.ReferralSourceViewSet, basename="api-referral-source")
router.register("referral-asks", views.ReferralAskViewSet, basename="api-referral-ask")
router.register("icps", views.IcpViewSet, basename="api-icp")
router.register("criteria", views.CriterionViewSet, basename="api-criterion")

schema_view = SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2])

# The API authenticates by token as well as by session, so the site-wide login redirect for
# pages must not stand in front of it: DRF answers 401 itself (its views are exempt from
# LoginRequiredMiddleware). The docs page is a page: a visitor is sent to the login form.
# Swagger UI under the Content-Security-Policy: the split view serves its start-up script as
# a file (script-src 'self' holds), but its page has an inline <style> block, so this one
# page allows inline styles. It shows no user data, only the static schema.
docs_view = csp_update({"style-src": [UNSAFE_INLINE]})(
    login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
)

urlpatterns = [
    *router.urls,
    path("openapi.json", schema_view, name="api-schema"),
    path("docs/", docs_view, name="api-docs"),
    path("", views.endpoint_not_found),
    # Any character, a line break too ("%0A"): `<path:…>` stops at one and Django's HTML 404
    # would answer instead of the API's JSON.
    re_path(r"^(?P<path>[\s\S]+)$", views.endpoint_not_found),
]
