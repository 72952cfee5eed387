from __future__ import annotations

from django.urls import path

from leads import views

urlpatterns = [
    path("", views.today, name="today"),
    path("today/progress/", views.today_progress, name="today-progress"),
    path("today/leads/<int:pk>/log/", views.today_log, name="today-log"),
    path("today/leads/<int:pk>/log-form/", views.today_log_form, name="today-log-form"),
    path("today/leads/<int:pk>/done/", views.today_done, name="today-done"),
    path("today/leads/<int:pk>/done-form/", views.today_done_form, name="today-done-form"),
    path(
        "today/follow-ups/<int:pk>/done-form/",
        views.today_follow_up_done_form,
        name="today-follow-up-done-form",
    ),
    path(
        "today/follow-ups/<int:pk>/snooze-form/",
        views.today_follow_up_snooze_form,
        name="today-follow-up-snooze-form",
    ),
    path("follow-ups/<int:pk>/complete/", views.follow_up_complete, name="follow-up-complete"),
    path("follow-ups/<int:pk>/snooze/", views.follow_up_snooze, name="follow-up-snooze"),
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/new/", views.lead_create, name="lead-create"),
    path("leads/bulk/", views.lead_bulk, name="lead-bulk"),
    path("leads/<int:pk>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/company/", views.lead_company_edit, name="lead-company-edit"),
    path("leads/<int:pk>/edit/<str:section>/", views.lead_edit, name="lead-edit"),
    path("leads/<int:pk>/stage/", views.lead_stage, name="lead-stage"),
    path("leads/<int:pk>/referrer/", views.lead_referrer, name="lead-referrer"),
    path("leads/<int:pk>/history/", views.lead_history, name="lead-history"),
    path("leads/stage-changes/<int:pk>/undo/", views.lead_stage_undo, name="lead-stage-undo"),
    path("leads/<int:pk>/activities/", views.lead_activity_create, name="lead-activity-create"),
    path("leads/<int:pk>/next-step/", views.lead_next_step, name="lead-next-step"),
    path("leads/<int:pk>/follow-up/", views.lead_follow_up, name="lead-follow-up"),
    path("leads/<int:pk>/merge/", views.lead_merge_pick, name="lead-merge-pick"),
    path(
        "leads/<int:pk>/merge/<int:other_pk>/",
        views.lead_merge_compare,
        name="lead-merge-compare",
    ),
    path("leads/<int:pk>/merge/<int:other_pk>/confirm/", views.lead_merge, name="lead-merge"),
    path("leads/merges/<int:pk>/undo/", views.lead_merge_undo, name="lead-merge-undo"),
    path("companies/<int:pk>/", views.company_detail, name="company-detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company-edit"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/<str:stage>/", views.pipeline_column, name="pipeline-column"),
    path("pipeline/<str:stage>/cards/", views.pipeline_cards, name="pipeline-cards"),
]
