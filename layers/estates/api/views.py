"""The estates layer's API: estates, renovation projects (overlay, totals, status), work items and
residents' suggestions. Views validate, call a selector or a service, and serialise."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from common.idempotency import IdempotentWrites
from common.listing import LimitedGeoJsonPagination, SafeInBBoxFilter
from common.scopes import request_scope, visible
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


class GeoPagination(LimitedGeoJsonPagination):
    page_size = 100
    max_page_size = 1000


class EstateViewSet(IdempotentWrites, viewsets.ModelViewSet):
    """Estates (小区) as GeoJSON; filter by community, management_type, in_bbox."""

    serializer_class = EstateSerializer
    permission_classes = [IsPlannerOrReadOnly]
    pagination_class = GeoPagination
    filter_backends = [DjangoFilterBackend, SafeInBBoxFilter]
    bbox_filter_field = "boundary"
    bbox_filter_include_overlapping = True
    filterset_fields = {
        "community__code": ["exact", "startswith"],
        "management_type": ["exact"],
        "has_owners_committee": ["exact"],
        "has_party_organisation": ["exact"],
    }

    def get_queryset(self):
        return visible("estate", selectors.estates_list(), request_scope(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.create_estate(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_estate(estate=serializer.instance, **serializer.validated_data)


class RenovationProjectViewSet(IdempotentWrites, viewsets.ModelViewSet):
    """Renovation projects as GeoJSON; filter by batch, status, in_bbox. Status moves via POST status/."""

    serializer_class = ProjectSerializer
    permission_classes = [IsPlannerOrReadOnly]
    pagination_class = GeoPagination
    filter_backends = [DjangoFilterBackend, SafeInBBoxFilter]
    bbox_filter_field = "footprint"
    bbox_filter_include_overlapping = True
    filterset_fields = ["batch", "status"]

    def get_queryset(self):
        return visible("project", selectors.projects_list(), request_scope(self.request))

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
        overlay = selectors.project_overlay(
            self.get_object(), buffer_m=buffer_m, on=query.validated_data.get("on"), scope=request_scope(request)
        )
        return Response(OverlaySerializer(overlay).data)

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


class WorkItemViewSet(IdempotentWrites, viewsets.ModelViewSet):
    """Work items as GeoJSON (geometry may be null); filter by project, kind."""

    serializer_class = WorkItemSerializer
    permission_classes = [IsPlannerOrReadOnly]
    pagination_class = GeoPagination
    filter_backends = [DjangoFilterBackend, SafeInBBoxFilter]
    bbox_filter_field = "geometry"
    bbox_filter_include_overlapping = True
    filterset_fields = ["project", "kind"]

    def get_queryset(self):
        return visible("work_item", WorkItem.objects.select_related("project"), request_scope(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.save_work_item(**serializer.validated_data)

    def perform_update(self, serializer):
        fields = {
            "project": serializer.instance.project,
            "kind": serializer.instance.kind,
            "quantity": serializer.instance.quantity,
            "unit": serializer.instance.unit,
            "geometry": serializer.instance.geometry,
            "description": serializer.instance.description,
        }
        fields.update(serializer.validated_data)
        serializer.instance = services.save_work_item(item=serializer.instance, **fields)


class SuggestionViewSet(
    IdempotentWrites, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Residents' suggestions; filter by estate, project, status. Answer via POST answer/."""

    serializer_class = SuggestionSerializer
    permission_classes = [SignedIn]
    filterset_fields = ["estate", "project", "status"]

    def get_queryset(self):
        return visible(
            "suggestion", ResidentSuggestion.objects.select_related("answered_by"), request_scope(self.request)
        )

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
