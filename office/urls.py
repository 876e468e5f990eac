"""The office screens, every one under /office/."""

from django.urls import path

from office import views

urlpatterns = [
    path("office/", views.home, name="office-home"),
    path("office/dispatch/", views.dispatch, name="office-dispatch"),
    path("office/inbox/", views.inbox, name="office-inbox"),
    path("office/dashboard/", views.dashboard_view, name="office-dashboard"),
    path("office/wall/", views.wall, name="office-wall"),
    path("office/audits/", views.audits, name="office-audits"),
    path("office/assessment/", views.assessment, name="office-assessment"),
    path("office/assessment/notice/", views.notice, name="office-notice"),
    path("office/planning/", views.planning, name="office-planning"),
]
