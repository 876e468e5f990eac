"""`GET /api/v1/calendar/due/`: a deadline by the same rule as the cases' (gridgis_due), for the phone
app and other clients that show time left."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common import workcalendar
from common.models import Clock


class DueQuerySerializer(serializers.Serializer):
    start = serializers.CharField(help_text="ISO 8601 instant with its UTC offset, e.g. 2026-02-13T16:00:00+08:00")
    minutes = serializers.IntegerField(min_value=0, max_value=workcalendar.MAX_MINUTES)
    clock = serializers.ChoiceField(choices=Clock.values, default=Clock.WORKING)

    def validate_start(self, text: str):
        try:
            start = parse_datetime(text.strip())
        except ValueError:
            start = None
        if start is None:
            raise serializers.ValidationError("not an ISO 8601 date and time, e.g. 2026-02-13T16:00:00+08:00")
        if start.tzinfo is None:
            raise serializers.ValidationError("give the UTC offset (e.g. +08:00 or Z): a bare time is ambiguous")
        if not (workcalendar.FIRST_YEAR <= start.year <= workcalendar.LAST_YEAR):
            raise serializers.ValidationError(
                f"the calendar covers {workcalendar.FIRST_YEAR}-{workcalendar.LAST_YEAR}, not {start.year}"
            )
        return start


class DueView(APIView):
    """When `minutes` of working time (or clock time) after `start` end, on the city's calendar."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[DueQuerySerializer],
        responses=inline_serializer(
            "CalendarDue",
            {
                "due": serializers.DateTimeField(),
                "clock": serializers.CharField(),
                "on_calendar": serializers.BooleanField(
                    help_text="false: a year on the way has no entered official calendar (counted Monday-Friday)"
                ),
            },
        ),
    )
    def get(self, request):
        query = DueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, minutes, clock = (query.validated_data[k] for k in ("start", "minutes", "clock"))
        due = workcalendar.due(start, minutes, clock)
        if due is None or due.year > workcalendar.LAST_YEAR:
            raise serializers.ValidationError(
                {"minutes": f"{minutes} minutes of {clock} time run past the calendar's end ({workcalendar.LAST_YEAR})"}
            )
        on_calendar = clock == Clock.CLOCK or workcalendar.calendar_complete(start, due)
        local = timezone.localtime(due)
        return Response({"due": local.isoformat(), "clock": clock, "on_calendar": on_calendar})


urlpatterns = [path("calendar/due/", DueView.as_view(), name="calendar-due")]
