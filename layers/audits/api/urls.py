from django.urls import path, re_path

from layers.audits.api.views import AuditRunDetailView, AuditRunListView, FindingsExportView

urlpatterns = [
    path("audits/", AuditRunListView.as_view(), name="audit-runs"),
    path("audits/<int:pk>/", AuditRunDetailView.as_view(), name="audit-run"),
    re_path(r"^audits/(?P<pk>[0-9]+)/findings\.(?P<fmt>xlsx|csv)$", FindingsExportView.as_view(),
            name="audit-findings-export"),
]
