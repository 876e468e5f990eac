"""The officer app's URLs, under /field/ (the service worker's scope)."""

from django.urls import path

from field import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="field-home"),
    path("report/", views.ReportView.as_view(), name="field-report"),
    path("patrol/", views.PatrolView.as_view(), name="field-patrol"),
    path("task/", views.TaskView.as_view(), name="field-task"),
    path("queue/", views.QueueView.as_view(), name="field-queue"),
    path("data/", views.HomeDataView.as_view(), name="field-data"),
    path("data/nearby/", views.NearbyView.as_view(), name="field-nearby"),
    path("manifest.webmanifest", views.manifest, name="field-manifest"),
    path("icon-<int:size>.png", views.icon, name="field-icon"),
    path("sw.js", views.ServiceWorkerView.as_view(), name="field-sw"),
]
