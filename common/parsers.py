"""The JSON parser of every API view: DRF's, with a limit on how deeply a body may nest.

Python's json module recurses once per level, so a body of 100,000 nested arrays (200 KB, well within
the body limit) raised RecursionError, a 500. Here that is a 400, and so is any body nested deeper
than GRIDGIS["MAX_JSON_DEPTH"] levels (GeoJSON needs about 7), before a serializer walks it.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def nested_deeper_than(data, limit: int) -> bool:
    """Whether `data` (parsed JSON) has objects or arrays more than `limit` levels deep (no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; a body nested too deeply answers 400 naming JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.GRIDGIS["MAX_JSON_DEPTH"]
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels") from None
        if nested_deeper_than(data, limit):
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels")
        return data
