from django.urls import path, re_path

from layers.audits.api.assessment_views import AssessmentExportView, AssessmentView
from layers.audits.api.views import AuditRunDetailView, AuditRunListView, FindingsExportJobView, FindingsExportView

urlpatterns = [
    path("audits/", AuditRunListView.as_view(), name="audit-runs"),
    path("audits/<int:pk>/", AuditRunDetailView.as_view(), name="audit-run"),
    path("audits/<int:pk>/exports/", FindingsExportJobView.as_view(), name="audit-findings-export-job"),
    re_path(
        r"^audits/(?P<pk>[0-9]+)/findings\.(?P<fmt>xlsx|csv)$",
        FindingsExportView.as_view(),
        name="audit-findings-export",
    ),
    path("assessments/", AssessmentView.as_view(), name="assessments"),
    re_path(r"^assessments/export\.(?P<fmt>xlsx|csv)$", AssessmentExportView.as_view(), name="assessments-export"),
]
