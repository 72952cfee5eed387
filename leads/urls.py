from __future__ import annotations

from django.urls import path

from leads import views

urlpatterns = [
    path("", views.today, name="today"),
    path("today/progress/", views.today_progress, name="today-progress"),
    path("today/leads/<int:pk>/log/", views.today_log, name="today-log"),
    path("follow-ups/<int:pk>/complete/", views.follow_up_complete, name="follow-up-complete"),
    path("follow-ups/<int:pk>/snooze/", views.follow_up_snooze, name="follow-up-snooze"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/new/", views.lead_create, name="lead-create"),
    path("leads/bulk/", views.lead_bulk, name="lead-bulk"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/<str:section>/", views.lead_edit, name="lead-edit"),
    path("leads/<int:pk>/stage/", views.lead_stage, name="lead-stage"),
    path("leads/<int:pk>/activities/", views.lead_activity_create, name="lead-activity-create"),
    path("leads/<int:pk>/follow-up/", views.lead_follow_up, name="lead-follow-up"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/<str:stage>/", views.pipeline_column, name="pipeline-column"),
]
