from __future__ import annotations

from django.urls import path

from privacy import views

urlpatterns = [
    path(
        "leads/<int:pk>/personal-data/",
        views.lead_personal_data,
        name="lead-personal-data",
    ),
    path("leads/<int:pk>/erase/", views.lead_erase, name="lead-erase"),
]
