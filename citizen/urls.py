"""The citizen's screens, under /report/."""

from django.urls import path

from citizen import views

urlpatterns = [
    path("", views.report_page, name="citizen-report"),
    path("follow/<str:token>/", views.follow_page, name="citizen-follow"),
]
