from __future__ import annotations

from django.urls import path

from handraise import views

# Public: the salesperson's page and its embeddable form, at their unguessable token.
urlpatterns = [
    # The visitor's own booking, at its unguessable cancel token (first: "booking" is no page).
    path("booking/<str:cancel_token>/", views.booking_manage, name="booking-manage"),
    path(
        "booking/<str:cancel_token>/confirmed/",
        views.booking_confirmed,
        name="booking-confirmed",
    ),
    path("booking/<str:cancel_token>/cancel/", views.booking_cancel, name="booking-cancel"),
    path("booking/<str:cancel_token>/erase/", views.booking_erase, name="booking-erase"),
    path("<str:token>/", views.public_page, name="public-page"),
    path("<str:token>/book/", views.booking_new, name="booking-new"),
    path("<str:token>/thanks/", views.public_page_thanks, name="public-page-thanks"),
    path("<str:token>/embed/", views.public_page_embed, name="public-page-embed"),
    path(
        "<str:token>/embed/thanks/",
        views.public_page_embed_thanks,
        name="public-page-embed-thanks",
    ),
]
