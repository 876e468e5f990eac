"""URLs of the incidents API, under /api/v1/."""

from django.urls import path

from layers.incidents.api import clock_requests, views
from layers.incidents.services import TRANSITIONS

urlpatterns = [
    path("incidents/", views.CaseListCreateView.as_view(), name="incidents"),
    path("incidents/categories/", views.CategoryListView.as_view(), name="incident-categories"),
    path("incidents/overdue/", views.OverdueView.as_view(), name="incidents-overdue"),
    path("incidents/overdue/summary/", views.OverdueSummaryView.as_view(), name="incidents-overdue-summary"),
    path("incidents/suspended/", clock_requests.SuspendedView.as_view(), name="incidents-suspended"),
    path("incidents/requests/", clock_requests.RequestQueueView.as_view(), name="incident-requests-queue"),
    path(
        "incidents/requests/<int:rid>/approve/",
        clock_requests.decision_view(True).as_view(),
        name="incident-request-approve",
    ),
    path(
        "incidents/requests/<int:rid>/refuse/",
        clock_requests.decision_view(False).as_view(),
        name="incident-request-refuse",
    ),
    path(
        "incidents/supervision/<int:oid>/reply/",
        clock_requests.SupervisionReplyView.as_view(),
        name="incident-supervision-reply",
    ),
    path("incidents/<int:pk>/", views.CaseDetailView.as_view(), name="incident"),
    path("incidents/<int:pk>/requests/", clock_requests.CaseRequestsView.as_view(), name="incident-requests"),
    path("incidents/<int:pk>/resume/", clock_requests.ResumeView.as_view(), name="incident-resume"),
    path("incidents/<int:pk>/supervise/", clock_requests.SuperviseView.as_view(), name="incident-supervise"),
    path("incidents/<int:pk>/trail/", views.CaseTrailView.as_view(), name="incident-trail"),
    *[
        path(f"incidents/<int:pk>/{action}/", views.transition_view(action).as_view(), name=f"incident-{action}")
        for action in TRANSITIONS
    ],
]
