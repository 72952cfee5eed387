from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from ops import views as ops_views

handler400 = "leadhunter.errors.bad_request"
handler404 = "leadhunter.errors.page_not_found"
handler500 = "leadhunter.errors.server_error"

admin.site.site_header = "LeadHunter admin"
admin.site.site_title = "LeadHunter admin"
admin.site.index_title = "Team, leads and schedules"

urlpatterns = [
    path("", include("leads.urls")),
    path("", include("privacy.urls")),
    path("", include("emails.urls")),
    path("referrals/", include("referrals.urls")),
    path("icp/", include("icp.urls")),
    path("prospecting/", include("prospecting.urls")),
    path("reports/", include("reports.urls")),
    path("forecast/", include("forecast.urls")),
    path("import/", include("imports.urls")),
    path("settings/emails/", include("reminders.settings_urls")),
    path("settings/public-page/", include("handraise.settings_urls")),
    path("settings/email-templates/", include("emails.settings_urls")),
    path("settings/", include("accounts.urls")),
    path("settings/", include("api.settings_urls")),
    path("emails/", include("emails.capture_urls")),
    path("team/", include("team.urls")),
    path("accounts/", include("accounts.auth_urls")),
    path("status/", include("ops.urls")),
    path("admin/", admin.site.urls),
    path("e/", include("reminders.urls")),
    path("p/", include("handraise.urls")),
    # Before api.urls, whose last route answers every other /api/v1/ path with a JSON 404.
    path("api/v1/", include("emails.api_urls")),
    path("api/v1/", include("api.urls")),
    path("calendar/", include("api.calendar_urls")),
    path("healthz", ops_views.healthz, name="healthz"),
]
