"""The officer app's URLs, under /field/ (the service worker's scope)."""

from django.urls import path

from field import views

urlpatterns = [
    path("", views.FieldScreen.as_view(screen="home"), name="field-home"),
    path("report/", views.FieldScreen.as_view(screen="report"), name="field-report"),
    path("patrol/", views.FieldScreen.as_view(screen="patrol"), name="field-patrol"),
    # One task: the case id is in ?case=, so that one cached shell serves every task offline.
    path("task/", views.FieldScreen.as_view(screen="task"), name="field-task"),
    path("queue/", views.FieldScreen.as_view(screen="queue"), name="field-queue"),
    path("data/", views.HomeDataView.as_view(), name="field-data"),
    path("data/nearby/", views.NearbyView.as_view(), name="field-nearby"),
    path("manifest.webmanifest", views.manifest, name="field-manifest"),
    path("icon-<int:size>.png", views.icon, name="field-icon"),
    path("sw.js", views.ServiceWorkerView.as_view(), name="field-sw"),
]
