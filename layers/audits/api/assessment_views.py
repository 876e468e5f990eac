"""The assessment API (考核): the table of a period by grid, department or leader, as JSON, .xlsx or CSV."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from layers.audits import exports
from layers.audits.api.permissions import IsSupervisor
from layers.audits.api.serializers import AssessmentQuerySerializer, AssessmentSerializer
from layers.audits.api.views import _drf_error
from layers.audits.assessment import assess


def _assessment(request):
    query = AssessmentQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    try:
        return assess(
            period=data["period"],
            unit=data["unit"],
            level=data["level"],
            district_code=data.get("district", ""),
            notice_size=data.get("notice"),
        )
    except DjangoValidationError as exc:
        raise _drf_error(exc) from exc


class AssessmentView(APIView):
    """GET ?period=2026Q3&unit=grid|department|leader: figures, score and rank per unit, and the notice list."""

    permission_classes = [IsSupervisor]

    @extend_schema(parameters=[AssessmentQuerySerializer], responses=AssessmentSerializer)
    def get(self, request):
        return Response(AssessmentSerializer(_assessment(request)).data)


class AssessmentExportView(APIView):
    """The same table as .xlsx (with the notice list on a second sheet) or CSV, Chinese headers."""

    permission_classes = [IsSupervisor]

    @extend_schema(
        parameters=[AssessmentQuerySerializer],
        responses={(200, exports.XLSX_CONTENT_TYPE): OpenApiResponse(description="assessment table")},
    )
    def get(self, request, fmt: str):
        result = _assessment(request)
        if fmt == "xlsx":
            body, content_type = exports.assessment_xlsx(result), exports.XLSX_CONTENT_TYPE
        else:
            body, content_type = exports.assessment_csv(result), exports.CSV_CONTENT_TYPE
        response = HttpResponse(body, content_type=content_type)
        name = f"assessment-{result.period.label}-{result.unit}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
