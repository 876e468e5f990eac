"""Serializers of the incidents API: intake input, case features, trail entries, transitions."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone
from django.utils.encoding import smart_str
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from common import workcalendar
from common.crs import UnknownSRS, parse_srs
from common.geometry import GeoJSONGeometryField, LonLatSerializer
from common.photos import PhotoError, check_photo, check_photos
from common.serializers import FieldsBuiltOnce, WorkflowFieldsGuard
from layers.grids.models import Department
from layers.incidents.api.photo_views import photo_url
from layers.incidents.case_fields import COUNTS_AND_TIMES
from layers.incidents.models import OPEN_STATUSES, Case, Category, Photo, Source, TrailEntry
from layers.incidents.selectors import outside_service_area, reportable_category


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    default_department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    limits_hours = serializers.SerializerMethodField(help_text="clock hours per stage")

    class Meta:
        model = Category
        fields = [
            "code",
            "parent",
            "name_zh",
            "name_en",
            "description_zh",
            "description_en",
            "keywords",
            "default_department",
            "limits_hours",
        ]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_limits_hours(self, category: Category) -> dict:
        return {stage: category.limit_hours(stage) for stage in ("confirm", "register", "dispatch", "handle", "verify")}


class ReportableCategoryField(serializers.SlugRelatedField):
    """A report's `category` by code, read by selectors.reportable_category (one prepared statement)
    instead of the queryset, which stays for the schema and for the choices; the same answers and
    the same errors as SlugRelatedField's lookup (the code compared as text, as the ORM does)."""

    def to_internal_value(self, data):
        try:
            found = reportable_category(data if isinstance(data, str) else str(data))
        except (TypeError, ValueError):
            self.fail("invalid")
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return found


class IntakeSerializer(WorkflowFieldsGuard, serializers.Serializer):
    """A report: where (GeoJSON `geometry`, or `lon`/`lat`), what, and optional photos (multipart).

    `srs` gives the CRS of either form (EPSG:4326 by default; EPSG:4490, CGCS2000 Gauss-Krüger or gcj02).
    Status, assignment (grid, department, leader, officer), version, trail and reporter are the
    workflow's: a report naming one is refused with a 400 naming it.
    """

    workflow_hint = "set by intake and changed only by the workflow actions (POST /api/v1/incidents/{id}/<action>/)"

    category = ReportableCategoryField(
        slug_field="code",
        queryset=Category.objects.filter(is_active=True)
        .select_related("parent", "default_department", "parent__default_department")
        .defer("default_department__jurisdiction", "parent__default_department__jurisdiction"),
    )
    geometry = GeoJSONGeometryField(
        types=("Point",),
        required=False,
        help_text='GeoJSON Point, e.g. {"type": "Point", "coordinates": [105.44, 28.87]}',
    )
    lon = serializers.FloatField(required=False)
    lat = serializers.FloatField(required=False)
    srs = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    address = serializers.CharField(required=False, allow_blank=True, max_length=300)
    source = serializers.ChoiceField(
        choices=[c for c in Source.choices if c[0] != Source.OPEN311],
        required=False,
        help_text="set from who is signed in (citizen, officer, hotline for dispatchers, supervisor); "
        "a body that names another is refused",
    )
    reporter_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="a contact name (e.g. a hotline caller's); the trail names the signed-in user, never this",
    )
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    reporter_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    me_too_of = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="join this open case nearby (GET /api/v1/incidents/nearby/) instead of the one intake would pick",
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, allow_empty=True)

    def validate_photos(self, files):
        # Only the count here; the photos are read in validate(), after every cheaper check passed.
        limit = settings.GRIDGIS["PHOTO_MAX_COUNT"]
        if len(files) > limit:
            raise serializers.ValidationError(f"at most {limit} photos")
        return files

    def validate(self, attrs):
        attrs = self._where(attrs)
        if attrs.get("photos"):
            try:
                attrs["photos"] = check_photos(attrs["photos"], request=self.context.get("request"))
            except PhotoError as exc:
                raise serializers.ValidationError({"photos": str(exc)}) from exc
        return attrs

    def _where(self, attrs):
        geometry = attrs.pop("geometry", None)
        if geometry is not None:
            # GeoJSONGeometryField has checked the Point and converted it from `srs` to EPSG:4326.
            try:
                srs = parse_srs(attrs.pop("srs", ""))
            except UnknownSRS as exc:
                raise serializers.ValidationError({"srs": str(exc)}) from exc
            attrs["point"], attrs["input_srs"] = geometry, srs.label
            raw = self.initial_data.get("geometry")
            raw = json.loads(raw) if isinstance(raw, str) else raw
            attrs["input_point"] = {"type": "Point", "coordinates": raw["coordinates"]}
        elif "lon" in attrs and "lat" in attrs:
            where = LonLatSerializer(data={"lon": attrs["lon"], "lat": attrs["lat"], "srs": attrs.pop("srs", "")})
            where.is_valid(raise_exception=True)
            attrs["point"] = where.validated_data["point"]
            attrs["input_srs"] = where.validated_data["srs"].label
            attrs["input_point"] = {"lon": attrs["lon"], "lat": attrs["lat"]}
        else:
            raise serializers.ValidationError({"geometry": "give a GeoJSON Point in geometry, or lon and lat"})
        attrs.pop("lon", None)
        attrs.pop("lat", None)
        far = outside_service_area(attrs["point"])
        if far is not None:
            raise serializers.ValidationError(
                {
                    "geometry" if geometry is not None else "lon": (
                        f"the point is {far / 1000:,.0f} km from the nearest district this server serves; "
                        "are longitude and latitude swapped, or is the srs wrong?"
                    )
                }
            )
        return attrs


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PhotoSerializer(serializers.ModelSerializer):
    """A photo's links: `url` the public copy, `original_url` the file as sent (staff readers only)."""

    url = serializers.SerializerMethodField()
    original_url = serializers.SerializerMethodField(help_text="staff only")

    class Meta:
        model = Photo
        fields = ["id", "kind", "url", "original_url", "width", "height", "uploaded_at"]

    def get_url(self, photo: Photo) -> str:
        return photo_url(photo)

    def get_original_url(self, photo: Photo) -> str | None:
        return None if for_public(self) or not photo.original else photo_url(photo, original=True)


# What only staff read about a case: the people it is assigned to and the rules that chose them. A
# reader without a staff role (an anonymous reporter, a citizen following their own report) gets the
# case without them, and its trail without the actors' names (layers.accounts.roles decides who is
# staff; views put "public" in the serializer context).
STAFF_ONLY_CASE_FIELDS = ("leader", "officer", "provenance")


def for_public(serializer) -> bool:
    return bool(serializer.context.get("public", False))


class TrailEntrySerializer(serializers.ModelSerializer):
    who = serializers.CharField(source="actor_name", help_text="staff only; null for other readers")
    when = serializers.DateTimeField(source="at")
    photo = PhotoSerializer(allow_null=True)

    class Meta:
        model = TrailEntry
        fields = [
            "id",
            "when",
            "who",
            "action",
            "from_status",
            "to_status",
            "note",
            "escalation_level",
            "photo",
            "data",
        ]

    def to_representation(self, instance):
        entry = super().to_representation(instance)
        if for_public(self):
            entry["who"] = None
        return entry


class CaseFeatureSerializer(FieldsBuiltOnce, GeoFeatureModelSerializer):
    """A case as a GeoJSON Feature, with its assignment and where it stands (leader, officer and
    provenance for staff readers only)."""

    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name_zh")
    grid = serializers.CharField(source="grid.code", allow_null=True, default=None)
    department = serializers.CharField(source="department.code", allow_null=True, default=None)
    department_name = serializers.CharField(source="department.name", allow_null=True, default=None)
    leader = PartySerializer(allow_null=True)
    officer = PartySerializer(allow_null=True)
    suggested_grid = serializers.CharField(source="suggested_grid.code", allow_null=True, default=None)
    overdue = serializers.SerializerMethodField()
    time_left_hours = serializers.SerializerMethodField(
        help_text="hours until due_at in due_clock: working hours for a working-time limit; negative when late"
    )
    deadline_on_calendar = serializers.SerializerMethodField(
        help_text="false: the deadline runs through a year whose official calendar is not entered, so it "
        "was counted Monday to Friday only (an administrator enters the year under Calendar years)"
    )

    class Meta:
        model = Case
        geo_field = "location"
        id_field = False  # the id stays among the properties; to_representation adds the Feature's id
        fields = [
            "id",
            "category",
            "category_name",
            "status",
            "source",
            "description",
            "address",
            "district_code",
            "grid",
            "grid_version",
            "department",
            "department_name",
            "leader",
            "officer",
            "near_edge",
            "edge_distance_m",
            "dead_corner",
            "suggested_grid",
            "suggested_distance_m",
            "duplicate_of",
            *COUNTS_AND_TIMES,
            "overdue",
            "due_clock",
            "stage_started_at",
            "time_left_hours",
            "deadline_on_calendar",
            "version",
            "input_point",
            "input_srs",
            "provenance",
        ]
        read_only_fields = ["duplicate_of"]  # an answer's field: cases are written through intake and actions

    def to_representation(self, instance):
        feature = super().to_representation(instance)
        feature["id"] = instance.pk
        if for_public(self):
            for name in STAFF_ONLY_CASE_FIELDS:
                feature["properties"].pop(name, None)
        return feature

    def get_overdue(self, case: Case) -> bool:
        return bool(case.status in OPEN_STATUSES and case.due_at and case.due_at < timezone.now())

    def _clock_facts(self, case: Case) -> tuple[float | None, bool]:
        # Read cases carry both from case_queryset()'s annotation; a case just changed by a service
        # does not, and is asked for once.
        if not hasattr(case, "time_left_s"):
            case.time_left_s, case.deadline_on_calendar = workcalendar.clock_facts(
                timezone.now(), case.stage_started_at, case.due_at, case.due_clock
            )
        return case.time_left_s, case.deadline_on_calendar

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_time_left_hours(self, case: Case) -> float | None:
        seconds, _ = self._clock_facts(case)
        return None if seconds is None else round(seconds / 3600, 2)

    @extend_schema_field(serializers.BooleanField())
    def get_deadline_on_calendar(self, case: Case) -> bool:
        return self._clock_facts(case)[1]


class CaseDetailSerializer(CaseFeatureSerializer):
    """A case with its photos and its whole trail, oldest first."""

    trail = TrailEntrySerializer(many=True)
    photos = PhotoSerializer(many=True)

    class Meta(CaseFeatureSerializer.Meta):
        fields = [*CaseFeatureSerializer.Meta.fields, "photos", "trail"]


class TransitionSerializer(serializers.Serializer):
    """One workflow step's input; `version` may instead come as an If-Match header."""

    version = serializers.IntegerField(required=False, min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    photo = serializers.FileField(required=False)
    department = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Department.objects.all(),
        required=False,
        help_text="dispatch: send to this department (another than the suggested one needs a note)",
    )
    duplicate_of = serializers.IntegerField(
        required=False, min_value=1, help_text="merge: the id of the open case this report repeats"
    )

    def validate(self, attrs):
        # The photo is read last, once the other fields passed (photos.py orders the work by cost).
        if attrs.get("photo") is not None:
            try:
                attrs["photo"] = check_photo(attrs["photo"], request=self.context.get("request"))
            except PhotoError as exc:
                raise serializers.ValidationError({"photo": str(exc)}) from exc
        return attrs


# --- The citizen's side: who will receive a report, what is already reported there, follow links ---


class PointQuerySerializer(LonLatSerializer):
    """A point (`lon`, `lat`, `srs`) and an optional category code, as query parameters."""

    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(is_active=True).select_related(
            "parent__default_department", "default_department"
        ),
        required=False,
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        far = outside_service_area(attrs["point"])
        if far is not None:
            raise serializers.ValidationError(
                {"lon": f"the point is {far / 1000:,.0f} km from the nearest district this server serves"}
            )
        return attrs


class NamedSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReceiverSerializer(serializers.Serializer):
    """Who would receive a report at a point: public facts only (grids and departments, no people)."""

    grid = serializers.SerializerMethodField()
    district = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()
    dead_corner = serializers.BooleanField(help_text="no grid covers the point: the district's office handles it")
    department_known = serializers.SerializerMethodField(help_text="false until a category is given")

    @extend_schema_field({"type": "object", "nullable": True, "properties": {"code": {}, "name": {}, "level": {}}})
    def get_grid(self, assignment) -> dict | None:
        grid = assignment.grid
        return None if grid is None else {"code": grid.code, "name": grid.name, "level": grid.level_name}

    @extend_schema_field(NamedSerializer(allow_null=True))
    def get_district(self, assignment) -> dict | None:
        district = assignment.district
        return None if district is None else {"code": district.code, "name": district.name}

    @extend_schema_field({"type": "object", "nullable": True, "properties": {"code": {}, "name": {}, "name_en": {}}})
    def get_department(self, assignment) -> dict | None:
        department = assignment.department
        if department is None:
            return None
        return {"code": department.code, "name": department.name, "name_en": department.name_en}

    def get_department_known(self, assignment) -> bool:
        return assignment.provenance.get("department", {}).get("reason") != "no category yet"


class NearbyCaseSerializer(serializers.ModelSerializer):
    """An open case near a point, as the public may see it (what Open311 shows, no people)."""

    reference = serializers.CharField(source="pk")
    category = serializers.CharField(source="category.code")
    category_name_zh = serializers.CharField(source="category.name_zh")
    category_name_en = serializers.CharField(source="category.name_en")
    distance_m = serializers.FloatField()
    lon = serializers.FloatField(source="location.x")
    lat = serializers.FloatField(source="location.y")

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "category",
            "category_name_zh",
            "category_name_en",
            "status",
            "description",
            "reported_at",
            "me_too_count",
            "distance_m",
            "lon",
            "lat",
        ]


class FollowRequestSerializer(LonLatSerializer):
    """Follow an open case near the point instead of reporting it again."""

    case = serializers.IntegerField(min_value=1)


class PublicTimelineEntrySerializer(serializers.ModelSerializer):
    """One step of a case as its follower sees it: when, what, and the status it led to."""

    class Meta:
        model = TrailEntry
        fields = ["at", "action", "from_status", "to_status"]


class PublicPhotoSerializer(serializers.ModelSerializer):
    # The stored copy is re-encoded without metadata (common/photos.py).
    url = serializers.FileField(source="image", read_only=True)

    class Meta:
        model = Photo
        fields = ["url", "width", "height", "uploaded_at"]


class FollowedCaseSerializer(serializers.Serializer):
    """A followed case: its reference, category, where it stands and its public timeline, with the
    after-photos of the fix. No people: no reporter, staff names, phones or notes."""

    reference = serializers.CharField(source="case.pk")
    category = CategorySerializer(source="case.category")
    status = serializers.SerializerMethodField(help_text="a me-too report shows its original's status")
    reported_at = serializers.DateTimeField(source="case.reported_at")
    closed_at = serializers.DateTimeField(source="case.closed_at")
    address = serializers.CharField(source="case.address")
    description = serializers.CharField(source="case.description")
    lon = serializers.FloatField(source="case.location.x")
    lat = serializers.FloatField(source="case.location.y")
    grid_name = serializers.CharField(source="case.grid.name", default=None)
    department_name = serializers.CharField(source="case.department.name", default=None)
    dead_corner = serializers.BooleanField(source="case.dead_corner")
    joined = serializers.SerializerMethodField(help_text="reference of the case this me-too report joined")
    timeline = PublicTimelineEntrySerializer(many=True)
    after_photos = PublicPhotoSerializer(many=True)

    def get_status(self, value) -> str:
        case = value["case"]
        return case.duplicate_of.status if case.duplicate_of_id else case.status

    def get_joined(self, value) -> str | None:
        case = value["case"]
        return str(case.duplicate_of_id) if case.duplicate_of_id else None
