"""Factories for the incidents tests: categories, routing rules, users in roles, small images."""

from __future__ import annotations

import datetime
import io
import itertools
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from layers.grids.models import Department, DutyKind
from layers.incidents.models import Case, Category, RoutingRule
from layers.incidents.services import report_case
from tests.factories import box, make_department, make_person, make_person_on_duty, tree_with_departments

_sequence = itertools.count(1)


def make_category(code: str = "0101", parent: Category | None = None, **fields) -> Category:
    if parent is None and len(code) == 4:
        parent, _ = Category.objects.get_or_create(code=code[:2], defaults={"name_zh": "大类", "name_en": "major"})
    fields.setdefault("name_zh", f"类别{code}")
    fields.setdefault("name_en", f"category {code}")
    return Category.objects.create(code=code, parent=parent, **fields)


def make_rule(category: Category, department: Department) -> RoutingRule:
    return RoutingRule.objects.create(category=category, department=department)


def make_jurisdiction_department(bbox, **fields) -> Department:
    return make_department(jurisdiction=box(*bbox), **fields)


def report_at(category: Category, lon: float, lat: float, **fields) -> Case:
    """A case reported through the intake service at lon/lat (EPSG:4326, as typed), with `fields`."""
    case, _ = report_case(
        category=category,
        point=Point(lon, lat, srid=4326),
        input_point={"lon": lon, "lat": lat},
        input_srs="EPSG:4326",
        **fields,
    )
    return case


def make_user(*groups: str, person=None, department=None, name: str | None = None) -> User:
    number = next(_sequence)
    user = User(username=f"user{number}")
    user.set_unusable_password()  # tests authenticate with force_authenticate; no slow hashing
    user.save()
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    if person is None and (department is not None or name):
        person = make_person(name or f"staff {number}", department=department)
    if person is not None:
        person.user = user
        person.save(update_fields=["user"])
    return user


def image_bytes(fmt: str = "PNG", size=(8, 6), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def image_upload(name: str = "photo.png", fmt: str = "PNG", size=(8, 6)) -> SimpleUploadedFile:
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, image_bytes(fmt, size), content_type=content_type)


def case_indexes() -> list[tuple[str, str]]:
    """The case table's indexes (name, definition): what a bulk write may set aside must come back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incidents_case' ORDER BY 1")
        return cursor.fetchall()


def case_foreign_keys() -> list[tuple[str, str]]:
    """The foreign keys of the case and trail tables (name, definition), likewise."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid IN ('incidents_case'::regclass, 'incidents_trailentry'::regclass) ORDER BY 1"
        )
        return cursor.fetchall()


def intake_world() -> dict:
    """tree_with_departments() with what intake needs besides: the urban-management bureau (城管局) as
    the default department of category 0101, and an officer on duty in grid g1."""
    grids = tree_with_departments()
    make_category("0101", default_department=grids["cgj"], handle_hours=24)
    officer = make_person_on_duty(grids["g1"], DutyKind.OFFICER, "李网格员")
    return {"grids": grids, "cgj": grids["cgj"], "officer": officer}


# The clocks count in China's time (the working day, the official calendar): tests give times there.
CST = ZoneInfo("Asia/Shanghai")


def china_time(*parts) -> datetime.datetime:
    """datetime(*parts) in China Standard Time."""
    return datetime.datetime(*parts, tzinfo=CST)
