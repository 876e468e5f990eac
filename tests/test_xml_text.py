"""Every XML writer carries only what XML 1.0 allows (common/xmltext.py).

Every C0 control character is sent through every text field that reaches XML: each text field of
the intake API (enumerated from IntakeSerializer) and of an Open311 POST, read back in requests.xml;
and straight into the two writers (Open311's render.to_xml and the .xlsx exports).
"""

import io
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook
from rest_framework import serializers
from rest_framework.test import APIClient

from layers.audits.exports import write_xlsx
from layers.grids.models import Department
from layers.incidents.api.serializers import IntakeSerializer
from layers.incidents.models import Open311Key
from layers.incidents.open311.render import to_xml
from tests.factories import make_department, small_tree
from tests.factories_incidents import make_category

pytestmark = pytest.mark.django_db
# Every C0 control but NUL (refused at input: PostgreSQL text cannot hold it), around plain text.
CONTROLS = "".join(chr(code) for code in range(1, 32))
ALLOWED = "\t\n\r"
TEXT = f"井盖{CONTROLS}丢失"


def allowed_part(text: str) -> str:
    return "".join(ch for ch in text if ch in ALLOWED or ord(ch) >= 32)


@pytest.fixture
def world(media_root):
    grids = small_tree()
    make_department("JY-DISPATCH", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    make_category("0101", default_department=make_department("JY-CGJ", district=grids["district"]))
    Open311Key.objects.create(key="K", name="test")
    return grids


def text_fields_of_intake() -> dict[str, int]:
    """The intake's free-text fields and their length limits."""
    return {
        name: field.max_length or 4000
        for name, field in IntakeSerializer().fields.items()
        if type(field) is serializers.CharField and not field.read_only and name != "srs"
    }


def test_every_intake_text_field_with_every_control_character_leaves_requests_xml_readable(world):
    names = text_fields_of_intake()
    assert {"description", "address", "reporter_name"} <= set(names)
    api = APIClient()
    for index, (name, limit) in enumerate(names.items()):
        value = TEXT if len(TEXT) <= limit else CONTROLS[:limit]  # every control, within the field's limit
        body = {"category": "0101", "lon": 105.41, "lat": 28.90 + index * 0.005, name: value}
        response = api.post("/api/v1/incidents/", body, format="json")
        assert response.status_code == 201, (name, response.json())
    open311 = APIClient().post(
        "/open311/v2/requests.json",
        {
            "api_key": "K",
            "service_code": "0101",
            "lat": "28.95",
            "long": "105.41",
            "description": TEXT,
            "address_string": TEXT,
            "first_name": TEXT,
        },
    )
    assert open311.status_code == 201, open311.content
    document = APIClient().get("/open311/v2/requests.xml").content
    root = ET.fromstring(document)  # would raise on a vertical tab or any other forbidden character
    texts = {element.text for element in root.iter() if element.text}
    # The text survives minus the forbidden controls (an XML reader reads a carriage return as a line feed).
    assert allowed_part(TEXT).replace("\r", "\n") in texts
    assert not any(chr(code) in document.decode() for code in range(1, 32) if chr(code) not in ALLOWED)


def test_a_nul_in_an_open311_field_is_refused_not_a_500(world):
    response = APIClient().post(
        "/open311/v2/requests.json",
        {"api_key": "K", "service_code": "0101", "lat": "28.95", "long": "105.41", "description": "a\x00b"},
    )
    assert response.status_code == 400 and "description" in response.json()[0]["description"]


@pytest.mark.parametrize("bad", [CONTROLS, "\ud800 lone surrogate", "\ufffe\uffff", "\x00"])
def test_the_writers_drop_what_xml_forbids(bad):
    ET.fromstring(to_xml("service_requests", "request", [{"description": f"a{bad}b", "nested": {"x": bad}}]))
    book = load_workbook(io.BytesIO(write_xlsx(["name"], [[f"a{bad}b"]], title="t")))
    value = book.active.cell(row=2, column=1).value
    assert value.startswith("a") and value.endswith("b") and all(ord(ch) >= 32 or ch in ALLOWED for ch in value)
