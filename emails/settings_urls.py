"""/settings/email-templates/: a salesperson's own email templates."""

from __future__ import annotations

from django.urls import path

from emails import views

urlpatterns = [
    path("", views.email_template_list, name="email-template-list"),
    path("new/", views.email_template_create_view, name="email-template-create"),
    path("<int:pk>/edit/", views.email_template_update_view, name="email-template-update"),
    path("<int:pk>/delete/", views.email_template_delete_view, name="email-template-delete"),
]
