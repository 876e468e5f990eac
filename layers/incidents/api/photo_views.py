"""Case photos, served only through here: the public copy to whoever may see the case (through the API
or, for the cases Open311 publishes, anyone), the original as sent to staff only. Streamed from
storage (FileResponse), never read whole into memory; stored under random names, and MEDIA_ROOT has
no URL of its own, so a photo is never reachable around these checks.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from layers.accounts.roles import request_scope
from layers.incidents import selectors
from layers.incidents.models import Case, Photo

CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}


def photo_url(photo: Photo, *, original: bool = False) -> str:
    return f"/api/v1/incidents/{photo.case_id}/photos/{photo.pk}/{'original/' if original else ''}"


class CasePhotoView(APIView):
    """GET one photo of a case as an image: the public copy, or with original/ the file as sent (staff)."""

    original = False

    def perform_content_negotiation(self, request, force=False):
        # The answer is an image whatever the client accepts; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, (200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, photo_id: int):
        scope = request_scope(request)
        missing = NotFound(f"photo {photo_id} of case {pk}: not among the photos you may see")
        if self.original and not scope.is_staff:
            raise missing
        in_scope = selectors.visible_cases(scope, Case.objects.all()).filter(pk=pk).exists()
        # The public copy of a case that Open311 publishes is anyone's to see, as the case itself is.
        if not in_scope and (self.original or not selectors.published_cases().filter(pk=pk).exists()):
            raise missing
        photo = Photo.objects.filter(case_id=pk, pk=photo_id).first()
        stored = (photo.original or None) if (photo and self.original) else (photo.image if photo else None)
        if not stored:
            raise missing
        extension = stored.name.rsplit(".", 1)[-1].lower()
        response = FileResponse(
            stored.open("rb"), content_type=CONTENT_TYPES.get(extension, "application/octet-stream")
        )
        response["Cache-Control"] = "private, max-age=3600"
        response["Content-Disposition"] = "inline"
        return response


class CaseOriginalPhotoView(CasePhotoView):
    """GET the photo as it was sent (metadata and all): staff only."""

    original = True
