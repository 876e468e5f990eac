"""URLs of the incidents API, under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from layers.incidents.api import clock_requests, photo_views, views
from layers.incidents.services import TRANSITIONS

phrases = SimpleRouter()
phrases.register("incidents/phrases", views.CannedPhraseViewSet, basename="incident-phrase")

urlpatterns = [
    *[
        path(
            f"incidents/bulk/{action}/",
            views.BulkTransitionView.as_view(action_name=action),
            name=f"incidents-bulk-{action}",
        )
        for action, step in TRANSITIONS.items()
        if not step.needs_photo
    ],
    *phrases.urls,
    path("incidents/", views.CaseListCreateView.as_view(), name="incidents"),
    path("incidents/categories/", views.CategoryListView.as_view(), name="incident-categories"),
    path("incidents/overdue/", views.OverdueView.as_view(), name="incidents-overdue"),
    path("incidents/receiver/", views.ReceiverView.as_view(), name="incidents-receiver"),
    path("incidents/nearby/", views.NearbyView.as_view(), name="incidents-nearby"),
    path("follow/", views.FollowNearbyCaseView.as_view(), name="follow-new"),
    path("follow/<str:token>/", views.FollowView.as_view(), name="follow"),
    path("incidents/overdue/summary/", views.OverdueSummaryView.as_view(), name="incidents-overdue-summary"),
    path("incidents/suspended/", clock_requests.SuspendedView.as_view(), name="incidents-suspended"),
    path("incidents/requests/", clock_requests.RequestQueueView.as_view(), name="incident-requests-queue"),
    path(
        "incidents/requests/<int:pk>/approve/",
        clock_requests.decision_view(True).as_view(),
        name="incident-request-approve",
    ),
    path(
        "incidents/requests/<int:pk>/refuse/",
        clock_requests.decision_view(False).as_view(),
        name="incident-request-refuse",
    ),
    path(
        "incidents/supervision/<int:pk>/reply/",
        clock_requests.SupervisionReplyView.as_view(),
        name="incident-supervision-reply",
    ),
    path("incidents/<int:pk>/", views.CaseDetailView.as_view(), name="incident"),
    path("incidents/<int:pk>/requests/", clock_requests.CaseRequestsView.as_view(), name="incident-requests"),
    path("incidents/<int:pk>/resume/", clock_requests.ResumeView.as_view(), name="incident-resume"),
    path("incidents/<int:pk>/supervise/", clock_requests.SuperviseView.as_view(), name="incident-supervise"),
    path("incidents/<int:pk>/trail/", views.CaseTrailView.as_view(), name="incident-trail"),
    path("incidents/<int:pk>/photos/<int:photo_id>/", photo_views.CasePhotoView.as_view(), name="incident-photo"),
    path(
        "incidents/<int:pk>/photos/<int:photo_id>/original/",
        photo_views.CaseOriginalPhotoView.as_view(),
        name="incident-photo-original",
    ),
    path("incidents/<int:pk>/grid/", views.CaseChangeGridView.as_view(), name="incident-grid"),
    *[
        path(f"incidents/<int:pk>/{action}/", views.transition_view(action).as_view(), name=f"incident-{action}")
        for action in TRANSITIONS
    ],
]
