from __future__ import annotations

from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.referral_list, name="referral-list"),
    path("add/", views.referral_create, name="referral-create"),
    path("referrers/", views.referrer_search, name="referrer-search"),
    path("<int:pk>/", views.referral_detail, name="referral-detail"),
    path("<int:pk>/edit/", views.referral_update, name="referral-update"),
    path("<int:pk>/ask/", views.referral_ask, name="referral-ask"),
    path("today/", views.referral_today, name="referral-today"),
    path("today/<int:pk>/ask/", views.referral_today_ask, name="referral-today-ask"),
    path("asks/<int:pk>/outcome/", views.referral_ask_outcome, name="referral-ask-outcome"),
    path("asks/<int:pk>/add-leads/", views.referral_ask_add_leads, name="referral-ask-add-leads"),
]
