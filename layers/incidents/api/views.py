"""The incidents API: intake, GeoJSON listing, case detail with trail, one action per workflow step."""

from __future__ import annotations

from contextlib import contextmanager

import django_filters
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status, viewsets
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import IdempotentWrites, key_of
from common.listing import LimitedGeoJsonPagination, SafeInBBoxFilter
from common.parsers import JSONParser
from common.scopes import request_scope
from common.text import is_ascii_number
from layers.accounts.permissions import SignedIn, writes_by
from layers.accounts.roles import DISPATCHER, SUPERVISOR
from layers.grids.models import Department, Grid
from layers.incidents import permissions, selectors, services
from layers.incidents.api.serializers import (
    CaseDetailSerializer,
    CaseFeatureSerializer,
    CategorySerializer,
    FollowedCaseSerializer,
    FollowRequestSerializer,
    IntakeSerializer,
    NearbyCaseSerializer,
    PointQuerySerializer,
    ReceiverSerializer,
    TrailEntrySerializer,
    TransitionSerializer,
)
from layers.incidents.models import OPEN_STATUSES, CannedPhrase, Case, Category, EscalationLevel, Status, TrailEntry


def visible_case_or_404(request, pk: int, cases=None) -> Case:
    """The case `pk` if the request's user may see it; else 404 with a message that does not say
    whether the case exists (issue 7: no leak of another grid's or department's cases)."""
    found = selectors.visible_cases(request_scope(request), cases).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"id: no case {pk} among the cases you may see")
    return found


def visible_case_and_input(request, pk: int, form_class, context: dict | None = None) -> tuple[Case, dict]:
    """The case `pk` as visible_case_or_404 finds it, and the request's body checked by `form_class`
    (400 saying which field is wrong): how every write on one case starts."""
    case = visible_case_or_404(request, pk, Case.objects.only("id"))
    form = form_class(data=request.data, context=context or {})
    form.is_valid(raise_exception=True)
    return case, form.validated_data


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
        source = permissions.reporting_source(request_scope(request))
        if data.get("source") not in (None, "", source):  # before any photo is read
            raise ValidationError({"source": f"set from who is signed in: this report comes from {source}"})
        intake = IntakeSerializer(data=data, context={"request": request})
        intake.is_valid(raise_exception=True)
        values = dict(intake.validated_data)
        values.pop("source", None)
        try:
            case, _ = services.report_case(
                category=values.pop("category"),
                point=values.pop("point"),
                photos=values.pop("photos", []),
                source=source,
                reporter=request.user if request.user.is_authenticated else None,
                idempotency_key=key_of(request),
                follow=True,
                **values,
            )
        except services.IntakeRefused as exc:
            raise ValidationError({exc.field: str(exc)}) from exc
        # A new case already holds its category, grid, department and people from the assignment.
        answer = CaseFeatureSerializer(case, context=case_context(request)).data
        # The reporter's private follow link: shown in this answer only (and in its replay, which
        # common/idempotency.py answers with this very answer), never in lists, details or Open311.
        answer["properties"]["follow_token"] = case.reporter_link.token
        response = Response(answer, status=status.HTTP_201_CREATED)
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


@contextmanager
def workflow_refusals():
    """A workflow service's refusal as the API's answer: 400 naming the field for bad input, else the
    status the service chose (403 not your role, 409 stale version or impossible step) and its reason."""
    try:
        yield
    except services.WorkflowError as exc:
        if exc.status == 400:
            raise ValidationError({exc.field or "detail": str(exc).split(": ", 1)[-1]}) from exc
        error = WorkflowRefused(str(exc))
        error.status_code = exc.status
        raise error from exc


def case_as_it_now_is(request, pk: int) -> Response:
    """The case after a workflow step, with its trail and photos, and its ETag for the next step."""
    fresh = selectors.case_queryset().prefetch_related("trail__photo", "photos").get(pk=pk)
    response = Response(CaseDetailSerializer(fresh, context=case_context(request)).data)
    response["ETag"] = fresh.etag
    return response


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
        case, values = visible_case_and_input(request, pk, TransitionSerializer, {"request": request})
        with workflow_refusals():
            services.transition(
                case_id=case.pk,
                action=self.action_name,
                user=request.user,
                version=_version_from(request, values.get("version")),
                note=values.get("note", ""),
                photo=values.get("photo"),
                department=values.get("department"),
                duplicate_of=values.get("duplicate_of"),
            )
        return case_as_it_now_is(request, case.pk)


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


class CaseFeatureList(ScopedCaseSerializers, generics.ListAPIView):
    """A signed-in reader's list of cases as GeoJSON, paged, with the safe bbox filter (`in_bbox`): the
    base of every case list but the main one (which also takes reports)."""

    serializer_class = CaseFeatureSerializer
    pagination_class = CasePagination
    permission_classes = [SignedIn]
    filter_backends = [CaseBBoxFilter]
    bbox_filter_field = "location"
    bbox_filter_include_overlapping = True


class OverdueView(CaseFeatureList):
    """Overdue open cases as GeoJSON, filterable by escalation `level`; `counts` per level in the header."""

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


NEARBY_MAX = 10  # the nearest open cases shown before sending; more would not fit a phone's screen


class PublicLookup:
    """The citizen's lookups before sending a report: public, throttled under the "lookup" rate on top
    of the per-IP one (each answers from a spatial query)."""

    throttle_scope = "lookup"


class ReceiverView(PublicLookup, APIView):
    """Who would receive a report at a point (and of a category): the grid and the department, by
    intake's own rule, without creating anything. Outside every grid: the district's dispatch office
    (such a report is accepted, `dead_corner` true)."""

    @extend_schema(parameters=[PointQuerySerializer], responses=ReceiverSerializer)
    def get(self, request):
        query = PointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        with transaction.atomic():  # intake's statement locks the case it would join; release at once
            assignment = selectors.receiver(values["point"], values.get("category"))
        return Response(ReceiverSerializer(assignment).data)


class NearbyView(PublicLookup, generics.ListAPIView):
    """Open cases within intake's "me too" radius of a point (of a category, if given), nearest first:
    offered before sending as "me too" (report with `me_too_of`) or "follow this one instead"."""

    serializer_class = NearbyCaseSerializer
    pagination_class = None

    @extend_schema(parameters=[PointQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        query = PointQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.open_cases_near(query.validated_data["point"], category=query.validated_data.get("category"))
        return found[:NEARBY_MAX]


def _followed(link) -> dict:
    return {
        "case": link.case,
        "timeline": selectors.public_timeline(link.case),
        "after_photos": selectors.after_photos(link.case),
    }


class FollowView(APIView):
    """A case by its private follow link: the public timeline (states and dates) and the after-photos."""

    throttle_scope = "lookup"

    @extend_schema(responses=FollowedCaseSerializer)
    def get(self, request, token: str):
        link = selectors.follow_link(token)
        if link is None:
            raise NotFound("token: no report follows this link; check that it was copied whole")
        return Response(FollowedCaseSerializer(_followed(link)).data)


class FollowNearbyCaseView(IdempotentWrites, APIView):
    """A new follow link to an open case near a point ("follow this one instead" of reporting it again);
    the answer holds the token, shown only here. Throttled under the intake rate."""

    parser_classes = [JSONParser, FormParser]  # no files here: JSON (depth-limited) or a form
    throttle_scope = "intake"

    @extend_schema(request=FollowRequestSerializer, responses={201: FollowedCaseSerializer})
    def post(self, request):
        form = FollowRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            link = services.follow_case(case_id=form.validated_data["case"], point=form.validated_data["point"])
        except services.IntakeRefused as exc:
            raise ValidationError({exc.field: str(exc)}) from exc
        return Response({"follow_token": link.token, **FollowedCaseSerializer(_followed(link)).data}, status=201)


class BulkItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(min_value=1)


class BulkTransitionSerializer(serializers.Serializer):
    """One workflow step for a selection: each case with the version it was read at."""

    cases = BulkItemSerializer(many=True, allow_empty=False, max_length=settings.GRIDGIS["BULK_MAX_CASES"])
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False, help_text="dispatch: to this department"
    )


class BulkOutcomeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="case_id")
    ok = serializers.BooleanField()
    version = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    error = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class BulkTransitionView(IdempotentWrites, APIView):
    """One workflow step on a selection of cases, each checked on its own: answers 200 with one outcome
    per case (ok with its new version, or the reason it was refused); refused cases stay as they were.
    One URL per step that needs no photo (a photo is taken case by case)."""

    action_name = ""
    permission_classes = [SignedIn]

    @extend_schema(
        request=BulkTransitionSerializer,
        responses=inline_serializer("BulkOutcomes", {"results": BulkOutcomeSerializer(many=True)}),
    )
    def post(self, request):
        action = self.action_name
        form = BulkTransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        outcomes = services.bulk_transition(
            action=action,
            selection=[(item["id"], item["version"]) for item in values["cases"]],
            user=request.user,
            note=values.get("note", ""),
            department=values.get("department"),
        )
        return Response({"results": BulkOutcomeSerializer(outcomes, many=True).data})


class CannedPhraseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedPhrase
        fields = ["id", "kind", "text", "position", "is_active", "updated_at"]
        read_only_fields = ["updated_at"]


class CannedPhraseViewSet(IdempotentWrites, viewsets.ModelViewSet):
    """Stock reasons (惯用语) for reject, return, failed check and dispatch elsewhere: read by staff,
    kept by the dispatcher's office (dispatchers, supervisors, admin). ?kind= picks one step's."""

    serializer_class = CannedPhraseSerializer
    permission_classes = [
        writes_by(DISPATCHER, SUPERVISOR, message="only the dispatcher's office (dispatcher, supervisor) keeps phrases")
    ]
    pagination_class = None

    def get_queryset(self):
        if not request_scope(self.request).is_staff:
            return CannedPhrase.objects.none()
        phrases = CannedPhrase.objects.order_by("kind", "position", "id")
        kind = self.request.query_params.get("kind")
        if kind:
            if kind not in CannedPhrase.Kind.values:
                raise ValidationError({"kind": f"one of {', '.join(CannedPhrase.Kind.values)}"})
            phrases = phrases.filter(kind=kind)
        return phrases

    def perform_create(self, serializer):
        serializer.save(updated_by=self.request.user)

    def perform_update(self, serializer):
        serializer.save(updated_by=self.request.user)


class ChangeGridSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    grid = serializers.SlugRelatedField(slug_field="code", queryset=Grid.objects.defer("boundary"))
    note = serializers.CharField(max_length=4000, allow_blank=True, default="")


class CaseChangeGridView(IdempotentWrites, APIView):
    """The dispatcher's answer to the edge flag: move a case not yet registered to a neighbouring grid
    (one of those within twice GRIDGIS EDGE_METRES of its point), with a note; 409 if stale or too late."""

    permission_classes = [SignedIn]

    @extend_schema(request=ChangeGridSerializer, responses={200: CaseDetailSerializer})
    def post(self, request, pk: int):
        case, values = visible_case_and_input(request, pk, ChangeGridSerializer)
        with workflow_refusals():
            services.change_grid(
                case_id=case.pk, grid=values["grid"], user=request.user, version=values["version"], note=values["note"]
            )
        return case_as_it_now_is(request, case.pk)
