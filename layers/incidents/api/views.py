"""The incidents API: intake, GeoJSON listing, case detail with trail, one action per workflow step."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import IdempotentWrites, key_of
from common.listing import LimitedGeoJsonPagination, SafeInBBoxFilter
from common.scopes import request_scope
from common.text import is_ascii_number
from layers.accounts.permissions import SignedIn
from layers.incidents import permissions, selectors, services
from layers.incidents.api.serializers import (
    CaseDetailSerializer,
    CaseFeatureSerializer,
    CategorySerializer,
    IntakeSerializer,
    TrailEntrySerializer,
    TransitionSerializer,
)
from layers.incidents.models import OPEN_STATUSES, Case, Category, EscalationLevel, Status, TrailEntry


def visible_case_or_404(request, pk: int, cases=None) -> Case:
    """The case `pk` if the request's user may see it; else 404 with a message that does not say
    whether the case exists (issue 7: no leak of another grid's or department's cases)."""
    found = selectors.visible_cases(request_scope(request), cases).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"id: no case {pk} among the cases you may see")
    return found


def case_context(request) -> dict:
    """Serializer context for case answers: readers without a staff role get no people (see
    serializers.STAFF_ONLY_CASE_FIELDS)."""
    return {"request": request, "public": not request_scope(request).is_staff}


class ScopedCaseSerializers:
    """Generic views' serializers get case_context()."""

    def get_serializer_context(self):
        return {**super().get_serializer_context(), **case_context(self.request)}


class CasePagination(LimitedGeoJsonPagination):
    """GeoJSON pages; `page_size` may be asked for, up to GRIDGIS CASE_MAX_PAGE_SIZE."""

    page_size = settings.GRIDGIS["CASE_PAGE_SIZE"]
    page_size_query_param = "page_size"
    max_page_size = settings.GRIDGIS["CASE_MAX_PAGE_SIZE"]


class CaseFilter(django_filters.FilterSet):
    """Filters of the case list; a major category or a grid code selects everything below it."""

    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    category = django_filters.CharFilter(method="filter_category", help_text="category code (a major: all minors)")
    grid = django_filters.CharFilter(method="filter_grid", help_text="grid code: cases in that grid's subtree")
    department = django_filters.CharFilter(field_name="department__code")
    district = django_filters.CharFilter(field_name="district_code")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    escalation_level = django_filters.TypedChoiceFilter(choices=EscalationLevel.choices, coerce=int)
    dead_corner = django_filters.BooleanFilter()
    near_edge = django_filters.BooleanFilter()
    reported_after = django_filters.IsoDateTimeFilter(field_name="reported_at", lookup_expr="gte")
    reported_before = django_filters.IsoDateTimeFilter(field_name="reported_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = []

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category__code=value) | Q(category__parent__code=value))

    def filter_grid(self, queryset, name, value):
        return selectors.in_grid_subtree(queryset, value)

    def filter_overdue(self, queryset, name, value):
        late = Q(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)


class CaseBBoxFilter(SafeInBBoxFilter):
    bbox_param = "in_bbox"


class CaseListCreateView(IdempotentWrites, ScopedCaseSerializers, generics.ListCreateAPIView):
    """GET: cases as a GeoJSON FeatureCollection. POST: report a case (JSON or multipart with photos).

    POST takes an `Idempotency-Key` header (common/idempotency.py): a retry with the same key gets the
    first answer again instead of creating a second case.
    """

    serializer_class = CaseFeatureSerializer
    pagination_class = CasePagination
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, CaseBBoxFilter]
    filterset_class = CaseFilter
    bbox_filter_field = "location"
    bbox_filter_include_overlapping = True

    def get_permissions(self):
        # Anyone may report (as Open311 lets them); reading the list needs a sign-in and shows the
        # cases of the reader's scope.
        return [] if self.request.method == "POST" else [SignedIn()]

    def get_queryset(self):
        return selectors.visible_cases(request_scope(self.request)).order_by("-reported_at", "-id")

    @property
    def throttle_scope(self) -> str | None:
        """Reporting is throttled under the "intake" rate on top of the per-IP and per-user ones."""
        return "intake" if getattr(self, "request", None) is not None and self.request.method == "POST" else None

    @extend_schema(
        request={"application/json": IntakeSerializer, "multipart/form-data": IntakeSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="makes retries safe: the same key gets the first answer again (see the README)",
            )
        ],
        responses={201: CaseFeatureSerializer},
    )
    def post(self, request, *args, **kwargs):
        data = request.data
        if hasattr(data, "getlist"):
            data = {key: data.get(key) for key in data if key != "photos"}
            data["photos"] = request.FILES.getlist("photos")
        intake = IntakeSerializer(data=data)
        intake.is_valid(raise_exception=True)
        values = dict(intake.validated_data)
        source = permissions.reporting_source(request_scope(request))
        if values.pop("source", source) != source:
            raise ValidationError({"source": f"set from who is signed in: this report comes from {source}"})
        case, _ = services.report_case(
            category=values.pop("category"),
            point=values.pop("point"),
            photos=values.pop("photos", []),
            source=source,
            reporter=request.user if request.user.is_authenticated else None,
            idempotency_key=key_of(request),
            **values,
        )
        # A new case already holds its category, grid, department and people from the assignment.
        response = Response(
            CaseFeatureSerializer(case, context=case_context(request)).data, status=status.HTTP_201_CREATED
        )
        response["ETag"] = case.etag
        response["Location"] = f"/api/v1/incidents/{case.pk}/"
        return response


class CaseDetailView(ScopedCaseSerializers, generics.RetrieveAPIView):
    """One case with its photos and its trail (who, when, from, to, note, photo), oldest first."""

    serializer_class = CaseDetailSerializer
    permission_classes = [SignedIn]

    def get_object(self):
        # Out of the reader's scope reads as not there at all (404), not as forbidden.
        return visible_case_or_404(
            self.request, self.kwargs["pk"], selectors.case_queryset().prefetch_related("trail__photo", "photos")
        )

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        response = Response(self.get_serializer(case).data)
        response["ETag"] = case.etag
        return response


class CaseTrailView(ScopedCaseSerializers, generics.ListAPIView):
    """A case's trail, oldest first."""

    serializer_class = TrailEntrySerializer
    pagination_class = None
    permission_classes = [SignedIn]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting the view
            return TrailEntry.objects.none()
        case = visible_case_or_404(self.request, self.kwargs["pk"], Case.objects.all())
        return case.trail.select_related("photo").order_by("at", "id")


class WorkflowRefused(APIException):
    status_code = 409
    default_detail = "refused"


def _version_from(request, body_version: int | None) -> int | None:
    if body_version is not None:
        return body_version
    header = request.headers.get("If-Match", "").strip().strip('"').removeprefix("W/").strip('"')
    if not header:
        return None
    if not is_ascii_number(header):
        raise ValidationError({"If-Match": 'must be the case\'s ETag, e.g. "3"'})
    return int(header)


class CaseTransitionView(IdempotentWrites, APIView):
    """One workflow step on a case (the URL names it); refuses with 409 if impossible or stale."""

    action_name = ""
    permission_classes = [SignedIn]

    def get_serializer(self, *args, **kwargs):
        return TransitionSerializer(*args, **kwargs)

    def post(self, request, pk: int):
        # A case the user cannot see is not there for them (404); one they see but may not move in
        # this way is refused by the workflow (403, saying which role may).
        case = visible_case_or_404(request, pk, Case.objects.only("id"))
        form = TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        try:
            services.transition(
                case_id=case.pk,
                action=self.action_name,
                user=request.user,
                version=_version_from(request, values.get("version")),
                note=values.get("note", ""),
                photo=values.get("photo"),
                department=values.get("department"),
            )
        except services.WorkflowError as exc:
            if exc.status == 400:
                raise ValidationError({exc.field or "detail": str(exc).split(": ", 1)[-1]}) from exc
            error = WorkflowRefused(str(exc))
            error.status_code = exc.status
            raise error from exc
        fresh = selectors.case_queryset().prefetch_related("trail__photo", "photos").get(pk=case.pk)
        response = Response(CaseDetailSerializer(fresh, context=case_context(request)).data)
        response["ETag"] = fresh.etag
        return response


def transition_view(action: str):
    """A CaseTransitionView for `action`, documented as its own operation."""
    step = services.TRANSITIONS[action]
    doc = (
        f"{action}: {' or '.join(step.sources)} → {step.target} (role: {step.role})"
        f"{'; note required' if step.needs_note else ''}{'; after-photo required' if step.needs_photo else ''}"
    )

    def post(self, request, pk: int):
        return CaseTransitionView.post(self, request, pk)

    view = type(f"Case{action.title()}View", (CaseTransitionView,), {"action_name": action, "__doc__": doc})
    view.post = extend_schema(
        operation_id=f"incidents_{action}",
        request={"application/json": TransitionSerializer, "multipart/form-data": TransitionSerializer},
        responses={200: CaseDetailSerializer},
        parameters=[
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="the ETag of the case as read (alternative to version)",
            )
        ],
        description=doc,
    )(post)
    return view


class OverdueView(ScopedCaseSerializers, generics.ListAPIView):
    """Overdue open cases as GeoJSON, filterable by escalation `level`; `counts` per level in the header."""

    serializer_class = CaseFeatureSerializer
    pagination_class = CasePagination
    permission_classes = [SignedIn]
    filter_backends = [CaseBBoxFilter]
    bbox_filter_field = "location"
    bbox_filter_include_overlapping = True

    @extend_schema(parameters=[OpenApiParameter("level", int, description="escalation rung 0-4")])
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        counts = selectors.overdue_by_level(cases=selectors.visible_cases(request_scope(request)))
        response["X-Overdue-By-Level"] = ",".join(f"{level}={counts.get(level, 0)}" for level in range(5))
        return response

    def get_queryset(self):
        queryset = selectors.overdue(cases=selectors.visible_cases(request_scope(self.request))).order_by(
            "-escalation_level", "due_at", "id"
        )
        level = self.request.query_params.get("level")
        if level not in (None, ""):
            if level not in {"0", "1", "2", "3", "4"}:
                raise ValidationError({"level": "must be 0-4"})
            queryset = queryset.filter(escalation_level=int(level))
        return queryset


class OverdueSummaryView(APIView):
    """How many overdue cases of the reader's scope sit on each rung of the ladder."""

    permission_classes = [SignedIn]

    @extend_schema(
        responses=inline_serializer(
            "OverdueSummary",
            {
                "levels": serializers.ListField(
                    child=inline_serializer(
                        "OverdueLevel",
                        {
                            "level": serializers.IntegerField(),
                            "name": serializers.CharField(),
                            "count": serializers.IntegerField(),
                        },
                    )
                )
            },
        )
    )
    def get(self, request):
        counts = selectors.overdue_by_level(cases=selectors.visible_cases(request_scope(request)))
        return Response(
            {
                "levels": [
                    {"level": level.value, "name": level.label, "count": counts.get(level.value, 0)}
                    for level in EscalationLevel
                ]
            }
        )


class CategoryListView(generics.ListAPIView):
    """The category tree, majors and minors, with default departments and stage limits (clock hours)."""

    serializer_class = CategorySerializer
    pagination_class = None
    queryset = Category.objects.filter(is_active=True).select_related("parent", "default_department").order_by("code")
