from __future__ import annotations

from django.urls import path

from icp import views

urlpatterns = [
    path("", views.icp_list, name="icp-list"),
    path("new/", views.icp_create, name="icp-create"),
    path("<int:pk>/", views.icp_detail, name="icp-detail"),
    path("<int:pk>/edit/", views.icp_update, name="icp-update"),
    path("<int:pk>/criteria/", views.criterion_create, name="criterion-create"),
    path(
        "<int:pk>/criteria/<int:criterion_pk>/delete/",
        views.criterion_delete,
        name="criterion-delete",
    ),
    path("<int:pk>/preview/", views.icp_preview, name="icp-preview"),
]

urlpatterns += [
    path("suggestions/", views.icp_suggestions, name="icp-suggestions"),
    path("suggestions/preview/", views.icp_suggestion_preview, name="icp-suggestion-preview"),
    path("suggestions/add/", views.icp_suggestion_add, name="icp-suggestion-add"),
]
