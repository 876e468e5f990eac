"""The audits API: start a run (it works in the background), follow it, read and export its findings."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import IdempotentWrites
from layers.audits import exports, selectors, services
from layers.audits.api.permissions import IsSupervisor
from layers.audits.api.serializers import AuditRunRequestSerializer, AuditRunSerializer, FindingFilterSerializer


class RunPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _drf_error(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})


class AuditRunListView(IdempotentWrites, ListAPIView):
    """GET: audit runs, newest first. POST: start a run; it works in the background (202 + its URL)."""

    serializer_class = AuditRunSerializer
    permission_classes = [IsSupervisor]
    pagination_class = RunPagination

    def get_queryset(self):
        return selectors.runs()

    @extend_schema(request=AuditRunRequestSerializer, responses={202: AuditRunSerializer})
    def post(self, request):
        given = AuditRunRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        who = request.user.get_username()
        try:
            run = services.create_run(
                district_code=given.validated_data.get("district", ""),
                kinds=given.validated_data.get("kinds"),
                parameters=given.parameters(),
                user=request.user,
                via=f"api:{who}",
            )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        # Start only once the run row is committed, so that the worker thread's connection sees it.
        transaction.on_commit(lambda: services.start_in_background(run.pk))
        body = AuditRunSerializer(run).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]})


class AuditRunDetailView(APIView):
    """A run's status and progress, and its findings as a GeoJSON FeatureCollection (?kind=, ?bbox=)."""

    permission_classes = [IsSupervisor]

    @extend_schema(parameters=[FindingFilterSerializer], responses=AuditRunSerializer)
    def get(self, request, pk: int):
        run = get_object_or_404(selectors.runs(), pk=pk)
        query = FindingFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = AuditRunSerializer(run).data
        body["findings"] = selectors.findings_geojson(
            run, kind=query.validated_data.get("kind"), bbox_wkt=query.validated_data.get("bbox")
        )
        return Response(body)


class FindingsExportView(APIView):
    """The run's findings as an Excel ledger (.xlsx) or CSV, Chinese column headers (?kind=, ?bbox= filter)."""

    permission_classes = [IsSupervisor]

    @extend_schema(
        parameters=[FindingFilterSerializer],
        responses={(200, exports.XLSX_CONTENT_TYPE): OpenApiResponse(description="ledger")},
    )
    def get(self, request, pk: int, fmt: str):
        run = get_object_or_404(selectors.runs(), pk=pk)
        query = FindingFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = {"kind": query.validated_data.get("kind"), "bbox_wkt": query.validated_data.get("bbox")}
        if fmt == "xlsx":
            body, content_type = exports.findings_xlsx(run, **filters), exports.XLSX_CONTENT_TYPE
        else:
            body, content_type = exports.findings_csv(run, **filters), exports.CSV_CONTENT_TYPE
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="audit-{run.pk}-findings.{fmt}"'
        return response
