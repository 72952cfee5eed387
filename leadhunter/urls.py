from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from leadhunter import views

admin.site.site_header = "LeadHunter admin"
admin.site.site_title = "LeadHunter admin"
admin.site.index_title = "Team, leads and schedules"

urlpatterns = [
    path("", views.coming_soon, {"title": "Today"}, name="today"),
    path("leads/", views.coming_soon, {"title": "Leads"}, name="lead-list"),
    path("pipeline/", views.coming_soon, {"title": "Pipeline"}, name="pipeline"),
    path("referrals/", views.coming_soon, {"title": "Referrals"}, name="referral-list"),
    path("icp/", views.coming_soon, {"title": "ICP"}, name="icp-list"),
    path("reports/", views.coming_soon, {"title": "Reports"}, name="reports"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
