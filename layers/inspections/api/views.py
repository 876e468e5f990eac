"""The inspections layer's API: points, patrols with track uploads and check-ins, the ledger,
schedules with who missed them, and patrol coverage per grid."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.crs import WGS84
from common.idempotency import IdempotentWrites
from common.scopes import request_scope, visible
from common.viewsets import GeoJsonListing, ScopedRows, current_values_with
from layers.accounts.permissions import SignedIn
from layers.inspections import selectors, services
from layers.inspections.api.serializers import (
    CheckInInputSerializer,
    CheckInSerializer,
    CoverageQuerySerializer,
    CoverageRowSerializer,
    InspectionCategorySerializer,
    InspectionPointSerializer,
    LedgerQuerySerializer,
    LedgerRowSerializer,
    PatrolScheduleDaySerializer,
    PatrolScheduleSerializer,
    PatrolSerializer,
    TrackUploadSerializer,
    WeekQuerySerializer,
)
from layers.inspections.models import InspectionCategory, Patrol, PatrolSchedule
from layers.inspections.permissions import (
    IsPatrolOfficerOrSupervisor,
    IsSupervisorOrReadOnly,
    is_supervisor,
    person_of,
)
from layers.inspections.tracks import TrackError, read_geojson, read_gpx, read_upload


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The kinds of inspection point."""

    serializer_class = InspectionCategorySerializer
    queryset = InspectionCategory.objects.all()
    lookup_field = "code"
    pagination_class = None


class PointViewSet(IdempotentWrites, GeoJsonListing, viewsets.ModelViewSet):
    """Inspection points as GeoJSON; filter by category__code, street__code, grid__code, in_bbox."""

    serializer_class = InspectionPointSerializer
    permission_classes = [IsSupervisorOrReadOnly]
    scope_kind = "point"
    queryset = selectors.points_list()
    bbox_filter_include_overlapping = False
    filterset_fields = {
        "category__code": ["exact"],
        "street__code": ["exact"],
        "grid__code": ["exact", "startswith"],
        "is_active": ["exact"],
    }

    def perform_create(self, serializer):
        serializer.instance = services.save_point(**serializer.validated_data)

    def perform_update(self, serializer):
        point = serializer.instance
        fields = current_values_with(
            point, ["name", "category", "location", "street", "task_group"], serializer.validated_data
        )
        serializer.instance = services.save_point(point=point, **fields)


def _read_track(data: dict):
    srs = data.get("srs") or WGS84
    if data.get("file") is not None:
        upload = data["file"]
        if upload.size > settings.GRIDGIS.get("TRACK_MAX_BYTES", 5_000_000):
            raise TrackError(f"the file has {upload.size} bytes; at most {settings.GRIDGIS['TRACK_MAX_BYTES']}")
        return read_upload(upload.name, upload.read(), srs)
    if data.get("gpx"):
        return read_gpx(data["gpx"])
    return read_geojson(data["track"], srs)


class PatrolViewSet(
    IdempotentWrites,
    GeoJsonListing,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Patrols as GeoJSON (geometry = track); filter by officer, grid__code, schedule, in_bbox.
    PATCH sets the end time or the note; the track comes through POST track/."""

    serializer_class = PatrolSerializer
    permission_classes = [IsPatrolOfficerOrSupervisor]
    scope_kind = "patrol"
    queryset = selectors.patrols_list()
    filterset_fields = {
        "officer": ["exact"],
        "grid__code": ["exact", "startswith"],
        "schedule": ["exact"],
        "started_at": ["gte", "lt"],
    }

    def perform_create(self, serializer):
        officer = serializer.validated_data["officer"]
        person = person_of(self.request.user)
        if not is_supervisor(self.request.user) and (person is None or person.pk != officer.pk):
            raise PermissionDenied("an officer records only their own patrols")
        serializer.instance = services.start_patrol(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        fixed = set(serializer.validated_data) - {"ended_at", "note"}
        if fixed:
            raise ValidationError({name: "cannot be changed after the patrol is recorded" for name in sorted(fixed)})
        serializer.instance = services.update_patrol(patrol=serializer.instance, **serializer.validated_data)

    @extend_schema(request=TrackUploadSerializer, responses=PatrolSerializer)
    @action(detail=True, methods=["post"])
    def track(self, request, pk=None):
        """Upload the GPS track: GeoJSON LineString/MultiLineString or GPX; malformed ones get a 400 saying why."""
        data = TrackUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            track = _read_track(data.validated_data)
        except TrackError as exc:
            raise ValidationError({"track": str(exc)}) from None
        patrol = services.attach_track(patrol=self.get_object(), track=track, by=request.user)
        return Response(PatrolSerializer(patrol).data)

    @extend_schema(
        request={"application/json": CheckInInputSerializer, "multipart/form-data": CheckInInputSerializer},
        responses=CheckInSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="check-ins",
    )
    def check_ins(self, request, pk=None):
        """GET: the patrol's check-ins. POST: check in at a point, within the allowed distance of it."""
        patrol = self.get_object()
        if request.method == "GET":
            return Response(CheckInSerializer(selectors.check_ins_of(patrol), many=True).data)
        data = CheckInInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        check_in = services.check_in(
            patrol=patrol,
            point=values["inspection_point"],
            location=values["point"],
            checked_at=values.get("checked_at"),
            note=values["note"],
            photo=values.get("photo"),
            by=request.user,
        )
        return Response(CheckInSerializer(check_in).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[LedgerQuerySerializer], responses=LedgerRowSerializer(many=True))
    @action(detail=False, methods=["get"])
    def ledger(self, request):
        """Patrols per officer, grid and week: patrols, check-ins, metres walked, hours."""
        query = LedgerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = timezone.localdate()
        since_day = query.validated_data.get("since") or (today - datetime.timedelta(days=today.weekday() + 21))
        until_day = query.validated_data.get("until") or today
        since = timezone.make_aware(datetime.datetime.combine(since_day, datetime.time()))
        until = timezone.make_aware(datetime.datetime.combine(until_day + datetime.timedelta(days=1), datetime.time()))
        rows = selectors.patrol_ledger(
            since=since,
            until=until,
            officer_id=query.validated_data.get("officer"),
            grid_code=query.validated_data.get("grid"),
            patrols=visible("patrol", Patrol.objects.all(), request_scope(request)),
        )
        return Response(LedgerRowSerializer(rows, many=True).data)


class ScheduleViewSet(IdempotentWrites, ScopedRows, viewsets.ModelViewSet):
    """Weekly patrol schedules ("walk the courtyards" every Tuesday); GET {id}/attendance/ for who missed it."""

    serializer_class = PatrolScheduleSerializer
    permission_classes = [IsSupervisorOrReadOnly]
    scope_kind = "schedule"
    queryset = PatrolSchedule.objects.select_related("scope")

    def perform_create(self, serializer):
        serializer.instance = services.create_schedule(**serializer.validated_data)

    @extend_schema(parameters=[WeekQuerySerializer], responses=PatrolScheduleDaySerializer)
    @action(detail=True, methods=["get"])
    def attendance(self, request, pk=None):
        """The scheduled day of the given week: the officers who walked and those who missed it."""
        query = WeekQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = selectors.schedule_day(self.get_object(), query.validated_data.get("week"), scope=request_scope(request))
        return Response(PatrolScheduleDaySerializer(day).data)


class CoverageView(APIView):
    """Patrol coverage per grid: the share of each grid's area within 30 m of a track of the last N days
    (the grids of the reader's scope)."""

    permission_classes = [SignedIn]

    @extend_schema(parameters=[CoverageQuerySerializer], responses=CoverageRowSerializer(many=True))
    def get(self, request):
        query = CoverageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.patrol_coverage(
            code_prefix=query.validated_data.get("grid") or "",
            level=query.validated_data["level"],
            days=query.validated_data.get("days"),
            scope_patterns=request_scope(request).code_patterns("point"),
        )
        return Response(CoverageRowSerializer(rows, many=True).data)
