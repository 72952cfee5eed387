from __future__ import annotations

from django.urls import path

from emails import capture_views

urlpatterns = [
    path("unmatched/", capture_views.unmatched_email_list, name="unmatched-email-list"),
    path("unmatched/count/", capture_views.unmatched_email_count, name="unmatched-email-count"),
    path(
        "unmatched/<int:pk>/create-lead/",
        capture_views.unmatched_email_create_lead,
        name="unmatched-email-create-lead",
    ),
    path(
        "unmatched/<int:pk>/link/", capture_views.unmatched_email_link, name="unmatched-email-link"
    ),
    path(
        "unmatched/<int:pk>/discard/",
        capture_views.unmatched_email_discard,
        name="unmatched-email-discard",
    ),
    path("mailbox/connect/", capture_views.mailbox_connect, name="mailbox-connect"),
    path("mailbox/remove/", capture_views.mailbox_disconnect, name="mailbox-disconnect"),
    path("never-log/", capture_views.never_log_update, name="never-log-update"),
]
