"""Numbers a client sends are ASCII digits: '²' or '①' pass str.isdigit() and then break int() (a 500)."""

import re
from pathlib import Path

import pytest

from common.text import is_ascii_number

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("gridgis", "fixtures", "maps", "layers", "common", "frontend", "field", "citizen", "office")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0", True),
        ("510502", True),
        ("", False),
        ("²", False),
        ("١٢", False),
        ("①", False),
        ("1.5", False),
        ("-3", False),
    ],
)
def test_is_ascii_number(text, expected):
    assert is_ascii_number(text) is expected


def test_no_module_checks_numbers_with_isdigit():
    """The class: every check of client text goes through is_ascii_number, so none is left to forget."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PROJECT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "common" / "text.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.isdigit\(\)", line)
    ]
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/requests/%C2%B2.json",
        "/open311/v2/requests.json?service_request_id=%C2%B2",
        "/ogc/collections/cases/items/%C2%B2",
    ],
)
def test_unicode_digits_answer_4xx(client, django_user_model, path):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("sup", password="x")
    user.groups.add(Group.objects.get(name="supervisor"))
    client.force_login(user)
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
