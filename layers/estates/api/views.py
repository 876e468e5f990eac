"""The estates layer's API: estates, renovation projects (overlay, totals, status), work items and
residents' suggestions. Views validate, call a selector or a service, and serialise."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from common.geometry import extent_problem
from common.idempotency import IdempotentWrites
from common.scopes import request_scope
from common.viewsets import GeoJsonListing, ScopedRows, current_values_with
from layers.accounts.permissions import SignedIn
from layers.estates import selectors, services
from layers.estates.api.serializers import (
    AnswerSerializer,
    EstateSerializer,
    OverlayQuerySerializer,
    OverlaySerializer,
    ProjectSerializer,
    StatusChangeInputSerializer,
    StatusChangeSerializer,
    SuggestionSerializer,
    TotalsQuerySerializer,
    WorkItemSerializer,
)
from layers.estates.models import ResidentSuggestion, WorkItem
from layers.estates.permissions import IsPlanner, IsPlannerOrReadOnly


class PlanLayerViewSet(IdempotentWrites, GeoJsonListing, viewsets.ModelViewSet):
    """A mapped layer of the renovation plan (estates, footprints, work items) as GeoJSON: whoever's
    scope holds a row reads it, planners write."""

    permission_classes = [IsPlannerOrReadOnly]


class EstateViewSet(PlanLayerViewSet):
    """Estates (小区) as GeoJSON; filter by community, management_type, in_bbox."""

    serializer_class = EstateSerializer
    scope_kind = "estate"
    queryset = selectors.estates_list()
    filterset_fields = {
        "community__code": ["exact", "startswith"],
        "management_type": ["exact"],
        "has_owners_committee": ["exact"],
        "has_party_organisation": ["exact"],
    }

    def perform_create(self, serializer):
        serializer.instance = services.create_estate(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_estate(estate=serializer.instance, **serializer.validated_data)


class RenovationProjectViewSet(PlanLayerViewSet):
    """Renovation projects as GeoJSON; filter by batch, status, in_bbox. Status moves via POST status/."""

    serializer_class = ProjectSerializer
    scope_kind = "project"
    queryset = selectors.projects_list()
    filterset_fields = ["batch", "status"]

    def perform_create(self, serializer):
        project = services.create_project(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=project.pk)  # with its estates' figures

    def perform_update(self, serializer):
        project = services.update_project(project=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=project.pk)

    @extend_schema(parameters=[OverlayQuerySerializer], responses=OverlaySerializer)
    @action(detail=True, methods=["get"])
    def overlay(self, request, pk=None):
        """Grids, leaders, departments, open cases and conflicting projects under the footprint."""
        query = OverlayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        buffer_m = query.validated_data.get("buffer")
        if buffer_m is not None and buffer_m > selectors.overlay_buffer_max():
            raise ValidationError({"buffer": f"at most {selectors.overlay_buffer_max():g} metres"})
        project = self.get_object()
        # A footprint stored before the limit (or by the admin) is held to it here, with its buffer.
        problem = extent_problem(project.footprint, grown_by_m=buffer_m or selectors.overlay_buffer_default())
        if problem:
            raise ValidationError({"footprint": f"too large for an overlay: {problem}"})
        overlay = selectors.project_overlay(
            project, buffer_m=buffer_m, on=query.validated_data.get("on"), scope=request_scope(request)
        )
        return Response(OverlaySerializer(overlay).data)

    @extend_schema(request=ProjectSerializer, responses=OverlaySerializer)
    @action(detail=False, methods=["post"], url_path="overlay-preview")
    def overlay_preview(self, request):
        """What a footprint would touch, before it is saved: the body is a project as POST (or, with
        ?project=ID, the changes a PATCH of that project would make); the same checks and the same
        overlay as after saving, in a transaction rolled back, so nothing is stored."""
        existing = None
        if request.query_params.get("project"):
            existing = self.get_queryset().filter(pk=request.query_params["project"]).first()
            if existing is None:
                raise ValidationError({"project": "no such project among the projects you may see"})
        serializer = self.get_serializer(existing, data=request.data, partial=existing is not None)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            if existing is None:
                project = services.create_project(by=request.user, **serializer.validated_data)
            else:
                project = services.update_project(project=existing, **serializer.validated_data)
            body = OverlaySerializer(selectors.project_overlay(project, scope=request_scope(request))).data
            transaction.set_rollback(True)
        body["project"]["id"] = existing.pk if existing else None  # a new one has no id until it is saved
        return Response(body)

    @extend_schema(parameters=[TotalsQuerySerializer])
    @action(detail=False, methods=["get"])
    def totals(self, request):
        """Totals per batch and/or status: households, buildings, budget, pipe metres, parking spaces ..."""
        query = TotalsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        projects = self.filter_queryset(self.get_queryset())
        return Response(
            {
                "group": query.validated_data["group"],
                "rows": selectors.renovation_totals(projects, query.validated_data["group"]),
            }
        )

    @extend_schema(request=StatusChangeInputSerializer, responses=StatusChangeSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        """Move the project to another status; who and when are recorded."""
        data = StatusChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.change_project_status(
            project=self.get_object(),
            to_status=data.validated_data["status"],
            by=request.user,
            note=data.validated_data["note"],
        )
        return Response(StatusChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every status the project has had, with who set it and when."""
        changes = self.get_object().status_changes.select_related("changed_by").order_by("changed_at", "id")
        return Response(StatusChangeSerializer(changes, many=True).data)


class WorkItemViewSet(PlanLayerViewSet):
    """Work items as GeoJSON (geometry may be null); filter by project, kind."""

    serializer_class = WorkItemSerializer
    scope_kind = "work_item"
    queryset = WorkItem.objects.select_related("project")
    filterset_fields = ["project", "kind"]

    def perform_create(self, serializer):
        serializer.instance = services.save_work_item(**serializer.validated_data)

    def perform_update(self, serializer):
        item = serializer.instance
        fields = current_values_with(
            item, ["project", "kind", "quantity", "unit", "geometry", "description"], serializer.validated_data
        )
        serializer.instance = services.save_work_item(item=item, **fields)


class SuggestionViewSet(
    IdempotentWrites,
    ScopedRows,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Residents' suggestions; filter by estate, project, status. Answer via POST answer/."""

    serializer_class = SuggestionSerializer
    permission_classes = [SignedIn]
    scope_kind = "suggestion"
    queryset = ResidentSuggestion.objects.select_related("answered_by")
    filterset_fields = ["estate", "project", "status"]

    def perform_create(self, serializer):
        serializer.instance = services.create_suggestion(**serializer.validated_data)

    @extend_schema(request=AnswerSerializer, responses=SuggestionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsPlanner])
    def answer(self, request, pk=None):
        """Answer the suggestion; who answered and when are recorded."""
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        suggestion = services.answer_suggestion(suggestion=self.get_object(), by=request.user, **data.validated_data)
        return Response(SuggestionSerializer(suggestion).data)
