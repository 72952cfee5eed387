from __future__ import annotations

from django.urls import path

from handraise import views

# Settings → Public page (the salesperson's own, logged in).
urlpatterns = [
    path("", views.public_page_settings, name="public-page-settings"),
    path("booking/", views.public_page_booking_settings, name="public-page-booking-settings"),
    path("regenerate/", views.public_page_regenerate, name="public-page-regenerate"),
]
