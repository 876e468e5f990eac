"""GeoReport v2 bodies in the two formats the spec names: XML (required) and JSON.

Both are built from the same Python structures: a list of dicts under a root and an item element
(services/service, service_requests/request, errors/error), or a single dict (discovery,
service_definition). Nested lists name their items explicitly (attributes/attribute,
values/value, endpoints/endpoint, formats/format). ElementTree escapes all text, and
common.xmltext.xml_safe drops what XML 1.0 cannot carry at all (a vertical tab in a description).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from django.http import HttpResponse

from common.xmltext import xml_safe

# The element name of one item inside each list-valued key.
ITEM_NAMES = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_safe(str(value))


def _append(parent: ET.Element, name: str, value) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(element, ITEM_NAMES.get(name, "item"), item)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str | None, payload) -> bytes:
    element = ET.Element(root)
    if item is None:
        for key, value in payload.items():
            _append(element, key, value)
    else:
        for entry in payload:
            _append(element, item, entry)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8")


def respond(fmt: str, root: str, item: str | None, payload, status: int = 200) -> HttpResponse:
    """`payload` as XML (`fmt` "xml") or JSON, with the right content type."""
    if fmt == "json":
        return HttpResponse(
            json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
        )
    return HttpResponse(to_xml(root, item, payload), status=status, content_type="text/xml; charset=utf-8")


def errors(fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error body: errors/error with code and description."""
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status=status)
