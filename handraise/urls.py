from __future__ import annotations

from django.urls import path

from handraise import views

# Public: the salesperson's page and its embeddable form, at their unguessable token.
urlpatterns = [
    path("<str:token>/", views.public_page, name="public-page"),
    path("<str:token>/thanks/", views.public_page_thanks, name="public-page-thanks"),
    path("<str:token>/embed/", views.public_page_embed, name="public-page-embed"),
    path(
        "<str:token>/embed/thanks/",
        views.public_page_embed_thanks,
        name="public-page-embed-thanks",
    ),
]
