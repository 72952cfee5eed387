from __future__ import annotations

from django.urls import path

from team import views

urlpatterns = [
    path("", views.team_list, name="team"),
    path("add/", views.team_member_add, name="team-member-add"),
    path("<int:pk>/goal/", views.team_member_goal, name="team-member-goal"),
    path("<int:pk>/deactivate/", views.team_member_deactivate, name="team-member-deactivate"),
    path("settings/", views.team_settings_update, name="team-settings"),
    path("remove-demo/", views.demo_remove, name="team-demo-remove"),
]
