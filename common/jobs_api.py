"""The API of background work: a job's progress (GET /api/v1/jobs/{id}/) and its file when it made one.

A job is seen by whoever asked for it and by superusers; anyone else gets 404, as for rows outside
their scope.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.models import JobRun


class JobRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = JobRun
        fields = [
            "id",
            "url",
            "kind",
            "key",
            "parameters",
            "status",
            "progress",
            "message",
            "error",
            "attempts",
            "file_url",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(serializers.CharField())
    def get_url(self, job: JobRun) -> str:
        return reverse("job-run", args=[job.pk])

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_file_url(self, job: JobRun) -> str | None:
        if job.status != JobRun.Status.DONE or not job.result.get("file"):
            return None
        return reverse("job-run-file", args=[job.pk])


def _visible_jobs(user):
    jobs = JobRun.objects.all()
    return jobs if user.is_superuser else jobs.filter(requested_by=user)


class JobRunView(APIView):
    """GET: a background job's status, progress (0..1), message and, once done, its file's URL."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=JobRunSerializer)
    def get(self, request, pk: int):
        job = get_object_or_404(_visible_jobs(request.user), pk=pk)
        return Response(JobRunSerializer(job, context={"request": request}).data)


class JobRunFileView(APIView):
    """GET: the file a finished job wrote (an export ledger)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="the job's file")})
    def get(self, request, pk: int):
        job = get_object_or_404(_visible_jobs(request.user), pk=pk, status=JobRun.Status.DONE)
        relative = job.result.get("file")
        if not relative:
            raise Http404("this job made no file")
        media = Path(settings.MEDIA_ROOT).resolve()
        path_on_disk = (media / relative).resolve()
        if media not in path_on_disk.parents or not path_on_disk.is_file():
            raise Http404("the job's file is gone")
        return FileResponse(
            path_on_disk.open("rb"),
            as_attachment=True,
            filename=job.result.get("filename", path_on_disk.name),
            content_type=job.result.get("content_type", "application/octet-stream"),
        )


urlpatterns = [
    path("jobs/<int:pk>/", JobRunView.as_view(), name="job-run"),
    path("jobs/<int:pk>/file/", JobRunFileView.as_view(), name="job-run-file"),
]
