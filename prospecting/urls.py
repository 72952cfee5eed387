from __future__ import annotations

from django.urls import path

from prospecting import views

urlpatterns = [
    path("", views.lookalikes, name="prospect-lookalikes"),
    path("<int:pk>/reconnect/", views.lookalike_add, name="prospect-lookalike-add"),
    path("who/", views.warm_paths, name="prospect-warm-paths"),
    path("who/ask/", views.warm_path_ask, name="prospect-warm-path-ask"),
]
