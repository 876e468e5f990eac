"""API plumbing shared by every layer: one error format that names the field at fault."""

from __future__ import annotations

from django.db import DataError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.queue import AlreadyQueued


def _flatten(errors, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        lines = []
        for key, value in errors.items():
            name = key if key != "non_field_errors" else ""
            lines += _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
        return lines
    if isinstance(errors, list):
        lines = []
        for index, value in enumerate(errors):
            nested = isinstance(value, (dict, list))
            lines += _flatten(value, f"{prefix}[{index}]" if nested else prefix)
        return lines
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def exception_handler(exc, context):
    """DRF's handler, with validation errors as {"detail": "field: message; ...", "errors": {...}}."""
    if isinstance(exc, DataError):
        # A value that passed parsing but that PostgreSQL cannot represent (a date in year 3771 with
        # a +22:48 offset, a number beyond its column): the client's input, so a 400, not a 500.
        reason = str(exc).splitlines()[0] if str(exc) else "a value is out of range"
        return Response(
            {"detail": f"a value is out of range: {reason}", "errors": {}}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, AlreadyQueued):
        # One job of a kind per district waits at a time (common/queue.py): the client's request
        # conflicts with one already waiting, and may ask again once it has started.
        return Response({"detail": str(exc), "errors": {}}, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        errors = response.data
        response.data = {"detail": "; ".join(_flatten(errors)), "errors": errors}
    return response
